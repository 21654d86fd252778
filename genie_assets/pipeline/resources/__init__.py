"""Resources: where shards run, where artifacts live, and the Spark session."""

from genie_assets.pipeline.resources.genie3_settings import Genie3Settings
from genie_assets.pipeline.resources.shard_runner import LocalShardRunner, ShardRunner
from genie_assets.pipeline.resources.spark import (
    SparkResource,
    driver_loss_explained,
    local_spark_config,
    require_java,
    spark_config,
    where_spark_runs,
)
from genie_assets.pipeline.resources.storage import ArtifactStore

__all__ = [
    "Genie3Settings",
    "ArtifactStore",
    "LocalShardRunner",
    "S3ArtifactStore",
    "SageMakerShardRunner",
    "ShardRunner",
    "SparkResource",
    "driver_loss_explained",
    "local_spark_config",
    "require_java",
    "spark_config",
    "where_spark_runs",
]

# aws mode's resources, imported when first asked for: they bring dagster-aws and boto3, which
# a local run worker would otherwise import for nothing at every start.
_AWS_RESOURCES = {
    "S3ArtifactStore": "genie_assets.pipeline.resources.s3_storage",
    "SageMakerShardRunner": "genie_assets.pipeline.resources.sagemaker_runner",
}


def __getattr__(name: str):
    if name in _AWS_RESOURCES:
        import importlib

        return getattr(importlib.import_module(_AWS_RESOURCES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
