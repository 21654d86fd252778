"""This project's engines against their peers, side by side in one run: arboreto's GRNBoost2 and
GENIE3, scenic-rs's GENIE3 and GRNBoost2 and rustscenic's GRNBoost2 (Rust, one thread each:
RAYON_NUM_THREADS=1), all in their own environment, .genie/peers, which this script builds
(they are not project dependencies), and R's Bioconductor GENIE3 (Debian's r-bioc-genie3,
installed where apt and root allow; skipped, with the reason, where it is not available).

Shapes: synthetic ones (benchmarks/engine.py's generator) and real cells, scanpy's
`pbmc68k_reduced` `.raw` (700 PBMCs × 765 genes, log-normalised), with every gene a regulator
or with pySCENIC's human TFs (59 of them are genes there); both files are taken from PyPI
wheels into .genie/data (genie_assets_tests/real_data.py).

Prints, per shape, CPU seconds per target on one core (medians of --repeats, the engines
interleaved so the machine's noise hits all alike) and the ratios the README and
docs/methods.md quote; AUPR and AUROC on DREAM4 networks 1-3; and the column-permutation check
(per-target Spearman between two runs, same seed, the matrix's columns in two orders). Never
asserts a time.

    python benchmarks/peers.py [--repeats 3] [--shapes ...] [--engines ...] [--accuracy-engines ...]
                               [--seeds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import synthetic_expression  # noqa: E402  (benchmarks/engine.py)

from genie_assets.engine import genie3  # noqa: E402
from genie_assets.engine.core import SHARED_BOOTSTRAP_GROUP  # noqa: E402
from genie_assets.inputs.expression import read_expression  # noqa: E402
from genie_assets.inputs.gold_standard import read_gold_standard  # noqa: E402
from genie_assets.network.evaluation import score_network  # noqa: E402

PEER_ENV = ROOT / ".genie" / "peers"
# arboreto 0.1.6 is its last release; it runs its per-target step (peer_arboreto.py) with the
# current scikit-learn, as `pip install arboreto` gives users today.
PEER_PACKAGES = ["arboreto==0.1.6", "dask[dataframe]", "distributed", "scikit-learn", "pandas",
                 "numpy", "pyarrow", "scenic-rs==0.3.0", "rustscenic==0.5.1"]
PEER_MODULES = ["arboreto", "scenic_rs", "rustscenic"]
DREAM4 = Path(os.environ.get("GENIE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "dream4"

SHAPES = {
    "dream5-like": dict(n_samples=805, n_genes=1643, n_regulators=195, counts=False),
    "single-cell-like": dict(n_samples=2000, n_genes=5000, n_regulators=5000, counts=True),
    "20k-cells": dict(n_samples=20_000, n_genes=2000, n_regulators=2000, counts=True,
                      log_depth=-2.5, per_10k=True),
    "pbmc68k": "every gene a regulator",
    "pbmc68k-tfs": "pySCENIC's human TFs",
}
REAL_SHAPES = {"pbmc68k", "pbmc68k-tfs"}
# Rounds for the boosting engines compared at equal work (no early stopping).
EQUAL_ROUNDS = 100
# The forests' bootstrap at 20,000 cells (max_samples): 2,000 draws per tree.
LARGE_N_MAX_SAMPLES = 0.1
# max_samples' forests share each tree's compacted bootstrap among a group of targets
# (engine.subsampling), so they are timed on a group as a shard holds: (targets, trees grown,
# scaled to FOREST_TREES: a tree's cost does not depend on how many are grown).
GROUPED = {"fast RF max_samples": (SHARED_BOOTSTRAP_GROUP, 100)}
FOREST_TREES = 1000

OURS = {
    "fast RF": {"method": "RF"},
    "fast RF max_samples": {"method": "RF", "max_samples": LARGE_N_MAX_SAMPLES},
    "fast ET": {"method": "ET"},
    "fast GBM": {"method": "GBM"},
    f"fast GBM {EQUAL_ROUNDS} rounds": {"method": "GBM", "n_trees": EQUAL_ROUNDS,
                                        "early_stopping_window": 0},
    "fast GBM same-samples": {"method": "GBM", "oob_improvement": "same-samples",
                              "importance_scale": "unit"},
    "sklearn RF": {"method": "RF", "engine": "reference"},
    f"sklearn GBM {EQUAL_ROUNDS} rounds": {"method": "GBM", "n_trees": EQUAL_ROUNDS,
                                           "early_stopping_window": 0, "engine": "reference"},
}
PEERS = {"arboreto GRNBoost2": "GBM", "arboreto GENIE3": "RF", "R GENIE3": "RF",
         "scenic-rs GENIE3": "RF", "scenic-rs GRNBoost2": "GBM", "rustscenic": "GBM"}
# Each fits every gene it is given (no list of targets): run on the regulators and the targets.
RUST_PEERS = {"scenic-rs GENIE3", "scenic-rs GRNBoost2", "rustscenic"}
# Targets timed per shape: the slow engines (scikit-learn's forests, R) take a few.
FEW_TARGETS = {"dream5-like": 3, "single-cell-like": 1, "20k-cells": 1, "pbmc68k": 2,
               "pbmc68k-tfs": 5}
MANY_TARGETS = {"dream5-like": 20, "single-cell-like": 4, "20k-cells": 3, "pbmc68k": 20,
                "pbmc68k-tfs": 100}
SLOW = {"sklearn RF", "arboreto GENIE3", "R GENIE3", f"sklearn GBM {EQUAL_ROUNDS} rounds",
        "scenic-rs GENIE3"}
# A Rust peer fits every regulator too: its forests where every gene regulates take hours.
NOT_WHERE_ALL_REGULATE = {"scenic-rs GENIE3"}
ALL_REGULATE = {"single-cell-like", "20k-cells", "pbmc68k"}
# Not run at 20,000 cells (minutes per target): the full-bootstrap forests.
NOT_AT_20K = {"fast RF", "fast ET", "sklearn RF", "arboreto GENIE3", "R GENIE3"}
# Only at 20,000 cells.
ONLY_AT_20K = {"fast RF max_samples"}


def ensure_peer_env(log=print) -> bool:
    """The peers' environment under .genie/peers, built once."""
    python = PEER_ENV / "bin" / "python"
    probe = [str(python), "-c", "import " + ", ".join(PEER_MODULES)]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return True
    log(f"building the peers' environment in {PEER_ENV} (a few minutes, once)")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_ENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES])
    return done.returncode == 0


