"""A forest's bootstrap size at many cells: RF with max_samples against the full bootstrap (and
GBM), on synthetic single-cell data whose network is known.

The data: 20,000 cells, 2,000 regulators driving --targets target genes through a sparse random
network (about three true regulators each), as log1p of counts per 10,000 with ~88 % zeros
(benchmarks/engine.py, synthetic_network). Every configuration grows --trees trees (the forests'
figures are scaled to 1,000 trees: a tree's cost does not depend on how many are grown), on all
cores; prints CPU seconds per target and AUPR / AUROC against the known network, and each
configuration's time and AUPR against the full bootstrap's. Never asserts a time.

    python benchmarks/large_n.py [--cells 20000] [--targets 40] [--trees 100]
                                 [--max-samples 0.1 0.3] [--max-samples-trees 1000]

A smaller bootstrap grows more varied trees, which may need more of them to average out:
--max-samples-trees grows that many for the max_samples configurations (default --trees).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import synthetic_network  # noqa: E402  (benchmarks/engine.py)

from genie_assets.engine import genie3  # noqa: E402
from genie_assets.network.evaluation import score_network  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20_000)
    parser.add_argument("--regulators", type=int, default=2000)
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--max-samples", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--max-samples-trees", type=int, default=None)
    arguments = parser.parse_args()
    n_regulators = arguments.regulators
    frame, regulators, gold = synthetic_network(
        arguments.cells, n_regulators + arguments.targets, n_regulators, counts=True,
        log_depth=-2.5, per_10k=True)
    frame = frame.loc[:, frame.std() > 0]
    regulators = [r for r in regulators if r in frame.columns]
    targets = [g for g in frame.columns[n_regulators:]]
    gold = gold[gold["target"].isin(targets) & gold["regulator"].isin(regulators)]
    cores = os.cpu_count() or 1
    print(f"{len(frame)} cells, {len(regulators)} regulators, {len(targets)} targets with "
          f"{int(gold['label'].sum())} true edges, {(frame.to_numpy() == 0).mean():.0%} zeros; "
          f"forests' seconds scaled to 1,000 trees, {cores} cores\n")
    sampled_trees = arguments.max_samples_trees or arguments.trees
    configurations = {f"RF, full bootstrap, {arguments.trees} trees": {
        "method": "RF", "n_trees": arguments.trees}}
    for fraction in arguments.max_samples:
        configurations[f"RF, max_samples {fraction:g}, {sampled_trees} trees"] = {
            "method": "RF", "max_samples": fraction, "n_trees": sampled_trees}
    configurations["GBM (early stopping)"] = {"method": "GBM"}
    print("| configuration | CPU s/target | AUPR | AUROC | time / full | AUPR − full |")
    print("|---|---|---|---|---|---|")
    full = None
    for name, settings in configurations.items():
        forest = settings["method"] != "GBM"
        genie3(frame, regulators, targets[:1], **{**settings, "n_trees": 2})  # compiled, warm
        started = time.process_time()
        edges = genie3(frame, regulators, targets, n_jobs=cores, **settings)
        seconds = (time.process_time() - started) / len(targets)
        if forest:
            seconds *= 1000 / settings["n_trees"]
        scores = score_network(edges, gold)
        if full is None:
            full = (seconds, scores["aupr"])
        print(f"| {name} | {seconds:.3g} | {scores['aupr']:.3f} | {scores['auroc']:.3f} | "
              f"{seconds / full[0]:.3f} | {scores['aupr'] - full[1]:+.3f} |", flush=True)


if __name__ == "__main__":
    main()
