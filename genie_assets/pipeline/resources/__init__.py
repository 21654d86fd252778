"""Resources: where shards run, where artifacts live, and the Spark session."""

from genie_assets.pipeline.resources.genie3_settings import Genie3Settings
from genie_assets.pipeline.resources.sagemaker_runner import SageMakerShardRunner
from genie_assets.pipeline.resources.shard_runner import LocalShardRunner, ShardRunner
from genie_assets.pipeline.resources.spark import (
    SparkResource,
    driver_loss_explained,
    local_spark_config,
    require_java,
    spark_config,
    where_spark_runs,
)
from genie_assets.pipeline.resources.storage import ArtifactStore, S3ArtifactStore

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
