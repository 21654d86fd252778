"""`python -m genie_assets.backfill`: re-run only the shard partitions that failed, are missing,
or are stale (computed from another expression matrix or with other GENIE3 parameters).

The CLI twin of the UI's "Launch backfill → Failed and missing" on importance_shards, plus the
stale shards that the merge refuses. Uses the instance at DAGSTER_HOME, so the runs show in the
UI like any other.
"""

from __future__ import annotations

import argparse
import sys

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from genie_assets.definitions import defs, resources
from genie_assets.network.edges import staleness
from genie_assets.pipeline.orphans import sweep
from genie_assets.pipeline.partitions import shard_partitions


def shards_to_backfill(instance: DagsterInstance) -> dict[str, str]:
    """Partition key → why it needs a run ("missing", "failed" or "stale: ...")."""
    store = resources["store"]
    materialized = instance.get_materialized_partitions(AssetKey("importance_shards"))
    stored = set(store.list_shards())
    keys = shard_partitions.get_partition_keys()
    fingerprint = store.expression_manifest()["fingerprint"] if stored else ""
    params = resources["genie3"].params().as_dict()
    reasons = {}
    for key in keys:
        latest = instance.get_runs(
            filters=RunsFilter(job_name="shards_job", tags={"dagster/partition": key}), limit=1)
        if latest and latest[0].status == DagsterRunStatus.FAILURE:
            reasons[key] = "failed"
        elif key not in materialized or key not in stored:
            reasons[key] = "missing"
        elif why := staleness(store.shard_report(key), fingerprint, params, len(keys)):
            reasons[key] = f"stale: {why}"
    return reasons


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="only list the partitions")
    args = parser.parse_args(argv)
    instance = DagsterInstance.get()
    for line in sweep(instance):  # runs left STARTED by a killed process count as failed
        print(line)
    todo = shards_to_backfill(instance)
    if not todo:
        print("Every shard partition is materialized; nothing to backfill.")
        return 0
    for key, reason in todo.items():
        print(f"{key}: {reason}")
    if args.dry_run:
        return 0
    job = defs.resolve_job_def("shards_job")
    failed = []
    for key in todo:
        result = job.execute_in_process(instance=instance, partition_key=key,
                                        raise_on_error=False)
        print(f"{key}: {'done' if result.success else 'FAILED again'} (run {result.run_id})")
        if not result.success:
            failed.append(key)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
