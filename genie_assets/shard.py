"""The shard program: GENIE3 for one shard of target genes, under the SageMaker training contract.

    python -m genie_assets.shard

It reads the `expression` channel (expression.parquet, regulators.txt, manifest.json) and the
hyperparameters, computes its targets' importances and writes `<partition>.parquet` plus a
`<partition>.json` report into the model directory. Paths follow SageMaker (`SM_CHANNEL_*`,
`SM_MODEL_DIR`, `SM_INPUT_CONFIG_DIR`, defaulting to /opt/ml/...), so the same program runs in a
SageMaker training container and, with those variables pointed at a temporary folder, in a
local subprocess. When launched by Dagster it speaks Pipes: progress as logs, the report as
materialization metadata. It imports the engine and dagster-pipes, nothing of the framework.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from genie_assets.engine import Genie3Params, infer_edges
from genie_assets.engine.core import resolve_n_jobs
from genie_assets.errors import ShardMemoryError
from genie_assets.files import atomic_path
from genie_assets.sharding import targets_for_shard

EXPRESSION_FILE = "expression.parquet"
REGULATORS_FILE = "regulators.txt"
MANIFEST_FILE = "manifest.json"
SHARD_METADATA_KEY = b"genie_assets.shard"
PIPES_TRANSPORT_ENV = "GENIE_PIPES_TRANSPORT"
EDGE_SCHEMA = pa.schema([("regulator", pa.string()), ("target", pa.string()),
                         ("importance", pa.float32())])


MEMORY_LIMIT_ENV = "GENIE_MEMORY_LIMIT_BYTES"
# Bytes per edge while a shard's result is a pandas frame (two object columns and a float).
BYTES_PER_EDGE = 160


def estimate_peak_bytes(n_samples: int, n_genes: int, n_regulators: int, n_targets: int,
                        n_workers: int) -> int:
    """Peak memory of a shard: the matrix (read, as float64, regulator copy and its ranks:
    int32 while they are computed, then one or two bytes), its edges as a frame and as Arrow,
    and one tree's work arrays per worker."""
    matrix = n_samples * n_genes * 8 * 2 + n_samples * n_regulators * (8 + 4 + 2)
    edges = n_targets * n_regulators * (BYTES_PER_EDGE + 40)
    per_worker = n_samples * 8 * 14 + n_regulators * 8 * 4
    return matrix + edges + n_workers * per_worker + (300 << 20)


def available_memory_bytes() -> int:
    """What this process may use: GENIE_MEMORY_LIMIT_BYTES, the cgroup limit, or free RAM."""
    if os.environ.get(MEMORY_LIMIT_ENV):
        return int(os.environ[MEMORY_LIMIT_ENV])
    limits = []
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(int(text))
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    return min(limits) if limits else 1 << 62


def read_regulator_names(path: Path) -> list[str]:
    """The stored regulator list: one name a line, as written (a name may hold spaces)."""
    return [name for name in path.read_text(encoding="utf-8").splitlines() if name]


