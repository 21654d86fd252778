"""GENIE3 importances, one partition per shard of target genes."""


from dagster import AssetExecutionContext, MaterializeResult, asset

from genie_assets.partitions import N_SHARDS, shard_partitions
from genie_assets.resources import Genie3Settings, LocalArtifactStore, LocalShardRunner
from genie_assets.sharding import shard_index


@asset(
    group_name="genie3",
    partitions_def=shard_partitions,
    deps=["expression_matrix"],
    compute_kind="genie3",
)
def importance_shards(
    context: AssetExecutionContext,
    store: LocalArtifactStore,
    shard_runner: LocalShardRunner,
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
