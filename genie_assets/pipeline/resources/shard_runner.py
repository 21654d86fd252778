"""Shard runners: where the shard program runs. Local: a Pipes subprocess on this machine."""


import json
import multiprocessing
import os
import signal
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
    PipesTempFileContextInjector,
    PipesTempFileMessageReader,
    open_pipes_session,
)
from dagster._core.errors import (  # not re-exported at top level
    DagsterExecutionInterruptedError,
    DagsterPipesExecutionError,
)
from dagster._core.pipes.client import PipesClientCompletedInvocation

from genie_assets.engine.compiling import engine_threads_started
from genie_assets.engine.core import resolve_n_jobs
from genie_assets.errors import ShardError, names_a_deterministic_failure
from genie_assets.pipeline.orphans import SCRATCH_PREFIX, claim, scratch_root
from genie_assets.pipeline.resources.storage import ArtifactStore
from genie_assets.settings import adopt_environment, python_path
from genie_assets.shard.contract import (
    HYPERPARAMETERS_FILE,
    ShardTask,
    edges_file,
    report_file,
    with_runner_facts,
)
from genie_assets.shard.program import main as shard_program


class ShardRunner(ConfigurableResource):
    """Where the shard program runs; `run_shard` leaves the shard's file in the store."""

    def run_shard(self, context: AssetExecutionContext, store: ArtifactStore,
                  task: ShardTask) -> MaterializeResult:
        raise NotImplementedError


class LocalShardRunner(ShardRunner):
    """Runs the shard program (`python -m genie_assets.shard`'s `main`) in a subprocess under
    the SageMaker contract.

    The subprocess sees the same paths a SageMaker container would (SM_CHANNEL_EXPRESSION,
    SM_MODEL_DIR, SM_INPUT_CONFIG_DIR), pointed at the artifact store and a temporary folder;
    its output is copied into the store only after it exits cleanly, so a failed or killed
    shard leaves nothing behind. The subprocess is forked from the run's own process, which
    has the program's modules imported already (see `run_forked_shard_program`).
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
                if engine_threads_started():
                    # The engine ran in this process (a notebook's genie3(), a test), which
                    # makes a fork unsafe: a new interpreter instead, at its start-up cost.
                    completed = PipesSubprocessClient().run(
                        context=context, command=[sys.executable, "-m", "genie_assets.shard"],
                        env=env)
                else:
                    completed = run_forked_shard_program(context, env)
            except DagsterExecutionInterruptedError as interrupted:
                raise interrupted_shard(f"{partition_key}: interrupted; the shard program was "
                                        "stopped and left nothing") from interrupted
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


# How long an interrupted shard program has to exit after SIGINT before it is killed.
TERMINATION_SECONDS = 20


def run_forked_shard_program(context: AssetExecutionContext,
                             env: dict[str, str]) -> PipesClientCompletedInvocation:
    """The shard program in a Pipes session, in a child forked from this process.

    What `PipesSubprocessClient` does with `python -m genie_assets.shard`, without a new
    interpreter importing pandas, pyarrow, numba and the engine again (about 1 s of each
    shard's CPU: at genome scale a fifth of a short shard's time outside the engine). Only
    where this process has not run the engine (engine_threads_started), as a run's process
    never does: the child starts the engine's threads afresh.
    """
    with open_pipes_session(context=context, context_injector=PipesTempFileContextInjector(),
                            message_reader=PipesTempFileMessageReader()) as session:
        child = multiprocessing.get_context("fork").Process(
            target=_shard_program, args=({**env, **session.get_bootstrap_env_vars()},),
            name=f"shard program {context.partition_key}")
        child.start()
        try:
            child.join()
        except DagsterExecutionInterruptedError:
            context.log.info("[pipes] execution interrupted, sending SIGINT to the shard program.")
            os.kill(child.pid, signal.SIGINT)
            child.join(timeout=TERMINATION_SECONDS)
            if child.exitcode is None:  # deep in a compiled kernel: nothing computes on
                child.kill()
                child.join()
            raise
        if child.exitcode != 0:
            raise DagsterPipesExecutionError(
                f"The shard program failed with code {child.exitcode}")
    return PipesClientCompletedInvocation(session)


def _shard_program(env: dict[str, str]) -> None:
    # The run's process turns SIGINT into Dagster's interrupt; the program takes it as Python
    # does, and its environment is the contract's, as an exec'd process's would be.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    adopt_environment(env)
    sys.exit(shard_program())


def interrupted_shard(message: str) -> Failure:
    """The error to end an interrupted shard with (the UI's Terminate, Ctrl-C), once its
    program or job is stopped. Dagster retries an interrupted step under its retry policy even
    when the run is being terminated: the shard would compute again (on SageMaker, in a new
    training job) while the run waits in Canceling."""
    return Failure(description=message, allow_retries=False)


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
