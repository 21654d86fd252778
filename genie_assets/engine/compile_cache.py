"""Compiling the engine before it is needed, and the portable cache SageMaker jobs ship.

Where compiled code is kept, and compiling an entry kernel apart from its call, are
`compiling`'s. numba also keys compiled code by the CPU it was compiled for (name and
features), so a cache is used only on a machine that compiles for the same target.
`PORTABLE_TARGET` is one that every x86-64 instance family SageMaker trains on has
(x86-64-v3: AVX2, FMA, BMI2); a cache built for it is shipped with the code channel
(`portable_cache`, `use_shipped_cache`).

`python -m genie_assets.engine.compile_cache` compiles through the engine's public entry
points (a tree or a round on small data of each rank type), so what it leaves is exactly what
a later call looks up, and says what it compiles as it goes.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Optional

import numba

from genie_assets.engine.compiling import (  # noqa: F401 - the cache's public names
    ENGINE_DIR,
    cache_dir,
    cache_root,
    compile_seconds,
    engine_source_hash,
    reporting_progress,
    say,
)

PORTABLE_TARGET = {"NUMBA_CPU_NAME": "x86-64-v3", "NUMBA_CPU_FEATURES": ""}
PORTABLE_FLAGS = ("avx2", "fma", "bmi2", "movbe", "f16c")
MANIFEST = "manifest.json"
SHIPPED_FOLDER = "engine_cache"


def compile_for_common_shapes(large: bool = False, log=say) -> list[str]:
    """Compiles, through their public entry points, the forests' three growers, boosting and the
    forests on shared bootstraps for the rank types of up to 65,536 samples (uint8 and uint16
    ranks) and, with `large`, the first two for more samples too (whose sample numbers take 32
    bits); says each as it starts, and every 20 s how long it has taken; returns what it
    compiled, e.g. 'uint8 ranks of 20 samples'."""
    import numpy as np

    from genie_assets.engine.boosting import boosted_importances
    from genie_assets.engine.grower import GROWERS, grow_importances
    from genie_assets.engine.ranking import rank_regulators
    from genie_assets.engine.subsampling import subsampled_importances

    rng = np.random.default_rng(0)
    # (samples, decimals the values are rounded to: fewer distinct values, narrower ranks)
    shapes = [(20, None), (300, None)]
    if large:
        shapes += [(70_000, 0), (70_000, 2), (70_000, None)]
    # (what, the grower where it is a forest's): each grower is its own kernel.
    kinds = [*((f"forests ({name})", grower) for name, grower in GROWERS.items()),
             ("boosting", None), ("shared bootstraps", None)]
    steps = [(n, d, kind, grower) for n, d in shapes for kind, grower in kinds
             if kind != "shared bootstraps" or n <= 1 << 16]
    done = []
    for step, (n_samples, decimals, kind, grower) in enumerate(steps, start=1):
        values = rng.normal(size=(2, n_samples))
        if decimals is not None:
            values = np.round(values, decimals)
        ranked = rank_regulators(values)
        inputs = np.arange(2, dtype=np.int64)
        y = values[0].copy()
        what = f"{kind} for {ranked.ranks.dtype} ranks ({step} of {len(steps)}, this CPU)"
        with reporting_progress(what, log):
            # One tree or round on two regulators: the call compiles (or loads) its kernel
            # for these types, as a real call of the same types will look it up.
            if grower is not None:
                grow_importances(ranked, inputs, y, n_trees=1, n_candidates=1,
                                 extra_trees=False, seed=1, grower=grower)
            elif kind == "boosting":
                boosted_importances(ranked, inputs, y, n_rounds=1, n_candidates=1,
                                    max_depth=3, learning_rate=0.01, n_inbag=n_samples - 1,
                                    early_stopping_window=25, seed=1)
            else:
                subsampled_importances(ranked, [inputs], y[None, :], [1], bootstrap_seed=1,
                                       n_trees=1, n_candidates=[1], n_drawn=n_samples - 1)
        label = f"{ranked.ranks.dtype} ranks of {n_samples} samples"
        if label not in done:
            done.append(label)
    return done


def host_has_portable_target() -> bool:
    """Whether this CPU runs code compiled for PORTABLE_TARGET (Linux x86-64 only)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return all(flag in flags for flag in PORTABLE_FLAGS)


def runtime_facts() -> dict:
    """What a cache is valid for: Python, numba and the engine's sources (the CPU target is the
    shipped cache's own, PORTABLE_TARGET)."""
    import numpy

    return {"python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "numba": numba.__version__, "numpy": numpy.__version__.split(".")[0],
            "engine": engine_source_hash(),
            "cpu": PORTABLE_TARGET["NUMBA_CPU_NAME"]}


