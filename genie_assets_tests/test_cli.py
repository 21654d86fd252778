"""The jobs through Dagster's CLI, sharing one instance through DAGSTER_HOME."""

import json
import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey, DagsterInstance

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def run_job(env, job, partition=None):
    command = [DAGSTER, "job", "execute", "-m", "genie_assets.definitions", "-j", job]
    if partition:
        command += ["--tags", json.dumps({"dagster/partition": partition})]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def test_cli_runs_one_shard_partition_into_the_shared_instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "art"),
           "GENIE_N_TREES": "50", "GENIE_SHARD_CORES": "1"}
    shard = run_job(env, "shards_job", "shard-0002")
    assert shard.returncode != 0, "a shard cannot run before the expression matrix exists"

    expression = run_job(env, "expression_job")
    assert expression.returncode == 0, expression.stderr[-3000:]
    shard = run_job(env, "shards_job", "shard-0002")
    assert shard.returncode == 0, shard.stderr[-3000:]

    assert (tmp_path / "art" / "shards" / "shard-0002.parquet").is_file()
    assert not (tmp_path / "art" / "shards" / "shard-0000.parquet").exists()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.get()
    partitions = instance.get_materialized_partitions(AssetKey("importance_shards"))
    assert partitions == {"shard-0002"}

    # A failed partition (no expression yet) and the missing ones are what a backfill re-runs.
    listed = subprocess.run([sys.executable, "-m", "genie_assets.backfill", "--dry-run"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "shard-0002" not in listed.stdout
    for key in ("shard-0000", "shard-0001", "shard-0003"):
        assert f"{key}: missing" in listed.stdout
    backfill = subprocess.run([sys.executable, "-m", "genie_assets.backfill"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=600)
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    instance = DagsterInstance.get()
    assert instance.get_materialized_partitions(AssetKey("importance_shards")) == {
        "shard-0000", "shard-0001", "shard-0002", "shard-0003"}
