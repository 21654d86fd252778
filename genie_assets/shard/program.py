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
import platform
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from genie_assets.engine import infer_edges
from genie_assets.engine.compile_cache import (
    compile_portable_into,
    compile_seconds,
    shared_cache_name,
    shipped_cache_folder,
    shipped_files,
    use_shipped_cache,
    write_manifest,
)
from genie_assets.engine.core import (
    SHARED_BOOTSTRAP_GROUP,
    STABILITY_COLUMN,
    resolve_n_jobs,
    shares_bootstraps,
)
from genie_assets.engine.correlation import RHO_COLUMN, spearman_rho
from genie_assets.engine.params import Genie3Params
from genie_assets.errors import ShardMemoryError
from genie_assets.files import atomic_path
from genie_assets.settings import ShardProcess
from genie_assets.shard.contract import (
    EXPRESSION_FILE,
    HYPERPARAMETERS_FILE,
    MANIFEST_FILE,
    REGULATORS_FILE,
    SHARD_METADATA_KEY,
    ShardReport,
    ShardTask,
    combine_reports,
    edges_file,
    output_name,
    read_regulator_names,
    report_file,
)
from genie_assets.shard.sharding import targets_for_shard

EDGE_SCHEMA = pa.schema([("regulator", pa.string()), ("target", pa.string()),
                         ("importance", pa.float32()), (RHO_COLUMN, pa.float32())])


def edge_schema(columns) -> pa.Schema:
    """EDGE_SCHEMA, with the stability column where a consensus of seeds (n_seeds > 1) gave
    one."""
    if STABILITY_COLUMN in columns:
        return EDGE_SCHEMA.append(pa.field(STABILITY_COLUMN, pa.float32()))
    return EDGE_SCHEMA


# Bytes per edge while a shard's result is a pandas frame (two object columns and a float).
BYTES_PER_EDGE = 160


def estimate_peak_bytes(n_samples: int, n_genes: int, n_regulators: int, n_targets: int,
                        n_workers: int, shared_bootstrap: Optional[int] = None) -> int:
    """Peak memory of a shard: the matrix (read, as float64, regulator copy and its ranks:
    int32 while they are computed, then one or two bytes), its edges as a frame and as Arrow,
    and one tree's work arrays per worker (boosting's few more per sample included).

    shared_bootstrap: the bootstrap's size where a group of targets shares each tree's
    (max_samples, engine.subsampling); each worker then also holds the tree's block of ranks,
    its cut-down copy of the lists of samples off the base rank (at most 30 % of the matrix,
    six bytes each) and its group's targets."""
    matrix = n_samples * n_genes * 8 * 2 + n_samples * n_regulators * (8 + 4 + 2)
    edges = n_targets * n_regulators * (BYTES_PER_EDGE + 40)
    per_worker = n_samples * 8 * 20 + n_regulators * 8 * 4
    if shared_bootstrap:
        per_worker += (shared_bootstrap * n_regulators * 4 + n_samples * n_regulators * 2
                       + SHARED_BOOTSTRAP_GROUP * n_samples * 8)
    return matrix + edges + n_workers * per_worker + (300 << 20)


def available_memory_bytes() -> int:
    """What this process may use: GENIE_MEMORY_LIMIT_BYTES, the cgroup limit, or free RAM."""
    limit = ShardProcess.from_environ().memory_limit_bytes
    if limit:
        return limit
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


