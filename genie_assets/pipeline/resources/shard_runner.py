"""Shard runners: where the shard program runs. Local: a Pipes subprocess on this machine."""


import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    PipesSubprocessClient,
)
from dagster._core.errors import DagsterPipesExecutionError  # not re-exported at top level

from genie_assets.engine.core import resolve_n_jobs
from genie_assets.errors import ShardError, names_a_deterministic_failure
from genie_assets.pipeline.orphans import SCRATCH_PREFIX, claim, scratch_root
from genie_assets.pipeline.resources.storage import ArtifactStore
from genie_assets.settings import python_path
from genie_assets.shard.contract import (
    HYPERPARAMETERS_FILE,
    ShardTask,
    edges_file,
    report_file,
    with_runner_facts,
)


class ShardRunner(ConfigurableResource):
    """Where the shard program runs; `run_shard` leaves the shard's file in the store."""

    def run_shard(self, context: AssetExecutionContext, store: ArtifactStore,
                  task: ShardTask) -> MaterializeResult:
        raise NotImplementedError


class LocalShardRunner(ShardRunner):
    """Runs `python -m genie_assets.shard` in a subprocess under the SageMaker contract.

    The subprocess sees the same paths a SageMaker container would (SM_CHANNEL_EXPRESSION,
    SM_MODEL_DIR, SM_INPUT_CONFIG_DIR), pointed at the artifact store and a temporary folder;
    its output is copied into the store only after it exits cleanly, so a failed or killed
    shard leaves nothing behind.
    """

    n_jobs: int = -1

    def run_shard(
        self,
        context: AssetExecutionContext,
        store: ArtifactStore,
        task: ShardTask,
    ) -> MaterializeResult:
        partition_key = task.partition_key
        cores = resolve_n_jobs(self.n_jobs)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{partition_key}-",
                                         dir=scratch_root()) as scratch:
            scratch_path = Path(scratch)
            # If this process dies, the next start finds the folder and fails its run.
            claim(scratch_path, context.run_id)
            config_dir = scratch_path / "input" / "config"
            config_dir.mkdir(parents=True)
            hyper = task.on_runner(n_jobs=cores).to_hyperparameters()
            (config_dir / HYPERPARAMETERS_FILE).write_text(json.dumps(hyper))
            model_dir = scratch_path / "model"
            env = {
                "SM_INPUT_DIR": str(scratch_path / "input"),
                "SM_INPUT_CONFIG_DIR": str(config_dir),
                "SM_MODEL_DIR": str(model_dir),
                "SM_OUTPUT_DIR": str(scratch_path / "output"),
                "SM_CHANNEL_EXPRESSION": str(store.expression_dir()),
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_NUM_CPUS": str(cores),
                "PYTHONPATH": os.pathsep.join(
                    p for p in [str(Path(__file__).resolve().parents[3]),
                                python_path()] if p
                ),
            }
            try:
                completed = PipesSubprocessClient().run(
                    context=context,
                    command=[sys.executable, "-m", "genie_assets.shard"],
                    env=env,
                )
            except DagsterPipesExecutionError as error:
                failure = scratch_path / "output" / "failure"
                reason = failure.read_text() if failure.exists() else str(error)
                raise shard_failure(f"{partition_key} failed: {reason}") from error
            output = model_dir / edges_file(partition_key)
            if not output.is_file():
                raise ShardError(f"{partition_key}: the shard program wrote no {output.name}")
            wall_seconds = time.perf_counter() - started
            runner_facts = {"runner": "local-subprocess", "instance_type": "local",
                            "instance_count": 1, "wall_seconds": round(wall_seconds, 3),
                            "billable_seconds": round(wall_seconds, 3)}
            report = json.loads((model_dir / report_file(partition_key)).read_text())
            store.put_file(output, store.shard_file(partition_key))
            store.put_text(store.shard_report_file(partition_key),
                           json.dumps(with_runner_facts(report, **runner_facts), indent=2))
        return _with_runner_metadata(
            completed.get_materialize_result(),
            {**runner_facts, "path": str(store.shard_file(partition_key))},
        )


def shard_failure(message: str) -> Exception:
    """The error to fail a shard with: a Dagster Failure that is not retried when the cause
    would recur (bad input, too little memory), else a ShardError the retry policy retries."""
    if names_a_deterministic_failure(message):
        return Failure(description=f"{message} (not retried: it would fail again)",
                       allow_retries=False)
    return ShardError(message)


def _with_runner_metadata(result: MaterializeResult, extra: dict[str, Any]) -> MaterializeResult:
    return MaterializeResult(
        asset_key=result.asset_key,
        metadata={**(result.metadata or {}), **extra},
        data_version=result.data_version,
    )
