"""Seconds per target of the reference (scikit-learn) and fast (numba) GENIE3 engines.

Measured side by side in one run, on the same data and cores, at these shapes:
- DREAM5-like: 805 samples × 1,643 genes, 195 regulators;
- single-cell-like: 2,000 cells × 5,000 genes, every gene a regulator (counts, ~50% zeros);
- single-cell-sparse: the same with ~88% zeros, as droplet single-cell data have;
- single-cell-normalised: the sparse counts as users feed GENIE3 after scanpy/Seurat's usual
  preprocessing, log1p of counts per 10,000 with varied library sizes (~88% zeros, nearly
  every non-zero value distinct, ~250 per gene);
- single-cell-normalised-20k: the same preprocessing at 20,000 cells × 2,000 genes (targets
  subsampled; both engines grow TREES_TIMED trees and the figures are per 1,000 trees: a tree's
  cost does not depend on how many are grown, and scikit-learn takes ~6 min per target there).
Prints per-core seconds per target for both engines and their ratio, each engine's peak memory
(every measurement runs in its own process), and the fast engine's scaling from 1 core to all.
Timings are medians of --repeats runs; the machines are shared, so read ratios, not seconds.

    python benchmarks/engine.py [--repeats 3] [--reference-targets 2] [--fast-targets 16]
                                [--shapes ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

SHAPES = {
    "dream5-like": dict(n_samples=805, n_genes=1643, n_regulators=195, counts=False),
    "single-cell-like": dict(n_samples=2000, n_genes=5000, n_regulators=5000, counts=True),
    "single-cell-sparse": dict(n_samples=2000, n_genes=5000, n_regulators=5000, counts=True,
                               log_depth=-2.5),
    "single-cell-normalised": dict(n_samples=2000, n_genes=5000, n_regulators=5000,
                                   counts=True, log_depth=-2.5, per_10k=True),
    "single-cell-normalised-20k": dict(n_samples=20_000, n_genes=2000, n_regulators=2000,
                                       counts=True, log_depth=-2.5, per_10k=True),
}
# Shapes where fewer trees are timed (figures scaled to --trees) and targets capped.
TREES_TIMED = {"single-cell-normalised-20k": 50}
MOST_TARGETS = {"single-cell-normalised-20k": 2}


def synthetic_expression(n_samples, n_genes, n_regulators, counts, log_depth=-0.5,
                         per_10k=False, seed=0):
    """Regulators drive targets through a sparse random network; counts mimic scRNA-seq zeros
    (Poisson with log rate value + log_depth: the lower, the more zeros). per_10k: cells
    differ in library size (log-normal, sd 0.5) and each is scaled to 10,000 counts before
    log1p, as scanpy's normalize_total + log1p do."""
    frame, regulators, _ = synthetic_network(n_samples, n_genes, n_regulators, counts,
                                             log_depth, per_10k, seed)
    return frame, regulators


def synthetic_network(n_samples, n_genes, n_regulators, counts, log_depth=-0.5,
                      per_10k=False, seed=0):
    """synthetic_expression, with the network that drives it: (frame, regulators, gold), gold
    labelling every (regulator, target) pair of the genes after the regulators (about three
    true regulators each), as read_gold_standard does."""
    rng = np.random.default_rng(seed)
    regulators = rng.normal(size=(n_samples, n_regulators))
    present = rng.random((n_regulators, n_genes)) < 3 / n_regulators
    weights = rng.normal(size=(n_regulators, n_genes)) * present
    values = np.tanh(regulators @ weights) + 0.5 * rng.normal(size=(n_samples, n_genes))
    values[:, :n_regulators] = regulators[:, :min(n_regulators, n_genes)]
    if counts:
        rates = np.exp(values + log_depth)
        if per_10k:
            rates *= np.exp(rng.normal(scale=0.5, size=(n_samples, 1)))
            raw = rng.poisson(rates).astype(np.float64)
            library = np.maximum(raw.sum(axis=1, keepdims=True), 1.0)
            values = np.log1p(raw / library * 1e4)
        else:
            values = np.log1p(rng.poisson(rates)).astype(np.float64)
    genes = [f"g{i:05d}" for i in range(n_genes)]
    frame = pd.DataFrame(values, columns=genes)
    driven = present[:, n_regulators:]
    gold = pd.DataFrame({
        "regulator": np.repeat(genes[:n_regulators], driven.shape[1]),
        "target": np.tile(genes[n_regulators:], n_regulators),
        "label": driven.reshape(-1).astype(np.int64)})
    return frame, genes[:n_regulators], gold


