"""GENIE3 importances, one partition per shard of target genes."""


from dagster import AssetExecutionContext, Backoff, MaterializeResult, RetryPolicy, asset

from genie_assets.partitions import N_SHARDS, shard_partitions
from genie_assets.resources import Genie3Settings, ArtifactStore, ShardRunner
from genie_assets.sharding import shard_index

# Bump when a change to the engine changes its results.
ENGINE_CODE_VERSION = "1"
# The deployment's GENIE3 parameters are part of the code version, so changing them (or the
# engine) marks every shard stale in the UI; a new expression matrix does so via its data version.
DEPLOYED_PARAMS = Genie3Settings.from_env().params()


@asset(
    group_name="genie3",
    partitions_def=shard_partitions,
    deps=["expression_matrix"],
    compute_kind="genie3",
    code_version=f"engine-{ENGINE_CODE_VERSION}-params-{DEPLOYED_PARAMS.digest()}",
    # Transient failures (a lost spot instance, a killed process) are retried; a shard's output
    # only lands when it completes, so a retry starts clean.
    retry_policy=RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL),
)
def importance_shards(
    context: AssetExecutionContext,
    store: ArtifactStore,
    shard_runner: ShardRunner,
    genie3: Genie3Settings,
) -> MaterializeResult:
    """Regulator → target importances for one shard of targets, computed by the shard program."""
    key = context.partition_key
    hyperparameters = {
        "partition_key": key,
        "shard_index": str(shard_index(key)),
        "n_shards": str(N_SHARDS),
        **{name: str(value) for name, value in genie3.params().as_dict().items()},
    }
    return shard_runner.run_shard(context, store, hyperparameters)
