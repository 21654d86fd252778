"""Running the toy pipeline through Dagster's public surface, for the tests."""

from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, materialize

from genie_assets.assets import ALL_ASSETS, ALL_CHECKS
from genie_assets.partitions import shard_partitions
from genie_assets.resources import (
    Genie3Settings,
    ArtifactStore,
    LocalShardRunner,
    SparkResource,
    local_spark_config,
)

DOWNSTREAM = ["edge_table", "filtered_network", "gene_degrees", "hub_genes",
              "network_evaluation", "benchmark_report"]
SHARD_KEYS = shard_partitions.get_partition_keys()


def local_resources(root: Path, n_trees: int = 300, n_jobs: int = 2) -> dict:
    return {
        "store": ArtifactStore(root=str(root)),
        "shard_runner": LocalShardRunner(n_jobs=n_jobs),
        "genie3": Genie3Settings(n_trees=n_trees),
        "spark": SparkResource(spark_config=local_spark_config(cores=2, driver_memory="2g")),
    }


def run(selection, resources, instance, partition_key=None, run_config=None):
    """Materialize `selection` (asset names) with the project's assets and checks."""
    return materialize(
        [*ALL_ASSETS, *ALL_CHECKS], selection=selection, resources=resources, instance=instance,
        partition_key=partition_key, run_config=run_config, raise_on_error=False,
    )


def failure_messages(result) -> str:
    """Every step failure's error text (with its causes) in a run."""
    texts = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return "\n".join(texts)


def new_instance() -> DagsterInstance:
    return DagsterInstance.ephemeral()
