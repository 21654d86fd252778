"""Sensors the daemon runs (`make ui` starts it)."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from genie_assets.pipeline.orphans import sweep
from genie_assets.settings import deployment


@sensor(default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=60)
def orphaned_shard_runs(context: SensorEvaluationContext) -> SkipReason:
    """Shard runs whose Dagster process died are marked failed and their scratch removed."""
    done = sweep(context.instance)
    for line in done:
        context.log.warning(line)
    return SkipReason("; ".join(done) or "no orphaned shard runs")


# Evaluates the eager conditions below the shards (pipeline/automation.py) every 30 seconds;
# on from the start (where Dagster's implicit automation sensor would start off), unless
# GENIE_AUTOMATION=false, as for the daemon the backfill CLI starts for its shards alone.
network_follows_the_shards = AutomationConditionSensorDefinition(
    "network_follows_the_shards",
    target=AssetSelection.assets("importance_shards").downstream()
    - AssetSelection.assets("importance_shards"),
    default_status=DefaultSensorStatus.RUNNING if deployment().automation
    else DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=30,
    description="Rebuilds the edge table and the network once the last shard has landed.",
)
