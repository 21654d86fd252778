"""The one place that chooses where things run (GENIE_ENV) and defines the code location."""

import os
from pathlib import Path

from dagster import Definitions

from genie_assets.assets import ALL_ASSETS, ALL_CHECKS
from genie_assets.jobs import expression_job, network_job, shards_job
from genie_assets.resources import (
    Genie3Settings,
    LocalArtifactStore,
    LocalShardRunner,
    SparkResource,
    local_spark_config,
)

ARTIFACTS_DIR = str(Path(os.environ.get("GENIE_ARTIFACTS_DIR", ".genie/artifacts")).resolve())

RESOURCES = {
    "local": {
        "store": LocalArtifactStore(root=ARTIFACTS_DIR),
        "shard_runner": LocalShardRunner(n_jobs=int(os.environ.get("GENIE_SHARD_CORES", "-1"))),
        "genie3": Genie3Settings.from_env(),
        "spark": SparkResource(spark_config=local_spark_config(
            cores=int(os.environ.get("GENIE_SPARK_CORES", "2")))),
    },
}

resources = RESOURCES[os.environ.get("GENIE_ENV", "local")]

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[expression_job, shards_job, network_job],
    resources=resources,
)
