"""Sensors the daemon runs (`make ui` starts it)."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from genie_assets.pipeline.orphans import sweep


@sensor(default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=60)
def orphaned_shard_runs(context: SensorEvaluationContext) -> SkipReason:
    """Shard runs whose Dagster process died are marked failed and their scratch removed."""
    done = sweep(context.instance)
    for line in done:
        context.log.warning(line)
    return SkipReason("; ".join(done) or "no orphaned shard runs")