def r_genie3_available(log=print) -> tuple[bool, str]:
    """Whether R's GENIE3 runs here, installing Debian's r-bioc-genie3 where apt and root
    allow. Returns (available, why not)."""
    probe = ["Rscript", "-e", "suppressMessages(library(GENIE3))"]
    if shutil.which("Rscript") and subprocess.run(probe, capture_output=True).returncode == 0:
        return True, ""
    if shutil.which("apt-get") and os.geteuid() == 0:
        found = subprocess.run(["apt-cache", "show", "r-bioc-genie3"], capture_output=True)
        if found.returncode != 0:
            return False, ("apt has no r-bioc-genie3 package here (Debian has none in "
                           "bookworm, trixie or sid, checked 2026-12-04; Bioconductor's own "
                           "repository serves it)")
        log("installing Debian's r-bioc-genie3")
        subprocess.run(["apt-get", "install", "-y", "-qq", "r-bioc-genie3"], check=False)
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return True, ""
        return False, "apt-get install r-bioc-genie3 failed"
    return False, "R's GENIE3 is not installed and apt (as root) is not available to install it"


R_SCRIPT = """
suppressMessages(library(GENIE3))
args <- commandArgs(trailingOnly = TRUE)
x <- t(as.matrix(read.table(args[1], header = TRUE, sep = "\\t", check.names = FALSE)))
regulators <- readLines(args[2]); targets <- readLines(args[3])
set.seed(as.integer(args[5]))
seconds <- c(); links <- list()
for (target in targets) {
  started <- proc.time()[["user.self"]] + proc.time()[["sys.self"]]
  w <- GENIE3(x, regulators = regulators, targets = target, nCores = 1, nTrees = 1000)
  seconds <- c(seconds, proc.time()[["user.self"]] + proc.time()[["sys.self"]] - started)
  links[[target]] <- getLinkList(w)
}
all <- do.call(rbind, links)
colnames(all) <- c("regulator", "target", "importance")
write.table(all, args[4], sep = "\\t", quote = FALSE, row.names = FALSE)
cat(paste0("{\\"seconds\\": [", paste(seconds, collapse = ", "), "]}\\n"))
"""


