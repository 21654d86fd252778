"""Run workers forked from a process that has loaded the code location once.

Dagster's default launcher asks the code server for each run, and the code server starts each
run worker with Python's `spawn`: a new interpreter that imports Dagster and the whole code
location again before the run's first step (3-5 CPU-seconds). A backfill of 40 shards two at a
time pays that 40 times on the cores the shards compute on. `ForkedRunLauncher` instead keeps
one process per code location, a *zygote*, that has imported the code location and built its
definitions, and forks every run worker from it: the run starts in a fraction of a second with
the same code, the same environment and the same run-worker contract (one process per run, its
events in the instance, SIGINT to terminate).

The zygote is started by the first launch, and started again when a source file of the code
location's package changed since (a reloaded code location runs the new code, as with the
code server). It exits when the launcher's process does; run workers already started finish.

`python -m genie_assets.pipeline.run_workers` is the zygote: it reads one request per line on
stdin and answers each with the forked worker's pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, DagsterRun
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._core.origin import JobPythonOrigin
from dagster._serdes import (
    ConfigurableClass,
    ConfigurableClassData,
    deserialize_value,
    serialize_value,
)

# The run tag that records a run's worker, for termination from any process on this machine.
WORKER_PID_TAG = "genie/run_worker_pid"


class ForkedRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a worker forked from its code location's zygote (module docstring).

    In the instance's settings: `run_launcher: {module: genie_assets.pipeline.run_workers,
    class: ForkedRunLauncher}`.
    """

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._inst_data = inst_data
        self._zygotes: dict[tuple, _Zygote] = {}
        self._lock = threading.Lock()
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict[str, Any]):
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            raise ValueError(f"run {run.run_id} names no code to run (no job_code_origin)")
        request = {"run_id": run.run_id,
                   "instance_ref": serialize_value(self._instance.get_ref()),
                   "job_origin": serialize_value(origin)}
        with self._lock:
            pid = self._zygote_for(origin).fork(request)
        self._instance.add_run_tags(run.run_id, {WORKER_PID_TAG: str(pid)})

    def _zygote_for(self, origin: JobPythonOrigin) -> _Zygote:
        repository = origin.repository_origin
        key = (repository.executable_path, repr(repository.code_pointer))
        zygote = self._zygotes.get(key)
        fingerprint = source_fingerprint(repository.code_pointer)
        if zygote is None or not zygote.alive() or zygote.fingerprint != fingerprint:
            if zygote is not None:
                zygote.close()
            zygote = self._zygotes[key] = _Zygote(origin, fingerprint)
        return zygote

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished or WORKER_PID_TAG not in run.tags:
            return False
        self._instance.report_run_canceling(run)
        try:
            # The worker turns SIGINT into Dagster's interrupt: the step stops, the shard
            # program is terminated with it, and the run ends CANCELED.
            os.kill(int(run.tags[WORKER_PID_TAG]), signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    def dispose(self) -> None:
        for zygote in self._zygotes.values():
            zygote.close()
        self._zygotes.clear()


def source_fingerprint(code_pointer: Any) -> tuple:
    """The newest modification time and the count of the .py files of the package the code
    pointer's module belongs to: changes when its code does."""
    module = getattr(code_pointer, "module", None)
    if module is None:
        return ()
    import importlib.util

    spec = importlib.util.find_spec(module.split(".")[0])
    if spec is None or spec.origin is None:
        return ()
    root = Path(spec.origin).parent
    times = [path.stat().st_mtime_ns for path in root.rglob("*.py")]
    return (max(times, default=0), len(times))


class _Zygote:
    """The zygote process of one code location, as seen from the launcher."""

    def __init__(self, origin: JobPythonOrigin, fingerprint: tuple):
        self.fingerprint = fingerprint
        pointer = origin.repository_origin.code_pointer
        cwd = getattr(pointer, "working_directory", None) or os.getcwd()
        self.process = subprocess.Popen(
            [origin.repository_origin.executable_path or sys.executable,
             "-m", "genie_assets.pipeline.run_workers", serialize_value(origin)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd, text=True, bufsize=1)

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, request: dict) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the run workers' zygote exited ({self.process.wait()}) before "
                               f"starting run {request['run_id']}: its output above says why")
        return int(answer)

    def close(self) -> None:
        if self.alive():
            assert self.process.stdin is not None
            self.process.stdin.close()  # the zygote exits at the end of its input
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _load(origin: JobPythonOrigin) -> None:
    """What every run worker would otherwise import and build: the code location's
    definitions, and the modules a run executes with."""
    import dagster._core.execution.api  # noqa: F401
    import dagster._core.storage.event_log.sqlite.sqlite_event_log  # noqa: F401
    import dagster._core.storage.runs.sqlite.sqlite_run_storage  # noqa: F401
    import dagster._grpc.impl  # noqa: F401
    from dagster._utils.hosted_user_process import recon_job_from_origin

    recon_job_from_origin(origin).get_definition()


def _run_worker(request: dict) -> int:
    """One run, in the forked worker: what Dagster's own run worker does."""
    from dagster._core.events import EngineEventData
    from dagster._grpc.impl import core_execute_run
    from dagster._utils.hosted_user_process import recon_job_from_origin
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts(), DagsterInstance.from_ref(
            deserialize_value(request["instance_ref"])) as instance:
        run = instance.get_run_by_id(request["run_id"])
        if run is None:
            print(f"run worker: no run {request['run_id']} in the instance", file=sys.stderr)
            return 1
        pid = os.getpid()
        instance.report_engine_event(f"Started process for run (pid: {pid}).", run,
                                     EngineEventData.in_process(pid))
        origin = deserialize_value(request["job_origin"], JobPythonOrigin)
        failed = False
        try:
            for _ in core_execute_run(recon_job_from_origin(origin), run, instance,
                                      inject_env_vars=False):
                pass
        except BaseException:  # noqa: BLE001 - core_execute_run has logged it to the run
            failed = True
        finished: DagsterRun | None = instance.get_run_by_id(run.run_id)
        instance.report_engine_event(f"Process for run exited (pid: {pid}).", finished or run)
        return 1 if failed else 0


def _reap(*_: Any) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def main(argv: list[str]) -> int:
    """The zygote: load the code location once, then fork a run worker per request."""
    # The answers get stdout to themselves, first: anything the code location prints as it
    # loads (or a worker prints) goes where the launcher's process prints.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # The zygote ends with its input (its launcher gone), not with a Ctrl-C meant for the
    # launcher's process; each worker takes SIGINT again, for Terminate.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    origin = deserialize_value(argv[0], JobPythonOrigin)
    _load(origin)
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.stdin.close()
            answers.close()
            code = 1
            try:
                code = _run_worker(request)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        answers.write(f"{pid}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
