"""GENIE3 importances, one partition per shard of target genes."""

import warnings

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    Backoff,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from genie_assets.engine import RESULT_VERSIONS
from genie_assets.pipeline.partitions import N_SHARDS, shard_partitions
from genie_assets.pipeline.resources import ArtifactStore, Genie3Settings, ShardRunner
from genie_assets.settings import deployment
from genie_assets.shard.contract import ShardTask

# The deployment's GENIE3 parameters (the ones definitions.py registers as the `genie3`
# resource) and its method's result version are part of the code version, so changing them
# (or the engine's results for that method) marks every shard stale in the UI; a new
# expression matrix does so via its data version.
DEPLOYED_PARAMS = deployment().genie3
# Shards running at once, across all runs, are limited by this pool: the instance's
# `concurrency: pools: default_limit` (deploy/dagster.yaml), or `dagster instance concurrency
# set shard_jobs N`; in aws mode set it to the account's SageMaker training-job quota.
SHARD_POOL = "shard_jobs"
SHARD_CODE_VERSION = (f"engine-{RESULT_VERSIONS[DEPLOYED_PARAMS.result_kind()]}"
                      f"-params-{DEPLOYED_PARAMS.digest()}")


def shard_asset(*, group_name: str, partitions_def):
    """The asset decorator every shard asset shares: it runs the shard program for one
    partition, in the `shard_jobs` pool, one run per partition, retried on transient failure,
    stale when the deployment's parameters or the engine's results change."""

    def decorate(compute):
        # BackfillPolicy is beta in Dagster 1.13: the policy is wanted, the warning at every
        # load is not.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
            return asset(
                group_name=group_name,
                partitions_def=partitions_def,
                deps=["expression_matrix"],
                kinds={"python", "numba"},
                code_version=SHARD_CODE_VERSION,
                # Transient failures (a lost spot instance, a killed process) are retried; a
                # shard's output only lands when it completes, so a retry starts clean.
                retry_policy=RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL),
                pool=SHARD_POOL,
                # One run per shard: a failed shard fails alone and is backfilled alone.
                backfill_policy=BackfillPolicy.multi_run(1),
            )(compute)

    return decorate


@shard_asset(group_name="genie3", partitions_def=shard_partitions)
def importance_shards(
    context: AssetExecutionContext,
    store: ArtifactStore,
    shard_runner: ShardRunner,
    genie3: Genie3Settings,
) -> MaterializeResult:
    """Regulator → target importances for one shard of targets, by the shard program."""
    task = ShardTask(partition_key=context.partition_key, n_shards=N_SHARDS,
                     params=genie3.params())
    return shard_runner.run_shard(context, store, task)
