"""The engine compiles once, not per process: where its compiled code is kept, what setup leaves
there, and the portable cache a code channel ships."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import genie_assets
from genie_assets.engine import compile_cache
from genie_assets.engine.compile_cache import (
    MANIFEST,
    PORTABLE_TARGET,
    portable_cache,
    runtime_facts,
    use_shipped_cache,
)

PACKAGE = Path(genie_assets.__file__).resolve().parent

FIRST_CALL = """
import json, sys, time
import numpy as np, pandas as pd
from genie_assets.engine import compile_cache
if len(sys.argv) > 1:
    compile_cache.use_shipped_cache(compile_cache.Path(sys.argv[1]), log=lambda m: None)
from genie_assets.engine import genie3
frame = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 10)),
                     columns=[f"g{i}" for i in range(10)])
started = time.perf_counter()
edges = genie3(frame, n_trees=20)
print(json.dumps({"compile_seconds": compile_cache.compile_seconds(),
                  "first_call_seconds": time.perf_counter() - started,
                  "cpu": compile_cache.numba.config.CPU_NAME, "n_edges": len(edges)}))
"""


def first_call(*args: str, **environment: str) -> dict:
    """The first genie3() call of a new Python process, on a 50 × 10 matrix."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU")}
    done = subprocess.run([sys.executable, "-c", FIRST_CALL, *args], check=True,
                          capture_output=True, text=True, env={**base, **environment})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_new_process_starts_computing_within_seconds_after_setup():
    figures = first_call()
    print(f"first call after setup: {figures['compile_seconds']:.2f} s loading compiled code, "
          f"{figures['first_call_seconds']:.2f} s in all")
    assert figures["n_edges"] == 90
    assert figures["compile_seconds"] < 10, (
        f"the first call compiled for {figures['compile_seconds']:.0f} s: make setup should "
        f"have left the engine compiled in {compile_cache.cache_dir()}")


def cache_folder_name(package_copy: Path) -> str:
    code = "from genie_assets.engine import compile_cache; print(compile_cache.cache_dir())"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(package_copy)},
                          cwd=package_copy)
    folder = Path(done.stdout.strip())
    return folder.name


def test_the_cache_is_keyed_by_every_engine_module_not_by_where_the_code_lies(tmp_path):
    copies = []
    for name in ("here", "there"):
        shutil.copytree(PACKAGE, tmp_path / name / "genie_assets",
                        ignore=shutil.ignore_patterns("__pycache__", "engine_cache"))
        copies.append(tmp_path / name)
    assert cache_folder_name(copies[0]) == cache_folder_name(copies[1]) \
        == compile_cache.cache_dir().name, "the same code finds the same cache anywhere"
    # An edit to a helper that is inlined into the grower, not to the grower's own file.
    helper = copies[1] / "genie_assets" / "engine" / "workspace.py"
    helper.write_text(helper.read_text() + "\n# edited\n")
    assert cache_folder_name(copies[1]) != cache_folder_name(copies[0])


def test_a_shipped_cache_that_does_not_fit_is_refused_with_the_reason(tmp_path):
    facts = {**runtime_facts(), "python": "3.9", "numba": "0.1.0"}
    (tmp_path / MANIFEST).write_text(json.dumps(facts))
    said = []
    assert not use_shipped_cache(tmp_path, log=said.append)
    assert "python 3.9 here" in said[0] and "numba 0.1.0 here" in said[0], said
    assert "compiling" in said[0]
    assert os.environ.get("NUMBA_CPU_NAME") != PORTABLE_TARGET["NUMBA_CPU_NAME"]
    said.clear()
    assert not use_shipped_cache(tmp_path / "nothing", log=said.append)
    assert "none shipped" in said[0]


def test_the_portable_cache_serves_a_new_process_compiled_for_x86_64_v3(tmp_path):
    shipped = portable_cache()
    manifest = json.loads((shipped / MANIFEST).read_text())
    assert manifest == runtime_facts()
    figures = first_call(str(shipped), NUMBA_CACHE_DIR=str(tmp_path / "empty"))
    print(f"first call with the shipped cache: {figures['compile_seconds']:.2f} s loading")
    assert figures["cpu"] == PORTABLE_TARGET["NUMBA_CPU_NAME"]
    assert figures["compile_seconds"] < 10
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").rglob("*.nbc")), \
        "nothing was compiled into the process's own cache"
