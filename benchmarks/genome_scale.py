"""The whole flow at genome scale, as a user runs it with this project's CLI, in a fresh instance:
`expression_job`, the daemon-backed backfill of every shard (`python -m genie_assets.backfill`),
then `network_job`, on a synthetic log-normalised single-cell matrix (default 20,000 genes ×
1,000 cells, 1,600 regulators, ~88 % zeros).

Prints each phase's wall time and peak memory (the process tree's summed RSS), the shards'
summed compute and what their reports say of their time, the engine's own throughput on the
same data and cores (`genie3()` over a sample of targets in one process with every core, the
median of three timings), the shard phase's efficiency (the engine's time for all targets /
the backfill's wall time), and the projection to 49,000 targets. A benchmark: it prints
figures, it asserts nothing.

    python benchmarks/genome_scale.py [--genes 20000] [--cells 1000] [--regulators 1600]
        [--shards 40] [--method GBM] [--trees N] [--sample-targets 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import synthetic_expression  # noqa: E402  (benchmarks/engine.py)

from genie_assets.engine import Genie3Params, infer_edges  # noqa: E402

BIN = Path(sys.executable).parent
GENOME_TARGETS = 49_000


def process_tree_rss(root_pid: int) -> int:
    """Bytes resident in `root_pid` and every process below it."""
    parents, rss = {}, {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(proc.name)] = int(fields[1])
            rss[int(proc.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def timed(command: list[str], env: dict, log: Path) -> tuple[float, int]:
    """Run `command`; (wall seconds, peak summed RSS of its process tree). Fails loudly."""
    started = time.perf_counter()
    peak = 0
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
        while process.poll() is None:
            peak = max(peak, process_tree_rss(process.pid))
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} … failed (exit {process.returncode}); see {log}")
    return seconds, peak


def engine_seconds_per_target(frame: pd.DataFrame, regulators: list[str],
                              params: Genie3Params, n_targets: int,
                              repeats: int = 3) -> list[float]:
    """Wall seconds per target of genie3() in this process with every core, after a warm-up
    (numba compiles or loads once), for each of `repeats` timings of the same targets: on a
    shared machine one timing of a few seconds moved by a quarter between runs."""
    targets = list(frame.columns[-n_targets:])
    infer_edges(frame, regulators, targets[:2], params, n_jobs=-1)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        infer_edges(frame, regulators, targets, params, n_jobs=-1)
        timings.append((time.perf_counter() - started) / len(targets))
    return timings


def concurrency_limit(home: Path) -> int:
    """The instance's `shard_jobs` pool limit (deploy/dagster.yaml's, copied to `home`)."""
    import yaml

    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    return int(settings["concurrency"]["pools"]["default_limit"])


def shard_run_times(home: Path) -> dict[str, float]:
    """Summed over the backfill's shard runs, from the instance at `home`: each run worker's
    life (start to end), and the time from the first run's start to the last run's end."""
    from dagster import DagsterInstance, RunsFilter
    from dagster._core.instance.ref import InstanceRef  # the instance at a folder

    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        records = [r for r in instance.get_run_records(RunsFilter(job_name="shards_job"))
                   if r.start_time and r.end_time]
    return {"runs": len(records),
            "run_seconds": sum(r.end_time - r.start_time for r in records),
            "span": (max(r.end_time for r in records) - min(r.start_time for r in records)
                     if records else 0.0)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--cells", type=int, default=1_000)
    parser.add_argument("--regulators", type=int, default=1_600)
    parser.add_argument("--shards", type=int, default=40)
    parser.add_argument("--method", default="GBM", choices=["RF", "ET", "GBM"])
    parser.add_argument("--trees", type=int, default=None,
                        help="GENIE_N_TREES (default: the method's)")
    parser.add_argument("--sample-targets", type=int, default=1000,
                        help="targets timed in one process for the engine's own throughput")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the instance and artifacts in this folder")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="genie-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    home, artifacts, log = work / "dagster_home", work / "artifacts", work / "flow.log"
    home.mkdir(exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")

    print(f"data: {args.genes:,} genes × {args.cells:,} cells, {args.regulators:,} "
          f"regulators (making it) ...", flush=True)
    frame, _ = synthetic_expression(args.cells, args.genes, args.regulators, counts=True,
                                    log_depth=-2.5, per_10k=True, seed=0)
    frame = frame.loc[:, frame.std() > 0]
    regulators = [gene for gene in frame.columns[:args.regulators]]
    matrix_path, regulators_path = work / "expression.parquet", work / "regulators.txt"
    frame.to_parquet(matrix_path)
    regulators_path.write_text("\n".join(regulators) + "\n")
    zeros = float((frame.to_numpy() == 0).mean())
    print(f"      {frame.shape[1]:,} genes kept, {zeros:.0%} zeros", flush=True)

    params = Genie3Params(method=args.method, n_trees=args.trees)
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(artifacts),
           "GENIE_N_SHARDS": str(args.shards), "GENIE_METHOD": args.method}
    if args.trees:
        env["GENIE_N_TREES"] = str(args.trees)
    config = work / "expression.yaml"
    config.write_text(json.dumps({"ops": {"expression_matrix": {"config": {
        "path": str(matrix_path), "regulators_path": str(regulators_path)}}}}))
    dagster = [str(BIN / "dagster"), "job", "execute", "-m", "genie_assets.definitions"]
    phases = {}
    print("expression_job ...", flush=True)
    phases["expression_job"] = timed([*dagster, "-j", "expression_job", "-c", str(config)],
                                     env, log)
    print("backfill of every shard (daemon-run) ...", flush=True)
    phases["backfill"] = timed([sys.executable, "-m", "genie_assets.backfill"], env, log)
    print("network_job ...", flush=True)
    phases["network_job"] = timed([*dagster, "-j", "network_job"], env, log)

    reports = [json.loads(path.read_text())
               for path in sorted((artifacts / "shards").glob("shard-*.json"))]
    compute = sum(r["compute_seconds"] for r in reports)
    signing = sum(r.get("sign_seconds", 0.0) for r in reports)
    inside = sum(r.get("total_seconds", 0.0) for r in reports)
    runner = sum(r.get("wall_seconds", 0.0) for r in reports)
    runs = shard_run_times(home)
    cores = os.cpu_count() or 1
    print(f"engine alone: genie3() over {args.sample_targets} targets, {cores} cores ...",
          flush=True)
    timings = engine_seconds_per_target(frame, regulators, params, args.sample_targets)
    per_target = statistics.median(timings)
    n_targets = frame.shape[1]
    engine_wall = per_target * n_targets
    backfill_wall = phases["backfill"][0]
    efficiency = engine_wall / backfill_wall

    rows = [(name, f"{seconds:,.1f}", f"{peak / 2**30:.2f}")
            for name, (seconds, peak) in phases.items()]
    print(f"\n{platform.processor() or platform.machine()}, {cores} cores; "
          f"{args.method}, {params.n_trees} {'rounds at most' if args.method == 'GBM' else 'trees'}"
          f", {args.shards} shards, {n_targets:,} targets\n")
    print(pd.DataFrame(rows, columns=["phase", "wall s", "peak GiB"]).to_string(index=False))
    print(f"\nshards: {len(reports)}; summed compute {compute:,.1f} s, summed time inside the "
          f"shard program {inside:,.1f} s (median per shard "
          f"{statistics.median(r['compute_seconds'] for r in reports):.1f} s compute); signing "
          f"the edges (Spearman rho) {signing:,.1f} s, {signing / max(compute, 1e-9):.1%} of the "
          "compute")
    slots = concurrency_limit(home)
    print(f"where a shard's time goes, summed over {runs['runs']} runs: run workers alive "
          f"{runs['run_seconds']:,.1f} s, of which the shard process (start to exit, output "
          f"copied) {runner:,.1f} s, of which inside the shard program {inside:,.1f} s, of which "
          f"the engine {compute:,.1f} s; {slots} slots from the first run's start to the last "
          f"run's end: {runs['span']:,.1f} s × {slots} = {runs['span'] * slots:,.1f} slot-s")
    print(f"engine alone on the same data and cores: {per_target * 1000:.1f} ms per target "
          f"(median of {len(timings)} timings of {args.sample_targets} targets: "
          f"{', '.join(f'{t * 1000:.1f}' for t in timings)}), {engine_wall:,.1f} s for all "
          f"{n_targets:,}")
    print(f"shard phase efficiency (engine time / backfill wall time): {efficiency:.2f}")
    # A model, not a measurement: each shard run adds the same core-seconds outside the engine
    # (start-up, reading, writing, Dagster's run), whatever its size.
    outside = max(backfill_wall - engine_wall, 0.0) * cores / args.shards
    fitting = int(engine_wall * cores / (4 * outside)) if outside > 0 else args.shards
    print(f"outside the engine: {outside:.1f} core-s per shard run; at this data and machine, "
          f"efficiency 0.8 needs at most {fitting} shards (≥ {n_targets // max(fitting, 1):,} "
          "targets each), by that model")
    scale = GENOME_TARGETS / n_targets
    print(f"projected to {GENOME_TARGETS:,} targets on this machine: backfill "
          f"{backfill_wall * scale / 3600:,.2f} h, engine alone {engine_wall * scale / 3600:,.2f} h"
          f", network_job ≈ {phases['network_job'][0] * scale:,.0f} s if linear in edges "
          f"({phases['network_job'][1] / 2**30 * scale:,.1f} GiB)")
    print(f"\nlog: {log}" + ("" if args.keep else f" (instance in {work})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