def run_peer(name: str, frame: pd.DataFrame, regulators: list[str], targets: list[str],
             seed: int, workdir: Path) -> tuple[pd.DataFrame, list[float]]:
    """A peer's edges for `targets` and its CPU seconds per target (in its own process)."""
    if name == "R GENIE3":
        frame.to_csv(workdir / "x.tsv", sep="\t", index=False)
        (workdir / "regulators.txt").write_text("\n".join(regulators) + "\n")
        (workdir / "targets.txt").write_text("\n".join(targets) + "\n")
        done = subprocess.run(["Rscript", "-e", R_SCRIPT, str(workdir / "x.tsv"),
                               str(workdir / "regulators.txt"), str(workdir / "targets.txt"),
                               str(workdir / "links.tsv"), str(seed)],
                              check=True, capture_output=True, text=True)
        edges = pd.read_csv(workdir / "links.tsv", sep="\t")
    else:
        np.save(workdir / "values.npy", frame.to_numpy(dtype=np.float64))
        task = {"values": str(workdir / "values.npy"), "genes": list(frame.columns),
                "regulators": regulators, "targets": targets, "method": PEERS[name],
                "engine": name, "seed": seed, "output": str(workdir / "links.parquet")}
        (workdir / "task.json").write_text(json.dumps(task))
        runner = "peer_rust.py" if name in RUST_PEERS else "peer_arboreto.py"
        done = subprocess.run([str(PEER_ENV / "bin" / "python"),
                               str(ROOT / "benchmarks" / runner), str(workdir / "task.json")],
                              check=True, capture_output=True, text=True,
                              env={**os.environ, "RAYON_NUM_THREADS": "1"})
        edges = pd.read_parquet(workdir / "links.parquet")
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return edges[["regulator", "target", "importance"]], seconds


def run_ours(name: str, frame: pd.DataFrame, regulators: list[str], targets: list[str],
             seed: int) -> tuple[pd.DataFrame, list[float]]:
    settings = OURS[name]
    scale = 1.0
    if name in GROUPED:
        settings = {**settings, "n_trees": GROUPED[name][1]}
        scale = FOREST_TREES / GROUPED[name][1]
    # The compiled code loaded and the caches warm before the clock starts.
    genie3(frame, regulators, targets[:1], seed=seed, **{**settings, "n_trees": 2})
    started = time.process_time()
    edges = genie3(frame, regulators, targets, seed=seed, n_jobs=1, **settings)
    return edges, [(time.process_time() - started) * scale / len(targets)] * len(targets)


def run_engine(name, frame, regulators, targets, seed, workdir):
    if name in OURS:
        return run_ours(name, frame, regulators, targets, seed)
    return run_peer(name, frame, regulators, targets, seed, workdir)


def speed(engines: list[str], shapes: list[str], repeats: int, workdir: Path) -> None:
    print("\n## CPU seconds per target, one core (median of "
          f"{repeats}; the engines interleaved)\n")
    for shape in shapes:
        frame, regulators = shape_data(shape)
        here = [e for e in engines
                if not (shape == "20k-cells" and e in NOT_AT_20K)
                and not (shape != "20k-cells" and e in ONLY_AT_20K)
                and not (shape in ALL_REGULATE and e in NOT_WHERE_ALL_REGULATE)]
        seconds = {e: [] for e in here}
        for repeat in range(repeats):
            order = here[repeat % len(here):] + here[:repeat % len(here)]
            for engine in order:
                n = (GROUPED[engine][0] if engine in GROUPED
                     else (FEW_TARGETS if engine in SLOW else MANY_TARGETS)[shape])
                # The last genes that are not regulators (the Rust peers fit those too).
                targets = [g for g in frame.columns if g not in set(regulators)][-n:] \
                    if shape == "pbmc68k-tfs" else list(frame.columns[-n:])
                _, per_target = run_engine(engine, frame, regulators, targets, 0, workdir)
                seconds[engine].append(statistics.mean(per_target))
        medians = {e: statistics.median(s) for e, s in seconds.items()}
        print(f"### {shape}: {frame.shape[0]} samples × {len(regulators)} regulators, "
              f"{(frame.to_numpy() == 0).mean():.0%} zeros\n")
        print("| engine | s/target |")
        print("|---|---|")
        for engine, value in medians.items():
            print(f"| {engine} | {value:.3g} |")
        print()
        for fast_one, slow_one in [("fast RF", "sklearn RF"),
                                   (f"fast GBM {EQUAL_ROUNDS} rounds",
                                    f"sklearn GBM {EQUAL_ROUNDS} rounds"),
                                   ("fast GBM", "arboreto GRNBoost2"),
                                   ("fast RF", "arboreto GENIE3"), ("fast RF", "R GENIE3"),
                                   ("fast RF", "scenic-rs GENIE3"),
                                   ("fast GBM", "scenic-rs GRNBoost2"),
                                   ("fast GBM same-samples", "scenic-rs GRNBoost2"),
                                   ("fast GBM", "rustscenic")]:
            if fast_one in medians and slow_one in medians:
                print(f"- {slow_one} / {fast_one}: "
                      f"{medians[slow_one] / medians[fast_one]:.1f}×")
        print()


