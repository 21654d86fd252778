"""The fast engine of two checkouts side by side: seconds per target, one core, interleaved.

For a change that must not change speed (a refactor, a new path that should not touch the
others): each repeat times the base checkout then this one, at every shape, in fresh
processes, so the machine's noise hits both alike. Prints medians and their ratio.

    git worktree add /tmp/base main
    python benchmarks/compare_checkouts.py --base /tmp/base [--targets 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SHAPES = ["dream5-like", "single-cell-like", "single-cell-sparse", "single-cell-normalised"]


def time_checkout(checkout: Path, shape: str, targets: int, trees: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.pop("NUMBA_CACHE_DIR", None)  # each checkout's own cache, beside its sources
    output = subprocess.run(
        [sys.executable, str(checkout / "benchmarks" / "engine.py"), "--one",
         json.dumps([shape, "fast", targets, 1, trees])],
        check=True, capture_output=True, text=True, env=env, cwd=checkout).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds_per_target"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", default=SHAPES)
    arguments = parser.parse_args()
    checkouts = {"base": arguments.base.resolve(), "this": HERE}
    times = {(shape, name): [] for shape in arguments.shapes for name in checkouts}
    for shape in arguments.shapes:  # compile (or load the cache) outside the timings
        for checkout in checkouts.values():
            time_checkout(checkout, shape, 1, 2)
    for _ in range(arguments.repeats):
        for shape in arguments.shapes:
            for name, checkout in checkouts.items():
                times[shape, name].append(
                    time_checkout(checkout, shape, arguments.targets, arguments.trees))
    print(f"fast engine, {arguments.trees} trees, one core, medians of {arguments.repeats}")
    print(f"{'shape':20s} {'base s/target':>14s} {'this s/target':>14s} {'this / base':>12s}")
    for shape in arguments.shapes:
        base = statistics.median(times[shape, "base"])
        this = statistics.median(times[shape, "this"])
        print(f"{shape:20s} {base:14.4f} {this:14.4f} {this / base:12.3f}   "
              f"(base {times[shape, 'base']}, this {times[shape, 'this']})")


if __name__ == "__main__":
    main()
