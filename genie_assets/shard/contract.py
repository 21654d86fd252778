"""The shard contract: what crosses the process and cloud boundary between Dagster and the shard
program, in one place.

- `ShardTask`: what one shard computes (its partition, targets and GENIE3 parameters) and where
  it sends its output; to and from SageMaker hyperparameters, which are strings.
- `ShardReport`: what the shard program reports about its work (a JSON object in the shard
  file's Parquet metadata and in `<name>.json`), with `combine_reports` for a job of several
  hosts and `with_runner_facts` for what the runner adds (instance, billable seconds).
- The layout: every file name of the expression channel and of a shard's output.

Only the standard library, the engine's parameters and the shard keys are imported: the shard
program carries this module into a SageMaker container.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Optional, TypedDict

from genie_assets.engine.params import Genie3Params
from genie_assets.errors import ShardError
from genie_assets.shard.sharding import shard_index

# The expression channel: what expression_matrix stores and every shard reads.
EXPRESSION_FILE = "expression.parquet"
REGULATORS_FILE = "regulators.txt"
MANIFEST_FILE = "manifest.json"
# SageMaker's training contract: the task, as strings, in the job's config folder.
HYPERPARAMETERS_FILE = "hyperparameters.json"
# The code channel: what SageMaker's training toolkit pip-installs before the entry point.
REQUIREMENTS_FILE = "requirements.txt"
# A shard's output: `<name>.parquet` (its edges, the report in its metadata) and `<name>.json`
# (the report alone, written last: it marks the output complete).
SHARD_METADATA_KEY = b"genie_assets.shard"
# Hyperparameters SageMaker's training toolkit adds for itself.
TOOLKIT_PREFIX = "sagemaker_"


def output_name(partition_key: str, host: str, n_hosts: int) -> str:
    """A host's output name: the partition key, or `<key>.<host>` in a job of several hosts."""
    return partition_key if n_hosts == 1 else f"{partition_key}.{host}"


def edges_file(name: str) -> str:
    return f"{name}.parquet"


def report_file(name: str) -> str:
    return f"{name}.json"


@dataclasses.dataclass(frozen=True)
class ShardTask:
    """One shard's work: the targets of shard `shard_index` of `n_shards`, with `params`."""

    partition_key: str
    n_shards: int
    params: Genie3Params
    n_jobs: int = -1  # cores: -1 for all the machine has
    output_s3_uri: Optional[str] = None  # where each host uploads its output (SageMaker)
    # Where jobs share the engine compiled for SageMaker's CPUs, for images the code channel's
    # cache does not fit (SageMaker)
    engine_cache_s3_uri: Optional[str] = None

    @property
    def shard_index(self) -> int:
        return shard_index(self.partition_key)

    def on_runner(self, *, n_jobs: int, output_s3_uri: Optional[str] = None,
                  engine_cache_s3_uri: Optional[str] = None) -> "ShardTask":
        """The task as a runner sends it: its cores and, on SageMaker, the output prefix and
        the shared engine cache."""
        return dataclasses.replace(self, n_jobs=n_jobs, output_s3_uri=output_s3_uri,
                                   engine_cache_s3_uri=engine_cache_s3_uri)

    def to_hyperparameters(self) -> dict[str, str]:
        values = {
            "partition_key": self.partition_key,
            "shard_index": str(self.shard_index),
            "n_shards": str(self.n_shards),
            "n_jobs": str(self.n_jobs),
            **{name: str(value) for name, value in self.params.as_dict().items()},
        }
        for name in ("output_s3_uri", "engine_cache_s3_uri"):
            if getattr(self, name):
                values[name] = getattr(self, name)
        return values

    @classmethod
    def from_hyperparameters(cls, values: Mapping[str, Any]) -> "ShardTask":
        """The task from its hyperparameters (the training toolkit's own entries left out)."""
        ours = {key: str(value) for key, value in values.items()
                if not key.startswith(TOOLKIT_PREFIX)}
        try:
            partition_key = ours.pop("partition_key")
            index = int(ours.pop("shard_index"))
            task = cls(partition_key=partition_key, n_shards=int(ours.pop("n_shards")),
                       n_jobs=int(ours.pop("n_jobs", "-1")),
                       output_s3_uri=ours.pop("output_s3_uri", None),
                       engine_cache_s3_uri=ours.pop("engine_cache_s3_uri", None),
                       params=Genie3Params.from_dict(ours))
        except KeyError as missing:
            raise ShardError(f"the shard's hyperparameters have no {missing}") from None
        if task.shard_index != index:
            raise ShardError(f"{partition_key} is not shard {index}")
        return task