def shape_data(shape: str) -> tuple[pd.DataFrame, list[str]]:
    """A shape's cells × genes and its regulators."""
    if shape in REAL_SHAPES:
        from genie_assets_tests.real_data import human_tfs, pbmc68k_reduced

        frame = read_expression(pbmc68k_reduced(), use_raw=True)
        frame = frame.loc[:, frame.std() > 0]
        if shape == "pbmc68k":
            return frame, list(frame.columns)
        listed = set(human_tfs().read_text().split())
        return frame, [g for g in frame.columns if g in listed]
    frame, regulators = synthetic_expression(**SHAPES[shape])
    frame = frame.loc[:, ~(frame.std() == 0)]
    return frame, [r for r in regulators if r in frame.columns]


def dream4(network: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    expression = DREAM4 / f"insilico_size100_{network}_multifactorial.tsv"
    gold = DREAM4 / f"DREAM4_GoldStandard_InSilico_Size100_multifactorial_{network}.tsv"
    return read_expression(expression), read_gold_standard(gold)


def mean_spearman(a: pd.DataFrame, b: pd.DataFrame) -> float:
    a = a.pivot(index="regulator", columns="target", values="importance")
    b = b.pivot(index="regulator", columns="target", values="importance")
    # A target's column has no entry for itself (no self-edges); a target whose importances
    # are all equal in a run (nothing learned) has no rank correlation and is left out.
    b = b.reindex(index=a.index, columns=a.columns).fillna(0.0)
    return float(np.nanmean([spearmanr(a[t].dropna(), b.loc[a[t].dropna().index, t]).statistic
                             for t in a.columns]))


def accuracy(engines: list[str], workdir: Path, seeds: int = 1) -> None:
    print(f"\n## DREAM4 size 100, multifactorial: AUPR / AUROC, mean of seeds 0-{seeds - 1}; "
          "column-permutation Spearman (seed 0)\n")
    print("| engine | network 1 | network 2 | network 3 | AUPR per seed, networks 1-3 "
          "| permuted columns, same seed |")
    print("|---|---|---|---|---|---|")
    for engine in engines:
        cells, spreads = [], []
        for network in (1, 2, 3):
            frame, gold = dream4(network)
            genes = list(frame.columns)
            scores = []
            for seed in range(seeds):
                edges, _ = run_engine(engine, frame, genes, genes, seed, workdir)
                scores.append(score_network(edges, gold))
                if network == 1 and seed == 0:
                    permuted = frame[list(np.random.default_rng(7).permutation(genes))]
                    other, _ = run_engine(engine, permuted, list(permuted.columns),
                                          list(permuted.columns), 0, workdir)
                    stability = mean_spearman(edges, other)
            auprs = [score["aupr"] for score in scores]
            cells.append(f"{statistics.mean(auprs):.3f} / "
                         f"{statistics.mean(score['auroc'] for score in scores):.3f}")
            spreads.append(" ".join(f"{aupr:.3f}" for aupr in auprs))
        print(f"| {engine} | {' | '.join(cells)} | {'; '.join(spreads)} | {stability:.3f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES),
                        choices=list(SHAPES),
                        help="none: accuracy only")
    everything = list(OURS) + list(PEERS)
    parser.add_argument("--engines", nargs="+", default=everything, choices=everything)
    parser.add_argument("--accuracy-engines", nargs="*", default=everything,
                        choices=[e for e in everything if e != "fast RF max_samples"])
    parser.add_argument("--seeds", type=int, default=1,
                        help="DREAM4 scores are the mean over this many seeds: one seed's "
                             "AUPR moves by a few hundredths, as much as engines differ")
    arguments = parser.parse_args()
    skipped = {}
    if not ensure_peer_env():
        skipped.update({p: "the peers' environment could not be built"
                        for p in PEERS if p != "R GENIE3"})
    available, why = r_genie3_available()
    if not available:
        skipped["R GENIE3"] = why
    for peer, reason in skipped.items():
        print(f"skipping {peer}: {reason}")
    engines = [e for e in arguments.engines if e not in skipped]
    with tempfile.TemporaryDirectory() as folder:
        speed(engines, arguments.shapes, arguments.repeats, Path(folder))
        accuracy([e for e in arguments.accuracy_engines if e not in skipped], Path(folder),
                 arguments.seeds)


if __name__ == "__main__":
    main()
