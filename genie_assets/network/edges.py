"""The edge table: shard outputs merged by streaming, never held whole in memory."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow.parquet as pq

from genie_assets.errors import MissingShardsError, StaleShardsError
from genie_assets.files import atomic_path
from genie_assets.shard.program import edge_schema, read_shard_report


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
    shard_files: Mapping[str, Path], expected_keys: Sequence[str], output: Path, *,
    input_fingerprint: str, params: Mapping[str, object],
    shards_of: str = "importance_shards",
    rerun: str = "`python -m genie_assets.backfill` selects stale shards",
) -> MergeSummary:
    """Stream every shard's edges into one Parquet file at `output`, written atomically.

    Refuses, naming the shards, when some are missing or when any was not computed from the
    current expression matrix (`input_fingerprint`) with the deployment's GENIE3 `params` and
    shard count: such a shard is stale, and merging it would give an old network a new name.
    The errors name the shards' asset (`shards_of`) and say how to re-run them (`rerun`).
    """
    missing = [key for key in expected_keys if key not in shard_files]
    if missing:
        raise MissingShardsError(
            f"{len(missing)} of {len(expected_keys)} shards have no output yet: "
            f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}; "
            f"materialize (backfill) those partitions of {shards_of} first"
        )
    reports = {key: read_shard_report(shard_files[key]) for key in expected_keys}
    stale = {key: why for key, report in reports.items()
             if (why := staleness(report, input_fingerprint, params, len(expected_keys)))}
    if stale:
        described = "; ".join(f"{key}: {why}" for key, why in list(stale.items())[:20])
        raise StaleShardsError(
            f"{len(stale)} of {len(expected_keys)} shards of {shards_of} were not computed from "
            "the current "
            f"expression matrix (fingerprint {input_fingerprint[:12]}) with this deployment's "
            f"GENIE3 parameters and {len(expected_keys)} shards, so they cannot be merged: "
            f"{described}{' ...' if len(stale) > 20 else ''}. Re-materialize them: {rerun}"
        )

    n_edges = 0
    low, high, total = math.inf, -math.inf, 0.0
    with atomic_path(output) as temporary:
        schema = edge_schema(pq.read_schema(shard_files[expected_keys[0]]).names)
        with pq.ParquetWriter(temporary, schema) as writer:
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


def staleness(report: Mapping, input_fingerprint: str, params: Mapping[str, object],
              n_shards: int) -> str:
    """Why a shard's output does not belong to the current run ('' when it does)."""
    reasons = []
    if report["input_fingerprint"] != input_fingerprint:
        reasons.append(f"computed from input {report['input_fingerprint'][:12]}")
    differing = {name: value for name, value in report["params"].items()
                 if params.get(name) != value}
    if differing or set(report["params"]) != set(params):
        expected = {name: params.get(name) for name in differing}
        reasons.append(f"parameters {differing} (expected {expected})")
    if report["n_shards"] != n_shards:
        reasons.append(f"one of {report['n_shards']} shards (expected {n_shards})")
    if "sign_seconds" not in report:
        reasons.append("written by a shard program older than signed edges (no rho column)")
    return ", ".join(reasons)


@dataclasses.dataclass
class EdgeTableInspection:
    """What one streaming pass over an edge table found."""

    n_edges: int
    missing_targets: list[str]
    targets_with_wrong_pairs: list[str]
    n_self_edges: int
    n_non_finite: int
    n_negative: int


def inspect_edge_table(path: Path, genes: Sequence[str], regulators: Sequence[str]
                       ) -> EdgeTableInspection:
    """Check every target's rows in one pass, in memory proportional to the number of genes.

    A target is right when it has exactly one row per regulator but itself: its row count and
    the wrapping sum of its regulators' 64-bit hashes both match, so a duplicated pair that
    stands in for a missing one is caught too.
    """
    import numpy as np
    import pandas as pd

    def hashes(names) -> np.ndarray:
        return pd.util.hash_array(np.asarray(names, dtype=object), categorize=False)

    regulator_set = set(regulators)
    regulator_hash_sum = np.uint64(hashes(list(regulators)).sum(dtype=np.uint64))
    counts: dict[str, int] = {}
    hash_sums: dict[str, np.uint64] = {}
    n_edges = n_self = n_non_finite = n_negative = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1 << 20):
        frame = batch.to_pandas()
        n_edges += len(frame)
        n_self += int((frame.regulator == frame.target).sum())
        importance = frame.importance.to_numpy()
        n_non_finite += int((~np.isfinite(importance)).sum())
        n_negative += int((importance < 0).sum())
        frame["hash"] = hashes(frame.regulator.to_numpy())
        grouped = frame.groupby("target", sort=False)["hash"]
        for target, count in grouped.size().items():
            counts[target] = counts.get(target, 0) + int(count)
        for target, total in grouped.agg(lambda h: h.to_numpy().sum(dtype=np.uint64)).items():
            hash_sums[target] = np.uint64(hash_sums.get(target, np.uint64(0)) + np.uint64(total))
    missing = [g for g in genes if g not in counts]
    wrong = []
    with np.errstate(over="ignore"):
        for target, count in counts.items():
            own = target in regulator_set
            expected_count = len(regulator_set) - own
            expected_hash = regulator_hash_sum - (hashes([target])[0] if own else np.uint64(0))
            if count != expected_count or hash_sums[target] != expected_hash:
                wrong.append(target)
    return EdgeTableInspection(n_edges, missing, sorted(wrong), n_self, n_non_finite, n_negative)