def use_shipped_cache(folder: Path, log=print) -> bool:
    """Points this process at a cache shipped in `folder` (portable_cache's) when it fits
    this Python, numba and CPU; says why not and leaves numba to compile otherwise.

    Must run before the engine's compiled modules are imported: numba chooses the CPU target
    once, when the first compiled function is declared.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        log("engine cache: none shipped; compiling the engine for this machine (1-2 min)")
        return False
    shipped = json.loads(manifest_path.read_text())
    here = runtime_facts()
    differences = [f"{key} {shipped.get(key)} here {value}" for key, value in here.items()
                   if key != "cpu" and shipped.get(key) != value]
    if not host_has_portable_target():
        differences.append(f"this CPU lacks {PORTABLE_TARGET['NUMBA_CPU_NAME']}")
    if differences:
        log("engine cache: the shipped one does not fit (" + "; ".join(differences) +
            "); compiling the engine for this machine (1-2 min)")
        return False
    _compile_for_portable_target(folder)
    log(f"engine cache: using the shipped one (numba {here['numba']}, "
        f"{PORTABLE_TARGET['NUMBA_CPU_NAME']})")
    return True


def portable_cache(folder: Optional[Path] = None) -> Path:
    """The engine compiled for PORTABLE_TARGET, with a manifest of what it fits, for shipping
    (use_shipped_cache); in `folder`, by default cache_root()/portable. Compiled in a child
    process the first time for an engine version (minutes), once: other processes wait."""
    import fcntl
    import subprocess

    folder = folder or cache_root() / "portable"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _fits(folder) and len(shipped_files(folder)) > 1:
            return folder
        (folder / MANIFEST).unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "genie_assets.engine.compile_cache",
                        "--portable", str(folder)], check=True, stdout=subprocess.DEVNULL)
        write_manifest(folder)
    return folder


def _fits(folder: Path) -> bool:
    path = folder / MANIFEST
    return path.is_file() and json.loads(path.read_text()) == runtime_facts()


def shipped_files(folder: Path) -> list[Path]:
    """The files of portable_cache's folder that belong to this engine version."""
    version = Path("genie-assets") / cache_dir().name
    return [folder / MANIFEST] + sorted((folder / version).glob("*.nb[ic]"))


def shipped_cache_folder() -> Path:
    """Where a code channel carries the portable cache: beside the engine, in the package."""
    return ENGINE_DIR.parent / SHIPPED_FOLDER


def shared_cache_name() -> str:
    """A name for the portable cache that says what it fits, for a store shared by jobs."""
    facts = runtime_facts()
    return (f"engine-{facts['engine']}-py{facts['python']}-numba{facts['numba']}-"
            f"numpy{facts['numpy']}-{facts['cpu']}")


def compile_portable_into(folder: Path, log=print) -> bool:
    """Has this process compile the engine for PORTABLE_TARGET into `folder`, so that what it
    compiles can be shared (then write_manifest); False where the CPU cannot run it. Must run
    before the engine's compiled modules are imported, as use_shipped_cache."""
    if not host_has_portable_target():
        log(f"engine cache: this CPU lacks {PORTABLE_TARGET['NUMBA_CPU_NAME']}; compiling the "
            "engine for this machine only (1-2 min)")
        return False
    _compile_for_portable_target(folder)
    log(f"engine cache: none for numba {numba.__version__} yet; compiling the engine for "
        f"{PORTABLE_TARGET['NUMBA_CPU_NAME']} (1-2 min) to share with later jobs")
    return True


def write_manifest(folder: Path) -> None:
    (folder / MANIFEST).write_text(json.dumps(runtime_facts(), indent=2, sort_keys=True))


def _compile_for_portable_target(folder: Path) -> None:
    """numba's settings for this process (not its environment: the engine reads and writes no
    environment variable): compile for PORTABLE_TARGET, cache under `folder`. numba reads the
    target once, when the first compiled function is declared: too late after that."""
    from numba.core.registry import cpu_target

    if "_toplevel_target_context" in vars(cpu_target):
        raise RuntimeError("the engine's cache must be chosen before numba sets up its CPU "
                           "target (before the engine's compiled modules are imported)")
    numba.config.CPU_NAME = PORTABLE_TARGET["NUMBA_CPU_NAME"]
    numba.config.CPU_FEATURES = PORTABLE_TARGET["NUMBA_CPU_FEATURES"]
    numba.config.CACHE_DIR = str(folder)


def main(argv: Optional[list[str]] = None) -> int:
    """python -m genie_assets.engine.compile_cache [--large] [--portable FOLDER]
    [--with-portable]: compile the engine ahead, for this CPU or for PORTABLE_TARGET into FOLDER;
    --with-portable also builds portable_cache() alongside."""
    argv = sys.argv[1:] if argv is None else argv
    if "--portable" in argv:  # --portable FOLDER: for shipping (portable_cache)
        _compile_for_portable_target(Path(argv[argv.index("--portable") + 1]))
    portable = None
    if "--with-portable" in argv and host_has_portable_target():
        import subprocess

        # numba compiles on one core: the cache SageMaker jobs ship compiles on another
        # meanwhile, instead of later, in the first test or job that needs it.
        portable = subprocess.Popen([sys.executable, "-c", "from genie_assets.engine."
                                     "compile_cache import portable_cache; portable_cache()"])
    started = time.perf_counter()
    done = compile_for_common_shapes(large="--large" in argv)
    if portable is not None:
        with reporting_progress("the cache SageMaker jobs ship (for any x86-64-v3 CPU), "
                                "on the second core"):
            failed = portable.wait() != 0
        if failed:
            print("engine cache: compiling the portable cache failed; the first SageMaker job "
                  "will compile it", file=sys.stderr)
    print(f"engine compiled for {', '.join(done)} in {time.perf_counter() - started:.1f} s "
          f"({compile_seconds():.1f} s compiling or loading), cached in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
