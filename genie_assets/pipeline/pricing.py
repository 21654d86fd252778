"""What a shard costs: one price table, in one place, overridable.

On-demand SageMaker training prices in USD per instance-hour (us-east-1, as listed by AWS in
2026; check your region). Override or extend with GENIE_PRICE_TABLE=/path/to/prices.json
({"ml.c5.9xlarge": 2.142, ...}). "local" costs nothing.
"""

from __future__ import annotations

import json

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
