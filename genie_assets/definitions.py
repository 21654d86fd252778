"""The one place that chooses where things run (GENIE_ENV) and defines the code location."""

from dagster import Definitions, in_process_executor

from genie_assets.pipeline.assets import ALL_ASSETS, ALL_CHECKS
from genie_assets.pipeline.jobs import (
    condition_shards_job,
    conditions_job,
    expression_job,
    network_job,
    shards_job,
)
from genie_assets.pipeline.resources import (
    ArtifactStore,
    Genie3Settings,
    LocalShardRunner,
    SparkResource,
    spark_config,
)
from genie_assets.pipeline.sensors import network_follows_the_shards, orphaned_shard_runs
from genie_assets.settings import Settings, deployment


def build_resources(settings: Settings) -> dict:
    """The resources of a deployment: local (the default) or aws (docs/aws.md)."""
    reads_s3 = settings.environment == "aws" and settings.aws.spark_reads_s3
    spark = SparkResource(spark_config=spark_config(
        settings.spark, s3a=settings.aws if reads_s3 else None))
    genie3 = Genie3Settings.of(settings.genie3)
    if settings.environment == "local":
        return {
            "store": ArtifactStore(root=settings.artifacts_dir),
            "shard_runner": LocalShardRunner(n_jobs=settings.shard_cores),
            "genie3": genie3,
            "spark": spark,
        }
    # Shards run as SageMaker training jobs; every artifact lives under s3://bucket/prefix/;
    # the merge and the graph run where Dagster runs, reading from the bucket.
    from dagster_aws.s3 import S3Resource

    from genie_assets.pipeline.resources import S3ArtifactStore, SageMakerShardRunner

    aws = settings.aws
    return {
        "store": S3ArtifactStore(
            root=settings.artifacts_dir, bucket=aws.bucket, prefix=aws.prefix,
            s3=S3Resource(region_name=aws.region), spark_reads_s3=aws.spark_reads_s3),
        "shard_runner": SageMakerShardRunner(
            role_arn=aws.role_arn, bucket=aws.bucket, prefix=aws.prefix, region=aws.region,
            image_uri=aws.image_uri, instance_type=aws.instance_type,
            instance_count=aws.instance_count, tags=aws.tags,
            volume_size_gb=aws.volume_size_gb, max_runtime_seconds=aws.max_runtime_seconds,
            use_spot=aws.use_spot, poll_seconds=aws.poll_seconds),
        "genie3": genie3,
        "spark": spark,
    }


resources = build_resources(deployment())

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[expression_job, shards_job, network_job, condition_shards_job, conditions_job],
    sensors=[orphaned_shard_runs, network_follows_the_shards],
    resources=resources,
    # Every run's steps in the run's own process. The multiprocess default would start a
    # second Python per step that imports the whole code location again (2.5 s of CPU) only
    # to start the shard program, itself a process of its own, or to share nothing with the
    # next step's Spark session: at 40 shards that is 100 s of a 2-core backfill. Jobs built
    # from the UI's selections (backfills included) get this executor too.
    executor=in_process_executor,
)
