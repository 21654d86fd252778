"""The shard contract: a task survives SageMaker's string hyperparameters; reports combine."""

import ast

import pytest

from genie_assets.engine import Genie3Params
from genie_assets.errors import ShardError
from genie_assets.shard.contract import (
    ShardTask,
    combine_reports,
    output_name,
    with_runner_facts,
)
from genie_assets_tests.conftest import REPO


def test_a_task_round_trips_through_hyperparameters():
    task = ShardTask(partition_key="shard-0003", n_shards=8,
                     params=Genie3Params(method="ET", n_trees=250, max_features=7, seed=11))
    sent = task.on_runner(n_jobs=4, output_s3_uri="s3://bucket/jobs/x/hosts",
                          engine_cache_s3_uri="s3://bucket/engine-cache")
    hyperparameters = sent.to_hyperparameters()
    assert all(isinstance(value, str) for value in hyperparameters.values())
    assert hyperparameters["shard_index"] == "3"
    # The training toolkit adds its own entries; they are not the task's.
    received = ShardTask.from_hyperparameters(
        {**hyperparameters, "sagemaker_program": "genie_shard_entry.py"})
    assert received == sent
    assert received.params.max_features == 7


def test_hyperparameters_that_do_not_make_a_task_are_refused():
    good = ShardTask("shard-0001", 4, Genie3Params()).to_hyperparameters()
    with pytest.raises(ShardError, match="no 'n_shards'"):
        ShardTask.from_hyperparameters({k: v for k, v in good.items() if k != "n_shards"})
    with pytest.raises(ShardError, match="shard-0001 is not shard 2"):
        ShardTask.from_hyperparameters({**good, "shard_index": "2"})
    with pytest.raises(ValueError, match="unknown GENIE3 parameters"):
        ShardTask.from_hyperparameters({**good, "loss": "huber"})
    with pytest.raises(ValueError, match="learning_rate applies to method GBM only"):
        ShardTask.from_hyperparameters({**good, "learning_rate": "0.1"})


def test_the_reports_of_a_jobs_hosts_combine_into_the_shards():
    hosts = [{"host": "algo-1", "n_targets": 10, "n_edges": 90, "cores": 4,
              "compute_seconds": 5.0, "compile_seconds": 0.4, "started_at": 100.0,
              "finished_at": 106.0,
              "seconds_per_target": 0.5, "total_seconds": 6.0, "input_fingerprint": "f"},
             {"host": "algo-2", "n_targets": 9, "n_edges": 81, "cores": 4,
              "compute_seconds": 7.0, "compile_seconds": 95.0, "started_at": 101.0,
              "finished_at": 109.0,
              "seconds_per_target": 0.78, "total_seconds": 8.0, "input_fingerprint": "f"}]
    shard = combine_reports(hosts)
    assert (shard["host"], shard["n_targets"], shard["n_edges"], shard["cores"]) == \
        ("algo-1,algo-2", 19, 171, 8)
    assert shard["compute_seconds"] == 7.0  # the slowest host's
    assert shard["compile_seconds"] == 95.0  # likewise
    assert (shard["started_at"], shard["finished_at"]) == (100.0, 109.0)
    assert [h["host"] for h in shard["hosts"]] == ["algo-1", "algo-2"]
    assert output_name("shard-0000", "algo-2", 2) == "shard-0000.algo-2"
    assert output_name("shard-0000", "algo-1", 1) == "shard-0000"
    assert with_runner_facts(shard, instance_type="ml.m5.xlarge")["instance_type"] == \
        "ml.m5.xlarge"
    with pytest.raises(ShardError, match="not part of a shard report"):
        with_runner_facts(shard, colour="blue")


@pytest.mark.parametrize("party", ["shard/program.py", "pipeline/assets/shards.py",
                                   "pipeline/resources/shard_runner.py",
                                   "pipeline/resources/sagemaker_runner.py"])
def test_every_party_to_the_contract_imports_it(party):
    tree = ast.parse((REPO / "genie_assets" / party).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "genie_assets.shard.contract" in imported