class SageMakerContract:
    """Where a SageMaker training container finds its inputs and puts its outputs."""

    def __init__(self, environ: Optional[dict] = None):
        process = ShardProcess.from_environ(environ)
        self.input_dir = process.input_dir
        self.config_dir = process.config_dir
        self.model_dir = process.model_dir
        self.output_dir = process.output_dir
        self.expression_dir = process.expression_dir
        self.current_host = process.current_host
        self.hosts = process.hosts
        self.pipes_over_s3 = process.pipes_over_s3

    def record_failure(self, error: BaseException) -> None:
        """SageMaker reports the text of /opt/ml/output/failure as the job's FailureReason."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "failure").write_text(f"{type(error).__name__}: {error}"[:1024])

    def hyperparameters(self) -> dict[str, str]:
        path = self.config_dir / HYPERPARAMETERS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no hyperparameters for the shard")
        # The training toolkit's own entries (sagemaker_program, ...) are not ours.
        return {key: str(value) for key, value in json.loads(path.read_text()).items()
                if not key.startswith("sagemaker_")}


def run_shard(contract: SageMakerContract, log=print, report=None) -> dict[str, Any]:
    """Compute one shard; return its report. `log(str)` and `report(metadata)` carry progress."""
    started = time.perf_counter()
    task = ShardTask.from_hyperparameters(contract.hyperparameters())
    share_compiled_engine = use_compiled_engine(task, log)
    partition_key, index, n_shards = task.partition_key, task.shard_index, task.n_shards
    n_jobs = resolve_n_jobs(task.n_jobs)
    params = task.params

    matrix_path = contract.expression_dir / EXPRESSION_FILE
    regulators = read_regulator_names(contract.expression_dir / REGULATORS_FILE)
    manifest = json.loads((contract.expression_dir / MANIFEST_FILE).read_text())
    # Opened once: at 20,000 genes the file's metadata alone takes 0.2 s to parse.
    matrix_file = pq.ParquetFile(matrix_path)
    genes = matrix_genes(matrix_file)
    shard_targets = targets_for_shard(genes, index, n_shards)
    # With several hosts, each takes every n-th of the shard's targets and writes its own file.
    hosts = sorted(contract.hosts)
    host_targets = shard_targets[hosts.index(contract.current_host)::len(hosts)]
    # Only the columns this host fits from: at 20,000 genes a shard's regulators and targets
    # are a tenth of the matrix, and reading the rest took a sixth of a shard's time.
    wanted = set(regulators) | set(host_targets)
    expression = matrix_file.read(columns=[g for g in genes if g in wanted],
                                  use_pandas_metadata=True).to_pandas()
    name = output_name(partition_key, contract.current_host, len(hosts))
    if len(hosts) > 1:
        log = _prefixed(log, f"[{contract.current_host}] ")
    log(f"{partition_key}: {len(host_targets)} targets × {len(regulators)} regulators × "
        f"{expression.shape[0]} samples on {n_jobs} cores ({params.engine} engine)")

    needed = refuse_if_too_big(partition_key, expression.shape, len(regulators),
                               len(host_targets), n_jobs, params)
    step = max(1, len(host_targets) // 20)
    logged = 0

    def progress(done: int, total: int) -> None:
        nonlocal logged
        # Targets finish one by one, or a group at a time (max_samples' shared bootstraps).
        if done // step > logged // step or done == total:
            logged = done
            log(f"{partition_key}: {done}/{total} targets done "
                f"({time.perf_counter() - started:.1f} s)")

    started_at = time.time()
    compute_started = time.perf_counter()
    compiled_before = compile_seconds()
    edges = infer_edges(expression, regulators, host_targets, params, n_jobs=n_jobs,
                        progress=progress)
    # The engine's compiling (or loading its compiled code) is reported apart from computing.
    compiling = compile_seconds() - compiled_before
    compute_seconds = time.perf_counter() - compute_started - compiling
    if compiling > 5:
        log(f"{partition_key}: {compiling:.0f} s of that compiling the engine")
    signing_started = time.perf_counter()
    edges[RHO_COLUMN] = spearman_rho(expression, edges["regulator"], edges["target"])
    sign_seconds = time.perf_counter() - signing_started

    shard_report = ShardReport(**{
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
        "compile_seconds": round(compiling, 3),
        "sign_seconds": round(sign_seconds, 3),
        "started_at": round(started_at, 3),
        "finished_at": round(time.time(), 3),
        "seconds_per_target": round(compute_seconds / max(1, len(host_targets)), 5),
        "input_fingerprint": manifest["fingerprint"],
        "params": params.as_dict(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    })
    write_output(contract, task, name, edges, shard_report, started, log)
    if share_compiled_engine is not None:
        share_compiled_engine()
    if report is not None:
        report(shard_report)
    return shard_report


def matrix_genes(matrix_file: pq.ParquetFile) -> list[str]:
    """The stored matrix's gene columns, in order, from its Parquet schema alone (the sample
    names are pandas' index, stored as a column of their own)."""
    schema = matrix_file.schema_arrow
    index = {name for name in (schema.pandas_metadata or {}).get("index_columns", [])
             if isinstance(name, str)}
    return [name for name in schema.names if name not in index]


def use_compiled_engine(task: ShardTask, log) -> Optional[Callable[[], None]]:
    """Which compiled engine this process loads, before anything compiles it.

    An installed package has its own cache (make setup). On SageMaker: the one the code channel
    ships, where it fits the container's Python, numba and NumPy; else the one an earlier job of
    this engine version left at engine_cache_s3_uri; else it compiles for any SageMaker CPU and
    returns the function that leaves the result there for the next jobs.
    """
    shipped = shipped_cache_folder()
    if shipped.is_dir() and use_shipped_cache(shipped, log):
        return None
    if not task.engine_cache_s3_uri:
        return None
    import io
    import tarfile
    import tempfile

    import boto3

    bucket, prefix = split_s3_uri(task.engine_cache_s3_uri)
    key = f"{prefix.rstrip('/')}/{shared_cache_name()}.tar.gz"
    s3 = boto3.client("s3")
    folder = Path(tempfile.mkdtemp(prefix="genie-engine-cache-"))
    try:
        shared = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        shared = None
    if shared is not None:
        with tarfile.open(fileobj=io.BytesIO(shared)) as archive:
            archive.extractall(folder, filter="data")
        use_shipped_cache(folder, log)
        return None
    if not compile_portable_into(folder, log):
        return None

    def share() -> None:
        write_manifest(folder)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in shipped_files(folder):
                archive.add(path, arcname=str(path.relative_to(folder)))
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        log(f"engine cache: shared at s3://{bucket}/{key} for the next jobs")

    return share


