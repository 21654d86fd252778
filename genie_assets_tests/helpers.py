"""Running the toy pipeline through Dagster's public surface, for the tests."""

import json
import os
import shutil
import socket
import subprocess
import sys
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

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
DOWNSTREAM = ["edge_table", "filtered_network", "gene_degrees", "hub_genes", "gene_modules",
              "regulons", "regulon_activity", "network_view", "network_exports",
              "network_evaluation", "benchmark_report"]
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


def overlap(windows: list[tuple[float, float]]) -> int:
    """The most windows open at one instant."""
    edges = sorted([(start, 1) for start, _ in windows] + [(end, -1) for _, end in windows])
    most = open_now = 0
    for _, change in edges:
        open_now += change
        most = max(most, open_now)
    return most


def execute_job(env: dict, job: str, partition: str = None) -> subprocess.CompletedProcess:
    """`dagster job execute` of one of the definitions' jobs, optionally for one partition."""
    command = [DAGSTER, "job", "execute", "-m", "genie_assets.definitions", "-j", job]
    if partition:
        command += ["--tags", json.dumps({"dagster/partition": partition})]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def run_shard_partitions_at_once(env: dict, keys: list[str]) -> list[tuple[float, float]]:
    """One `dagster job execute` of shards_job per key, all started together, into the
    instance at env's DAGSTER_HOME; each run's (start, end) as the instance recorded it."""
    launched = [subprocess.Popen(
        [DAGSTER, "job", "execute", "-m", "genie_assets.definitions", "-j", "shards_job",
         "--tags", json.dumps({"dagster/partition": key})], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for key in keys]
    for process in launched:
        _, errors = process.communicate(timeout=900)
        assert process.returncode == 0, errors[-3000:]
    from dagster import RunsFilter

    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    runs = instance.get_runs(filters=RunsFilter(job_name="shards_job"))
    assert len(runs) == len(keys)
    return [run_window(instance, r.run_id, DagsterEventType.RUN_START,
                       DagsterEventType.RUN_SUCCESS) for r in runs]


def run_window(instance, run_id: str, start, end) -> tuple[float, float]:
    times = {event.dagster_event.event_type: event.timestamp
             for event in instance.all_logs(run_id, of_type={start, end})}
    return times[start], times[end]


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


def materialize_toy_shards(resources: dict, instance: DagsterInstance) -> dict:
    """expression → every shard partition; returns each shard's metadata by partition key."""
    metadata = {}
    result = materialize(ALL_ASSETS, selection=["expression_matrix"], resources=resources,
                         instance=instance)
    assert result.success, failure_messages(result)
    for key in SHARD_KEYS:
        result = materialize(ALL_ASSETS, selection=["importance_shards"], partition_key=key,
                             resources=resources, instance=instance)
        assert result.success, failure_messages(result)
        metadata[key] = result.asset_materializations_for_node("importance_shards")[0].metadata
    return metadata


def materialize_toy_pipeline(resources: dict, instance: DagsterInstance) -> dict:
    """expression → every shard partition → downstream; returns metadata by asset."""
    metadata = materialize_toy_shards(resources, instance)
    result = materialize([*ALL_ASSETS, *ALL_CHECKS], selection=DOWNSTREAM, resources=resources,
                         instance=instance)
    assert result.success, failure_messages(result)
    for name in DOWNSTREAM:
        metadata[name] = result.asset_materializations_for_node(name)[0].metadata
    metadata["checks"] = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    return metadata


# Why a GraphFrames test skips: the session has none of its jars.
GRAPHFRAMES_MISSING = (
    "GraphFrames' jars are not in the jar cache (GENIE_JARS_DIR) and none is configured "
    "(GENIE_GRAPHFRAMES_JAR/_PACKAGE): `make setup` could not fetch them from Maven Central, "
    "and its line says why")
