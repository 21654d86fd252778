"""The edge table: shard outputs merged by streaming, never held whole in memory."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow.parquet as pq

from genie_assets.errors import InconsistentShardsError, MissingShardsError
from genie_assets.files import atomic_path
from genie_assets.shard import EDGE_SCHEMA, read_shard_report


@dataclasses.dataclass
class MergeSummary:
    n_edges: int
    n_targets: int
    n_shards: int
    n_regulators: int
    importance_min: float
    importance_max: float
    importance_mean: float
    input_fingerprint: str
    params: dict
    shard_reports: list[dict]


def merge_shards(
    shard_files: Mapping[str, Path], expected_keys: Sequence[str], output: Path
) -> MergeSummary:
    """Stream every shard's edges into one Parquet file at `output`, written atomically.

    Refuses, naming the shards, when some are missing or when shards were computed from
    different inputs or GENIE3 parameters.
    """
    missing = [key for key in expected_keys if key not in shard_files]
    if missing:
        raise MissingShardsError(
            f"{len(missing)} of {len(expected_keys)} shards have no output yet: "
            f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}; "
            "materialize (backfill) those partitions of importance_shards first"
        )
    reports = {key: read_shard_report(shard_files[key]) for key in expected_keys}
    _check_consistent(reports)

    n_edges = 0
    low, high, total = math.inf, -math.inf, 0.0
    with atomic_path(output) as temporary:
        with pq.ParquetWriter(temporary, EDGE_SCHEMA) as writer:
            for key in expected_keys:
                shard = pq.ParquetFile(shard_files[key])
                for batch in shard.iter_batches(batch_size=1 << 20):
                    writer.write_batch(batch)
                    if batch.num_rows:
                        values = batch.column("importance").to_numpy(zero_copy_only=False)
                        n_edges += batch.num_rows
                        low = min(low, float(values.min()))
                        high = max(high, float(values.max()))
                        total += float(values.sum(dtype="float64"))
    first = reports[expected_keys[0]]
    return MergeSummary(
        n_edges=n_edges,
        n_targets=sum(r["n_targets"] for r in reports.values()),
        n_shards=len(expected_keys),
        n_regulators=first["n_regulators"],
        importance_min=low if n_edges else 0.0,
        importance_max=high if n_edges else 0.0,
        importance_mean=total / n_edges if n_edges else 0.0,
        input_fingerprint=first["input_fingerprint"],
        params=first["params"],
        shard_reports=[reports[k] for k in expected_keys],
    )


def _check_consistent(reports: Mapping[str, dict]) -> None:
    by_origin: dict[tuple, list[str]] = {}
    for key, report in reports.items():
        origin = (report["input_fingerprint"], tuple(sorted(report["params"].items())),
                  report["n_shards"])
        by_origin.setdefault(origin, []).append(key)
    if len(by_origin) > 1:
        groups = sorted(by_origin.items(), key=lambda item: -len(item[1]))
        described = "; ".join(
            f"shards {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}: input "
            f"{origin[0][:12]}, parameters {dict(origin[1])}, {origin[2]} shards"
            for origin, keys in groups
        )
        raise InconsistentShardsError(
            "shards were computed from different inputs or parameters and cannot be merged "
            f"({described}); re-materialize the odd ones"
        )
