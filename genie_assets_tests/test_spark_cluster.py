"""The Spark assets on a real Spark standalone cluster: a master and two workers on 127.0.0.1,
started with pyspark's own launcher, chosen by GENIE_SPARK_MASTER through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pyspark
import pytest
from dagster import AssetKey, DagsterInstance

from genie_assets.pipeline.layout import FILTERED_NETWORK, GENE_DEGREES, HUB_GENES
from genie_assets.pipeline.resources import require_java
from genie_assets_tests.helpers import free_port

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
N_WORKERS = 2
SPARK_ASSETS = ("filtered_network", "gene_degrees", "hub_genes")


def alive_workers(web_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=5) as page:
            return int(json.load(page).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """spark://127.0.0.1:PORT with N_WORKERS workers of one core each; stopped afterwards."""
    require_java()
    root = tmp_path_factory.mktemp("spark-cluster")
    port, web_port = free_port(), free_port()
    master_url = f"spark://127.0.0.1:{port}"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(root / "logs"),
           "PYSPARK_PYTHON": sys.executable}
    processes = []

    def launch(name: str, *arguments: str) -> None:
        log = open(root / f"{name}.log", "wb")
        processes.append(subprocess.Popen([str(SPARK_CLASS), *arguments], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))

    launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
           "--port", str(port), "--webui-port", str(web_port))
    for index in range(N_WORKERS):
        launch(f"worker-{index}", "org.apache.spark.deploy.worker.Worker", master_url,
               "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
               "--webui-port", str(free_port()), "--work-dir", str(root / f"work-{index}"))
    try:
        deadline = time.monotonic() + 120
        while alive_workers(web_port) < N_WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                logs = "\n".join(path.read_text(errors="replace")[-1500:]
                                 for path in sorted(root.glob("*.log")))
                pytest.fail(f"the standalone cluster did not come up:\n{logs}")
            time.sleep(1)
        yield master_url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def sorted_table(path: Path) -> pd.DataFrame:
    table = pd.read_parquet(path)
    return table.sort_values(list(table.columns[:2])).reset_index(drop=True)


def without_the_spark_tables(local_store, artifacts: Path) -> Path:
    """A copy of the local run's artifacts for the Spark assets to rebuild."""
    shutil.copytree(local_store.root, artifacts)
    for parts in (FILTERED_NETWORK, GENE_DEGREES, HUB_GENES):
        shutil.rmtree(artifacts.joinpath(*parts), ignore_errors=True)
        artifacts.joinpath(*parts).unlink(missing_ok=True)
    return artifacts


def spark_assets_through_the_cli(env: dict, artifacts: Path, local_store) -> dict:
    """Materialise the Spark assets with `dagster asset materialize` in `env`, check they give
    the local run's tables, and return each asset's metadata."""
    done = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "genie_assets.definitions",
         "--select", ",".join(SPARK_ASSETS)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    # Weighted degrees to 1e-9: a sum's order follows the partitions.
    for parts in (FILTERED_NETWORK, GENE_DEGREES, HUB_GENES):
        pd.testing.assert_frame_equal(sorted_table(artifacts.joinpath(*parts)),
                                      sorted_table(local_store.path(*parts)),
                                      check_exact=False, rtol=1e-9)
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    return {name: instance.get_latest_materialization_event(
        AssetKey(name)).asset_materialization.metadata for name in SPARK_ASSETS}


def test_the_spark_assets_on_a_standalone_cluster_give_the_local_tables(
        standalone_cluster, toy_run, tmp_path):
    local_store, local_metadata, _ = toy_run
    assert local_metadata["filtered_network"]["spark_master"].value.startswith("local")
    artifacts = without_the_spark_tables(local_store, tmp_path / "artifacts")
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(artifacts),
           "GENIE_SPARK_MASTER": standalone_cluster,
           # Every executor registered before the first task, so the count below is whole.
           "GENIE_SPARK_CONF": json.dumps({
               "spark.executor.memory": "512m", "spark.executor.cores": "1",
               "spark.cores.max": str(N_WORKERS),
               "spark.scheduler.minRegisteredResourcesRatio": "1.0"})}
    for name, metadata in spark_assets_through_the_cli(env, artifacts, local_store).items():
        assert metadata["spark_master"].value == standalone_cluster
        assert metadata["spark_executors"].value == N_WORKERS, name


SPARK_SUBMIT = Path(pyspark.__file__).parent / "bin" / "spark-submit"


@pytest.fixture(scope="module")
def spark_connect_server(tmp_path_factory):
    """sc://127.0.0.1:PORT: pyspark's own Spark Connect server (its jar ships with pyspark),
    running in local mode; stopped afterwards."""
    require_java()
    root = tmp_path_factory.mktemp("spark-connect")
    port = free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    log = open(root / "server.log", "wb")
    server = subprocess.Popen(
        [str(SPARK_SUBMIT), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
         "--master", "local[2]", "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", "spark.ui.enabled=false"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("the Spark Connect server did not come up:\n"
                            + (root / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_spark_assets_through_spark_connect_give_the_local_tables(
        spark_connect_server, toy_run, tmp_path):
    """No JVM on the client: the assets' Spark work runs in the Connect server."""
    local_store, _, _ = toy_run
    artifacts = without_the_spark_tables(local_store, tmp_path / "artifacts")
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(artifacts),
           "GENIE_SPARK_REMOTE": spark_connect_server,
           # A client that tried to start a JVM of its own would fail: no Spark there.
           "SPARK_HOME": str(tmp_path / "no-spark-here")}
    for name, metadata in spark_assets_through_the_cli(env, artifacts, local_store).items():
        assert metadata["spark_remote"].value == spark_connect_server, name
        assert metadata["spark_master"].value == "local[2]", "the server's own master"
