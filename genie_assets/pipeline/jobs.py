"""Jobs. The partitioned shards and the unpartitioned merge live in separate jobs: a run of a
mixed job for one partition would also run the merge, which fails until every shard exists."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from genie_assets.pipeline.partitions import condition_shard_partitions, shard_partitions

expression_job = define_asset_job(
    "expression_job", selection=AssetSelection.assets("expression_matrix"),
    description="Validate and store the expression matrix (step 1 of 3).",
)
shards_job = define_asset_job(
    "shards_job", selection=AssetSelection.assets("importance_shards"),
    partitions_def=shard_partitions,
    description="One shard of GENIE3 importances per run; backfill it over partitions (step 2).",
)
network_job = define_asset_job(
    "network_job",
    selection=AssetSelection.assets("importance_shards").downstream() - AssetSelection.assets(
        "importance_shards"),
    description="Merge the shards and analyse the network on Spark (step 3 of 3).",
    # One process for all steps, so they share one Spark session instead of starting a JVM each.
    executor_def=in_process_executor,
)
condition_shards_job = define_asset_job(
    "condition_shards_job", selection=AssetSelection.assets("condition_shards"),
    partitions_def=condition_shard_partitions,
    description="One shard of one condition's network per run (conditions, step 2).",
)
conditions_job = define_asset_job(
    "conditions_job",
    selection=AssetSelection.assets("condition_networks", "differential_network"),
    description="Each condition's network, and what changed between them (conditions, step 3).",
)
