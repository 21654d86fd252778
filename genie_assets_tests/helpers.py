"""Running the toy pipeline through Dagster's public surface, for the tests."""

import os
import shutil
import socket
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, materialize

from genie_assets.pipeline.assets import ALL_ASSETS, ALL_CHECKS
from genie_assets.pipeline.partitions import shard_partitions
from genie_assets.pipeline.resources import (
    ArtifactStore,
    Genie3Settings,
    LocalShardRunner,
    SparkResource,
    local_spark_config,
)

DOWNSTREAM = ["edge_table", "filtered_network", "gene_degrees", "hub_genes", "gene_modules",
              "regulons", "network_view", "network_exports", "network_evaluation",
              "benchmark_report"]
# Trees per target in the tests' toy runs: enough for the toy network's known answers.
TOY_N_TREES = 300
SHARD_KEYS = shard_partitions.get_partition_keys()

# The browser tests drive Debian's Chromium through Playwright (no browser download).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Chromium not installed (apt-get install chromium); CI installs it",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def materialize_toy_pipeline(resources: dict, instance: DagsterInstance) -> dict:
    """expression → every shard partition → downstream; returns metadata by asset."""
    metadata = {}
    result = materialize(ALL_ASSETS, selection=["expression_matrix"], resources=resources,
                         instance=instance)
    assert result.success, failure_messages(result)
    for key in SHARD_KEYS:
        result = materialize(ALL_ASSETS, selection=["importance_shards"], partition_key=key,
                             resources=resources, instance=instance)
        assert result.success, failure_messages(result)
        metadata[key] = result.asset_materializations_for_node("importance_shards")[0].metadata
    result = materialize([*ALL_ASSETS, *ALL_CHECKS], selection=DOWNSTREAM, resources=resources,
                         instance=instance)
    assert result.success, failure_messages(result)
    for name in DOWNSTREAM:
        metadata[name] = result.asset_materializations_for_node(name)[0].metadata
    metadata["checks"] = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    return metadata