def shape_inputs(shape: str, n_targets: int) -> tuple[pd.DataFrame, list, list]:
    """A shape's matrix without constant genes, its regulators, and its last n_targets genes
    (at most MOST_TARGETS) as the targets timed."""
    frame, regulators = synthetic_expression(**SHAPES[shape])
    frame = frame.loc[:, ~(frame.std() == 0)]
    regulators = [r for r in regulators if r in frame.columns]
    n_targets = min(n_targets, MOST_TARGETS.get(shape, n_targets))
    return frame, regulators, list(frame.columns[-n_targets:])


def measure(shape: str, engine: str, n_targets: int, n_jobs: int, n_trees: int) -> dict:
    """One timing in this process: seconds per target after a warm-up (numba compiles once),
    for n_trees trees (see TREES_TIMED)."""
    from genie_assets.engine import genie3

    frame, regulators, targets = shape_inputs(shape, n_targets)
    timed = min(n_trees, TREES_TIMED.get(shape, n_trees))
    genie3(frame, regulators, targets[:1], n_trees=2, engine=engine)
    started = time.perf_counter()
    genie3(frame, regulators, targets, n_trees=timed, engine=engine, n_jobs=n_jobs)
    seconds = (time.perf_counter() - started) * n_trees / timed
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds_per_target": seconds / n_targets, "peak_mib": peak_mib,
            "core_seconds_per_target": seconds * n_jobs / n_targets}


def in_subprocess(*args) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(args)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def median_of(repeats, *args) -> dict:
    runs = [in_subprocess(*args) for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-targets", type=int, default=2)
    parser.add_argument("--fast-targets", type=int, default=16)
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*json.loads(args.one))))
        return

    cores = os.cpu_count() or 1
    print(f"GENIE3 engines, {args.trees} trees, K = sqrt, medians of {args.repeats} runs, "
          f"{cores} cores available\n")
    header = (f"{'shape':26s} {'reference s/target':>19s} {'fast s/target':>14s} "
              f"{'ratio':>7s} {'ref peak MiB':>13s} {'fast peak MiB':>14s}")
    print(header)
    print("-" * len(header))
    scaling = {}
    for shape in args.shapes:
        reference = median_of(args.repeats, shape, "reference", args.reference_targets, 1,
                              args.trees)
        fast = median_of(args.repeats, shape, "fast", args.fast_targets, 1, args.trees)
        ratio = reference["seconds_per_target"] / fast["seconds_per_target"]
        print(f"{shape:26s} {reference['seconds_per_target']:19.3f} "
              f"{fast['seconds_per_target']:14.4f} {ratio:7.1f} "
              f"{reference['peak_mib']:13.0f} {fast['peak_mib']:14.0f}", flush=True)
        if cores > 1:
            parallel = median_of(args.repeats, shape, "fast", args.fast_targets, cores,
                                 args.trees)
            scaling[shape] = (fast["seconds_per_target"], parallel["seconds_per_target"])
    if scaling:
        print(f"\nfast engine, 1 → {cores} cores (parallel efficiency = t1 / (cores × t{cores}))")
        for shape, (one, many) in scaling.items():
            print(f"{shape:26s} 1 core {one:.4f} s/target, {cores} cores {many:.4f} s/target, "
                  f"speed-up {one / many:.2f}, efficiency {one / (cores * many):.2f}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