class HostFigures(TypedDict):
    host: str
    n_targets: int
    cores: int
    compute_seconds: float


class ShardReport(TypedDict, total=False):
    """What a shard reports. The shard program writes every key but those marked otherwise."""

    partition_key: str
    shard_index: int
    n_shards: int
    host: str  # the host, or the hosts joined by commas once combined
    n_hosts: int
    n_targets: int
    n_regulators: int
    n_samples: int
    n_edges: int
    cores: int
    estimated_peak_mib: float
    compute_seconds: float  # the engine's time; a combined shard's is its slowest host's
    compile_seconds: float  # before that, compiling or loading the engine; the slowest host's
    sign_seconds: float  # after it, each edge's Spearman rho (its sign); the slowest host's
    started_at: float  # Unix time
    finished_at: float
    seconds_per_target: float
    total_seconds: float  # the program's whole time, reading and writing included
    input_fingerprint: str  # the expression matrix it was computed from
    params: dict  # Genie3Params.as_dict()
    machine: str
    python: str
    hosts: list[HostFigures]  # combined shards only
    # Added by the runner (with_runner_facts):
    runner: str  # local-subprocess or sagemaker
    instance_type: str
    instance_count: int
    billable_seconds: float
    wall_seconds: float
    managed_spot: bool
    job_name: str
    job_arn: str
    host_outputs: str
    model_artifacts: str
    estimated_cost_usd: float


# The figures of a whole shard, which replace its first host's own once hosts are combined.
SHARD_TOTALS = ("host", "n_targets", "n_edges", "cores", "compute_seconds", "compile_seconds",
                "sign_seconds", "started_at", "finished_at", "seconds_per_target")


def combine_reports(reports: list[ShardReport]) -> ShardReport:
    """One report for a shard computed by several hosts.

    The shard's compute time is its slowest host's and its cores all hosts' cores, so
    compute_seconds × cores is the core time the shard held.
    """
    n_targets = sum(r["n_targets"] for r in reports)
    compute_seconds = max(r["compute_seconds"] for r in reports)
    return ShardReport(**{
        **reports[0],
        "host": ",".join(r["host"] for r in reports),
        "n_targets": n_targets,
        "n_edges": sum(r["n_edges"] for r in reports),
        "cores": sum(r["cores"] for r in reports),
        "compute_seconds": compute_seconds,
        "compile_seconds": max(r.get("compile_seconds", 0.0) for r in reports),
        "sign_seconds": max(r.get("sign_seconds", 0.0) for r in reports),
        "started_at": min(r["started_at"] for r in reports),
        "finished_at": max(r["finished_at"] for r in reports),
        "seconds_per_target": round(compute_seconds / max(1, n_targets), 5),
        "total_seconds": max(r.get("total_seconds", r["compute_seconds"]) for r in reports),
        "hosts": [HostFigures(host=r["host"], n_targets=r["n_targets"], cores=r["cores"],
                              compute_seconds=r["compute_seconds"]) for r in reports]})


def with_runner_facts(report: ShardReport, **facts: Any) -> ShardReport:
    """The report with what the runner knows and the program does not (instance, billing)."""
    unknown = set(facts) - set(ShardReport.__annotations__)
    if unknown:
        raise ShardError(f"not part of a shard report: {sorted(unknown)}")
    return ShardReport(**{**report, **facts})


def read_regulator_names(path: Path) -> list[str]:
    """The stored regulator list: one name a line, as written (a name may hold spaces)."""
    return [name for name in path.read_text(encoding="utf-8").splitlines() if name]
