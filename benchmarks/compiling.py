"""What compiling costs the fast engine, and what the shipped portable code costs it in speed.

Measured side by side in one run, each measurement in its own process:
- the first genie3() call on a 50 × 10 matrix with the cache `make setup` built, and with an
  empty cache (the second is what every fresh process paid before: pass --cold to run it, it
  takes minutes);
- seconds per target of the fast engine compiled for this machine's CPU against the same code
  compiled for x86-64-v3 (the cache shipped to SageMaker), interleaved, at the DREAM5-like and
  single-cell shapes of benchmarks/engine.py.

    python benchmarks/compiling.py [--repeats 3] [--targets 8] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FIRST_CALL = """
import json, time
started = time.perf_counter()
import numpy as np, pandas as pd
from genie_assets.engine import genie3
from genie_assets.engine.compile_cache import compile_seconds
frame = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 10)),
                     columns=[f"g{i}" for i in range(10)])
before = time.perf_counter()
genie3(frame, n_trees=100)
print(json.dumps({"import_seconds": before - started, "compile_seconds": compile_seconds(),
                  "first_call_seconds": time.perf_counter() - before}))
"""


def run_json(code_or_args, environment=None) -> dict:
    command = ([sys.executable, "-c", code_or_args] if isinstance(code_or_args, str)
               else [sys.executable, __file__, "--one", json.dumps(code_or_args)])
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env={**os.environ, **(environment or {})}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--one")
    args = parser.parse_args()
    if args.one:
        from engine import measure

        shape, n_targets, n_trees = json.loads(args.one)
        print(json.dumps(measure(shape, "fast", n_targets, 1, n_trees)))
        return

    from genie_assets.engine.compile_cache import PORTABLE_TARGET, portable_cache

    warm = [run_json(FIRST_CALL) for _ in range(args.repeats)]
    print("first genie3() call, 50 × 10, 100 trees, with the setup's cache: "
          f"{statistics.median(r['first_call_seconds'] for r in warm):.2f} s, of which "
          f"{statistics.median(r['compile_seconds'] for r in warm):.2f} s loading compiled code "
          f"(import {statistics.median(r['import_seconds'] for r in warm):.2f} s)")
    if args.cold:
        with tempfile.TemporaryDirectory() as empty:
            cold = run_json(FIRST_CALL, {"NUMBA_CACHE_DIR": empty})
        print(f"the same with an empty cache: {cold['first_call_seconds']:.1f} s "
              f"({cold['compile_seconds']:.1f} s compiling)")

    portable = {**PORTABLE_TARGET, "NUMBA_CACHE_DIR": str(portable_cache())}
    print(f"\n{'shape':18s} {'this CPU s/target':>18s} {'x86-64-v3 s/target':>19s} "
          f"{'portable / this CPU':>20s}")
    for shape in ("dream5-like", "single-cell-like", "single-cell-sparse"):
        host, shipped = [], []
        for _ in range(args.repeats):  # interleaved, so the machine's noise hits both alike
            host.append(run_json([shape, args.targets, args.trees])["seconds_per_target"])
            shipped.append(run_json([shape, args.targets, args.trees],
                                    portable)["seconds_per_target"])
        h, p = statistics.median(host), statistics.median(shipped)
        print(f"{shape:18s} {h:18.3f} {p:19.3f} {p / h:20.3f}")


if __name__ == "__main__":
    main()