def refuse_if_too_big(partition_key: str, shape: tuple[int, int], n_regulators: int,
                      n_targets: int, n_jobs: int, params: Genie3Params) -> int:
    """The shard's estimated peak memory; a ShardMemoryError before any work where the machine
    has less."""
    shared = params.n_drawn_samples(shape[0]) if shares_bootstraps(params, shape[0]) else None
    needed = estimate_peak_bytes(shape[0], shape[1], n_regulators, n_targets, n_jobs, shared)
    available = available_memory_bytes()
    if needed > available:
        raise ShardMemoryError(
            f"{partition_key}: needs about {needed / 2**30:.1f} GiB for {n_targets} "
            f"targets × {n_regulators} regulators × {shape[0]} samples, but only "
            f"{available / 2**30:.1f} GiB is available; use more shards (GENIE_N_SHARDS) or a "
            "machine with more memory"
        )
    return needed


def write_output(contract: SageMakerContract, task: ShardTask, name: str, edges,
                 shard_report: ShardReport, started: float, log) -> None:
    """The host's edges and report into the model directory, each under a temporary name
    renamed when whole, and, on SageMaker, to the task's S3 prefix."""
    table = pa.Table.from_pandas(edges, schema=edge_schema(edges.columns),
                                 preserve_index=False)
    table = table.replace_schema_metadata({SHARD_METADATA_KEY: json.dumps(shard_report)})
    contract.model_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(contract.model_dir / edges_file(name)) as temporary:
        pq.write_table(table, temporary)
    shard_report["total_seconds"] = round(time.perf_counter() - started, 3)
    with atomic_path(contract.model_dir / report_file(name)) as temporary:
        temporary.write_text(json.dumps(shard_report, indent=2))
    if task.output_s3_uri:
        # Each host sends its own files: a job uploads one model directory, and with several
        # hosts which one is not something to build on. The report goes last: it marks the
        # host's output complete.
        upload_files(task.output_s3_uri, [contract.model_dir / edges_file(name),
                                          contract.model_dir / report_file(name)])
        log(f"{task.partition_key}: output uploaded to {task.output_s3_uri}")


def _prefixed(log, prefix: str):
    return lambda message: log(prefix + message)


def split_s3_uri(s3_uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of s3://bucket/prefix."""
    bucket, _, prefix = s3_uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def upload_files(s3_uri: str, files: list[Path]) -> None:
    import boto3

    bucket, prefix = split_s3_uri(s3_uri)
    s3 = boto3.client("s3")
    for path in files:
        s3.upload_file(str(path), bucket, f"{prefix.rstrip('/')}/{path.name}")


def combine_host_outputs(parts: list[tuple[Path, ShardReport]], output: Path) -> ShardReport:
    """One shard file from the files of a job's hosts, with one report for the whole shard."""
    combined = combine_reports([report for _, report in parts])
    schema = edge_schema(pq.read_schema(parts[0][0]).names)
    with atomic_path(output) as temporary:
        with pq.ParquetWriter(temporary, schema.with_metadata(
                {SHARD_METADATA_KEY: json.dumps(combined)})) as writer:
            for path, _ in parts:
                writer.write_table(pq.read_table(path).cast(schema))
    return combined


def read_shard_report(path: str | Path) -> ShardReport:
    """The report a shard file carries in its Parquet metadata."""
    metadata = pq.read_schema(path).metadata or {}
    if SHARD_METADATA_KEY not in metadata:
        raise ValueError(f"{path}: not a shard output of genie-assets (no shard metadata)")
    return json.loads(metadata[SHARD_METADATA_KEY])


def _pipes_metadata(shard_report: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in shard_report.items() if k != "params"}
    flat.update({f"genie3_{k}": v for k, v in shard_report["params"].items()})
    return flat


# The program's name in ps, top and /proc/<pid>/comm, whether exec'd (`python -m
# genie_assets.shard`) or forked by the local runner, whose command line is its parent's.
PROCESS_NAME = "genie-shard"


def name_this_process(name: str = PROCESS_NAME) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # 15: PR_SET_NAME (Linux)
    except (OSError, AttributeError):
        pass  # not Linux: the name is only for people looking at processes


def main() -> int:
    name_this_process()
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
    if contract.pipes_over_s3:
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

