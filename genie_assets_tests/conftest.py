import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GENIE_SHARED_DATA", REPO.parent / "shared" / "data"))
DREAM4 = SHARED_DATA / "dream4"

# Published GENIE3 results (Huynh-Thu et al. 2010, Table 1), as listed in shared/data/README.md.
PUBLISHED = {1: (0.154, 0.745), 2: (0.155, 0.733), 3: (0.231, 0.775)}


def dream4_paths(network: int) -> tuple[Path, Path]:
    expression = DREAM4 / f"insilico_size100_{network}_multifactorial.tsv"
    gold = DREAM4 / f"DREAM4_GoldStandard_InSilico_Size100_multifactorial_{network}.tsv"
    if not expression.exists():
        pytest.skip(f"DREAM4 data not found at {DREAM4} (set GENIE_SHARED_DATA)")
    return expression, gold


@pytest.fixture(scope="session")
def spark():
    """One real local Spark session for the whole test run (Dagster's resource reuses it)."""
    from pyspark.sql import SparkSession

    from genie_assets.pipeline.resources.spark import local_spark_config, require_java

    require_java()
    builder = SparkSession.builder
    for key, value in local_spark_config(cores=2, driver_memory="2g").items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


@pytest.fixture
def edges_frame():
    def make(rows):
        return pd.DataFrame(rows, columns=["regulator", "target", "importance"])
    return make


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory, spark):
    """The whole toy pipeline, once per test session: (store, metadata by asset, instance)."""
    from dagster import DagsterInstance

    from genie_assets_tests.helpers import TOY_N_TREES, local_resources, materialize_toy_pipeline

    root = tmp_path_factory.mktemp("artifacts")
    resources = local_resources(root, n_trees=TOY_N_TREES)
    instance = DagsterInstance.ephemeral()
    metadata = materialize_toy_pipeline(resources, instance)
    return resources["store"], metadata, instance