class SageMakerContract:
    """Where a SageMaker training container finds its inputs and puts its outputs."""

    def __init__(self, environ: Optional[dict] = None):
        env = os.environ if environ is None else environ
        self.input_dir = Path(env.get("SM_INPUT_DIR", "/opt/ml/input"))
        self.config_dir = Path(env.get("SM_INPUT_CONFIG_DIR", self.input_dir / "config"))
        self.model_dir = Path(env.get("SM_MODEL_DIR", "/opt/ml/model"))
        self.output_dir = Path(env.get("SM_OUTPUT_DIR", "/opt/ml/output"))
        self.expression_dir = Path(
            env.get("SM_CHANNEL_EXPRESSION", self.input_dir / "data" / "expression")
        )
        self.current_host = env.get("SM_CURRENT_HOST", "algo-1")
        self.hosts = json.loads(env.get("SM_HOSTS", json.dumps([self.current_host])))

    def record_failure(self, error: BaseException) -> None:
        """SageMaker reports the text of /opt/ml/output/failure as the job's FailureReason."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "failure").write_text(f"{type(error).__name__}: {error}"[:1024])

    def hyperparameters(self) -> dict[str, str]:
        path = self.config_dir / "hyperparameters.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no hyperparameters for the shard")
        # The training toolkit's own entries (sagemaker_program, ...) are not ours.
        return {key: str(value) for key, value in json.loads(path.read_text()).items()
                if not key.startswith("sagemaker_")}


def run_shard(contract: SageMakerContract, log=print, report=None) -> dict[str, Any]:
    """Compute one shard; return its report. `log(str)` and `report(metadata)` carry progress."""
    started = time.perf_counter()
    hyper = contract.hyperparameters()
    partition_key = hyper.pop("partition_key")
    index = int(hyper.pop("shard_index"))
    n_shards = int(hyper.pop("n_shards"))
    n_jobs = resolve_n_jobs(int(hyper.pop("n_jobs", "-1")))
    output_s3_uri = hyper.pop("output_s3_uri", None)
    params = Genie3Params.from_dict(hyper)

    import pandas as pd

    expression = pd.read_parquet(contract.expression_dir / EXPRESSION_FILE)
    regulators = read_regulator_names(contract.expression_dir / REGULATORS_FILE)
    manifest = json.loads((contract.expression_dir / MANIFEST_FILE).read_text())
    shard_targets = targets_for_shard(list(expression.columns), index, n_shards)
    # With several hosts, each takes every n-th of the shard's targets and writes its own file.
    hosts = sorted(contract.hosts)
    host_targets = shard_targets[hosts.index(contract.current_host)::len(hosts)]
    output_name = host_output_name(partition_key, contract.current_host, len(hosts))
    if len(hosts) > 1:
        log = _prefixed(log, f"[{contract.current_host}] ")
    log(f"{partition_key}: {len(host_targets)} targets × {len(regulators)} regulators × "
        f"{expression.shape[0]} samples on {n_jobs} cores ({params.engine} engine)")

    needed = estimate_peak_bytes(expression.shape[0], expression.shape[1], len(regulators),
                                 len(host_targets), n_jobs)
    available = available_memory_bytes()
    if needed > available:
        raise ShardMemoryError(
            f"{partition_key}: needs about {needed / 2**30:.1f} GiB for {len(host_targets)} "
            f"targets × {len(regulators)} regulators × {expression.shape[0]} samples, but only "
            f"{available / 2**30:.1f} GiB is available; use more shards (GENIE_N_SHARDS) or a "
            "machine with more memory"
        )
    step = max(1, len(host_targets) // 20)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            log(f"{partition_key}: {done}/{total} targets done "
                f"({time.perf_counter() - started:.1f} s)")

    started_at = time.time()
    compute_started = time.perf_counter()
    edges = infer_edges(expression, regulators, host_targets, params, n_jobs=n_jobs,
                        progress=progress)
    compute_seconds = time.perf_counter() - compute_started

    shard_report = {
        "partition_key": partition_key,
        "shard_index": index,
        "n_shards": n_shards,
        "host": contract.current_host,
        "n_hosts": len(hosts),
        "n_targets": len(host_targets),
        "n_regulators": len(regulators),
        "n_samples": int(expression.shape[0]),
        "n_edges": int(len(edges)),
        "cores": n_jobs,
        "estimated_peak_mib": round(needed / 2**20, 1),
        "compute_seconds": round(compute_seconds, 3),
        "started_at": round(started_at, 3),
        "finished_at": round(time.time(), 3),
        "seconds_per_target": round(compute_seconds / max(1, len(host_targets)), 5),
        "input_fingerprint": manifest["fingerprint"],
        "params": params.as_dict(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    table = pa.Table.from_pandas(edges, schema=EDGE_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata({SHARD_METADATA_KEY: json.dumps(shard_report)})
    contract.model_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(contract.model_dir / f"{output_name}.parquet") as temporary:
        pq.write_table(table, temporary)
    shard_report["total_seconds"] = round(time.perf_counter() - started, 3)
    with atomic_path(contract.model_dir / f"{output_name}.json") as temporary:
        temporary.write_text(json.dumps(shard_report, indent=2))
    if output_s3_uri:
        # Each host sends its own files: a job uploads one model directory, and with several
        # hosts which one is not something to build on. The report goes last: it marks the
        # host's output complete.
        upload_files(output_s3_uri, [contract.model_dir / f"{output_name}.parquet",
                                     contract.model_dir / f"{output_name}.json"])
        log(f"{partition_key}: output uploaded to {output_s3_uri}")
    if report is not None:
        report(shard_report)
    return shard_report


def host_output_name(partition_key: str, host: str, n_hosts: int) -> str:
    return partition_key if n_hosts == 1 else f"{partition_key}.{host}"


def _prefixed(log, prefix: str):
    return lambda message: log(prefix + message)


def upload_files(s3_uri: str, files: list[Path]) -> None:
    import boto3

    bucket, _, prefix = s3_uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    for path in files:
        s3.upload_file(str(path), bucket, f"{prefix.rstrip('/')}/{path.name}")


def combine_host_outputs(parts: list[tuple[Path, dict]], output: Path) -> dict[str, Any]:
    """One shard file from the files of a job's hosts, with one report for the whole shard.

    The shard's compute time is its slowest host's and its cores all hosts' cores, so
    compute_seconds × cores is the core time the shard held.
    """
    reports = [report for _, report in parts]
    n_targets = sum(r["n_targets"] for r in reports)
    compute_seconds = max(r["compute_seconds"] for r in reports)
    combined = {
        **reports[0],
        "host": ",".join(r["host"] for r in reports),
        "n_targets": n_targets,
        "n_edges": sum(r["n_edges"] for r in reports),
        "cores": sum(r["cores"] for r in reports),
        "compute_seconds": compute_seconds,
        "started_at": min(r["started_at"] for r in reports),
        "finished_at": max(r["finished_at"] for r in reports),
        "seconds_per_target": round(compute_seconds / max(1, n_targets), 5),
        "total_seconds": max(r.get("total_seconds", r["compute_seconds"]) for r in reports),
        "hosts": [{k: r[k] for k in ("host", "n_targets", "cores", "compute_seconds")}
                  for r in reports],
    }
    with atomic_path(output) as temporary:
        with pq.ParquetWriter(temporary, EDGE_SCHEMA.with_metadata(
                {SHARD_METADATA_KEY: json.dumps(combined)})) as writer:
            for path, _ in parts:
                writer.write_table(pq.read_table(path).cast(EDGE_SCHEMA))
    return combined


def read_shard_report(path: str | Path) -> dict[str, Any]:
    """The report a shard file carries in its Parquet metadata."""
    metadata = pq.read_schema(path).metadata or {}
    if SHARD_METADATA_KEY not in metadata:
        raise ValueError(f"{path}: not a shard output of genie-assets (no shard metadata)")
    return json.loads(metadata[SHARD_METADATA_KEY])


def _pipes_metadata(shard_report: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in shard_report.items() if k != "params"}
    flat.update({f"genie3_{k}": v for k, v in shard_report["params"].items()})
    return flat


def main() -> int:
    contract = SageMakerContract()
    try:
        return _main(contract)
    except Exception as error:
        contract.record_failure(error)
        raise


def _main(contract: SageMakerContract) -> int:
    try:
        from dagster_pipes import PipesEnvVarParamsLoader
    except ImportError:  # run by hand where dagster-pipes is not installed
        launched_by_dagster = False
    else:
        launched_by_dagster = PipesEnvVarParamsLoader().is_dagster_pipes_process()
    # Only the first host of a job speaks Pipes; the others compute and write silently.
    speaks = contract.current_host == sorted(contract.hosts)[0]
    if not (launched_by_dagster and speaks):
        run_shard(contract)
        return 0

    from dagster_pipes import open_dagster_pipes

    loaders = {}
    if os.environ.get(PIPES_TRANSPORT_ENV) == "s3":
        import boto3
        from dagster_pipes import PipesS3ContextLoader, PipesS3MessageWriter

        s3 = boto3.client("s3")
        loaders = {"context_loader": PipesS3ContextLoader(s3),
                   "message_writer": PipesS3MessageWriter(s3, interval=5)}
    with open_dagster_pipes(**loaders) as pipes:
        run_shard(
            contract,
            log=pipes.log.info,
            report=lambda r: pipes.report_asset_materialization(metadata=_pipes_metadata(r)),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
