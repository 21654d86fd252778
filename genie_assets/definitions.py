"""The one place that chooses where things run (GENIE_ENV) and defines the code location."""

import json
import os
from pathlib import Path

from dagster import Definitions
from dagster_aws.s3 import S3Resource

from genie_assets.assets import ALL_ASSETS, ALL_CHECKS
from genie_assets.jobs import expression_job, network_job, shards_job
from genie_assets.sensors import orphaned_shard_runs
from genie_assets.resources import (
    Genie3Settings,
    ArtifactStore,
    LocalShardRunner,
    S3ArtifactStore,
    SageMakerShardRunner,
    SparkResource,
    local_spark_config,
)

ARTIFACTS_DIR = str(Path(os.environ.get("GENIE_ARTIFACTS_DIR", ".genie/artifacts")).resolve())

LOCAL_SPARK = SparkResource(spark_config=local_spark_config(
    cores=int(os.environ.get("GENIE_SPARK_CORES", "2"))))


def _sagemaker_runner() -> SageMakerShardRunner:
    """Cloud settings from the environment (see README, "Run on AWS")."""
    env = os.environ
    return SageMakerShardRunner(
        role_arn=env.get("GENIE_SAGEMAKER_ROLE_ARN", ""),
        bucket=env.get("GENIE_S3_BUCKET", ""),
        prefix=env.get("GENIE_S3_PREFIX", "genie-assets"),
        region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        image_uri=env.get("GENIE_SAGEMAKER_IMAGE") or None,
        instance_type=env.get("GENIE_SAGEMAKER_INSTANCE_TYPE", "ml.m5.xlarge"),
        instance_count=int(env.get("GENIE_SAGEMAKER_INSTANCE_COUNT", "1")),
        tags=json.loads(env.get("GENIE_SAGEMAKER_TAGS", "{}")),
        volume_size_gb=int(env.get("GENIE_SAGEMAKER_VOLUME_GB", "30")),
        max_runtime_seconds=int(env.get("GENIE_SAGEMAKER_MAX_RUNTIME", str(24 * 3600))),
        use_spot=env.get("GENIE_SAGEMAKER_SPOT", "false").lower() == "true",
    )


RESOURCES = {
    "local": {
        "store": ArtifactStore(root=ARTIFACTS_DIR),
        "shard_runner": LocalShardRunner(n_jobs=int(os.environ.get("GENIE_SHARD_CORES", "-1"))),
        "genie3": Genie3Settings.from_env(),
        "spark": LOCAL_SPARK,
    },
    # Shards run as SageMaker training jobs; every artifact lives under s3://bucket/prefix/;
    # the merge and the graph run where Dagster runs, reading from the bucket.
    "aws": {
        "store": S3ArtifactStore(
            root=ARTIFACTS_DIR,
            bucket=os.environ.get("GENIE_S3_BUCKET", ""),
            prefix=os.environ.get("GENIE_S3_PREFIX", "genie-assets"),
            s3=S3Resource(region_name=os.environ.get("AWS_REGION",
                                                     os.environ.get("AWS_DEFAULT_REGION"))),
            spark_reads_s3=os.environ.get("GENIE_SPARK_READS_S3", "false").lower() == "true",
        ),
        "shard_runner": _sagemaker_runner(),
        "genie3": Genie3Settings.from_env(),
        "spark": LOCAL_SPARK,
    },
}

resources = RESOURCES[os.environ.get("GENIE_ENV", "local")]

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[expression_job, shards_job, network_job],
    sensors=[orphaned_shard_runs],
    resources=resources,
)
