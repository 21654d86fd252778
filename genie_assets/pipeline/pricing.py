"""What a shard costs: one price table, in one place, overridable.

On-demand SageMaker training prices in USD per instance-hour (us-east-1, as listed by AWS in
2026; check your region). Override or extend with GENIE_PRICE_TABLE=/path/to/prices.json
({"ml.c5.9xlarge": 2.142, ...}). "local" costs nothing.
"""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from genie_assets.settings import deployment

USD_PER_INSTANCE_HOUR = {
    "local": 0.0,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765,
    "ml.m5.24xlarge": 5.53,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.c5.9xlarge": 1.836,
    "ml.c5.18xlarge": 3.672,
    "ml.m6i.xlarge": 0.23,
    "ml.m6i.4xlarge": 0.922,
    "ml.c6i.8xlarge": 1.632,
    "ml.g5.xlarge": 1.408,
}


def price_table() -> dict[str, float]:
    table = dict(USD_PER_INSTANCE_HOUR)
    override = deployment().price_table_path
    if override:
        with open(override) as handle:
            table.update({k: float(v) for k, v in json.load(handle).items()})
    return table


def cost_usd(instance_type: str, instance_count: int, billable_seconds: float) -> float | None:
    """Estimated cost, or None where the instance type has no price."""
    price = price_table().get(instance_type)
    if price is None:
        return None
    return price * instance_count * billable_seconds / 3600.0


GENOME_SCALE_TARGETS = 49_000


@dataclasses.dataclass(frozen=True)
class RunCosts:
    """What the stored shards cost together, and that projected to a genome's targets."""

    n_shards: int
    n_targets: int
    n_regulators: int
    n_samples: int
    core_seconds: float  # compute seconds × cores, summed over the shards
    # The shards' own wall time × cores, summed: what their machines were held for, start-up,
    # reading and writing included.
    held_core_seconds: float
    wall_seconds: float  # the first shard's start to the last one's finish
    compile_seconds: float  # compiling the engine, not in the core-seconds
    concurrency: float  # shards computing at once, on average
    # Of the core time the shards held (wall time × cores), the share spent building trees;
    # the rest is start-up, reading and writing.
    parallel_efficiency: float
    cost_usd: float
    per_shard: pd.DataFrame

    @property
    def core_seconds_per_target(self) -> float:
        return self.core_seconds / max(self.n_targets, 1)

    @property
    def projected_core_hours(self) -> float:
        return self.core_seconds_per_target * GENOME_SCALE_TARGETS / 3600

    @property
    def projected_held_core_hours(self) -> float:
        """The projection as the machines are held (engine, start-up, reading, writing): the
        figure a budget needs, where projected_core_hours is the engine's alone."""
        return self.held_core_seconds / max(self.n_targets, 1) * GENOME_SCALE_TARGETS / 3600

    @property
    def projected_cost_usd(self) -> float:
        return self.cost_usd / max(self.n_targets, 1) * GENOME_SCALE_TARGETS


def run_costs(shard_reports: list[dict]) -> RunCosts:
    """Add up the shards' reports (as the runners store them beside each shard)."""
    reports = pd.DataFrame(shard_reports)
    reports["core_seconds"] = reports.compute_seconds * reports.cores
    # Shards stored before compile time was reported have none.
    reports["compile_seconds"] = reports.get(
        "compile_seconds", pd.Series([0.0] * len(reports))).fillna(0.0)
    reports["instance_type"] = reports.get(
        "instance_type", pd.Series(["local"] * len(reports))).fillna("local")
    reports["instance_count"] = reports.get("instance_count", pd.Series([1] * len(reports)))
    billable = reports.get("billable_seconds", reports.total_seconds)
    costs = [cost_usd(t, int(c), float(b)) for t, c, b in
             zip(reports.instance_type, reports.instance_count, billable)]
    wall = float(reports.finished_at.max() - reports.started_at.min())
    core_seconds = float(reports.core_seconds.sum())
    reserved = float((reports.get("wall_seconds", reports.total_seconds) * reports.cores).sum())
    return RunCosts(
        n_shards=len(reports),
        n_targets=int(reports.n_targets.sum()),
        n_regulators=int(reports.n_regulators.iloc[0]),
        n_samples=int(reports.n_samples.iloc[0]),
        core_seconds=core_seconds,
        held_core_seconds=reserved,
        wall_seconds=wall,
        compile_seconds=float(reports.compile_seconds.sum()),
        concurrency=float(reports.compute_seconds.sum()) / wall if wall > 0 else 1.0,
        parallel_efficiency=core_seconds / reserved if reserved > 0 else 1.0,
        cost_usd=sum(c for c in costs if c is not None),
        per_shard=reports[["partition_key", "instance_type", "instance_count", "cores",
                           "n_targets", "compute_seconds", "compile_seconds",
                           "seconds_per_target"]],
    )
