"""Failure made cheap: killed shards, missing or mismatched shards, repeats and races."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterEventType, DagsterInstance

from genie_assets.engine import genie3
from genie_assets.inputs.toy import toy_dataset
from genie_assets.pipeline.layout import EDGE_TABLE
from genie_assets.pipeline.resources import Genie3Settings
from genie_assets.shard.program import PROCESS_NAME as SHARD_PROCESS_NAME
from genie_assets_tests.helpers import (
    SHARD_KEYS,
    failure_messages,
    local_resources,
    new_instance,
    run,
)

N_TREES = 300


def shard_processes() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name == SHARD_PROCESS_NAME:
                pids.append(int(entry.name))
    return pids


class ShardKiller(threading.Thread):
    """SIGKILLs every shard program it sees, once it has run for `after` seconds."""

    def __init__(self, after: float):
        super().__init__(daemon=True)
        self.after, self.killed, self.stop = after, [], threading.Event()

    def run(self):
        seen = {}
        while not self.stop.is_set():
            for pid in shard_processes():
                seen.setdefault(pid, time.monotonic())
                if pid not in self.killed and time.monotonic() - seen[pid] >= self.after:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
            time.sleep(0.05)


def snapshot(folder: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def expected_edges(n_trees=N_TREES) -> pd.DataFrame:
    expression, regulators, _ = toy_dataset()
    return genie3(expression, regulators, n_trees=n_trees)


def assert_same_edges(left: pd.DataFrame, right: pd.DataFrame):
    joined = left.merge(right, on=["regulator", "target"])
    assert len(joined) == len(left) == len(right)
    assert (joined.importance_x == joined.importance_y).all()


@pytest.fixture
def prepared(tmp_path):
    resources = local_resources(tmp_path, n_trees=N_TREES, n_jobs=1)
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    return resources, instance


def test_killed_shard_fails_its_partition_leaves_nothing_and_backfills(prepared, spark):
    resources, instance = prepared
    store = resources["store"]
    for key in SHARD_KEYS[:-1]:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    before = snapshot(store.path("shards"))

    # The attempts to kill grow 200 times the trees, so each is still computing when killed
    # (the shard of N_TREES trees can finish within the killer's second on a fast machine).
    slow = {**resources, "genie3": Genie3Settings(n_trees=200 * N_TREES)}
    killer = ShardKiller(after=1.0)
    killer.start()
    try:
        result = run(["importance_shards"], slow, instance, partition_key=SHARD_KEYS[-1])
    finally:
        killer.stop.set()
        killer.join()
    assert not result.success
    assert len(killer.killed) == 3, "the first attempt and both retries were killed"
    assert not store.shard_file(SHARD_KEYS[-1]).exists()
    assert snapshot(store.path("shards")) == before, "other partitions were touched"

    merge = run(["edge_table"], resources, instance)
    assert not merge.success
    assert SHARD_KEYS[-1] in failure_messages(merge)

    # The backfill: re-run only the failed partition, then the merge.
    assert run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[-1]).success
    assert run(["edge_table"], resources, instance).success
    assert_same_edges(pd.read_parquet(store.path(*EDGE_TABLE)), expected_edges())


def test_merge_refuses_missing_shards_and_names_them(prepared):
    resources, instance = prepared
    for key in SHARD_KEYS[::2]:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    result = run(["edge_table"], resources, instance)
    assert not result.success
    message = failure_messages(result)
    for key in SHARD_KEYS[1::2]:
        assert key in message
    assert "backfill" in message
    assert not resources["store"].path(*EDGE_TABLE).exists()


def test_merge_refuses_shards_computed_with_other_parameters(prepared, tmp_path):
    resources, instance = prepared
    odd = {**resources, "genie3": Genie3Settings(n_trees=50)}
    for key in SHARD_KEYS:
        chosen = odd if key == SHARD_KEYS[1] else resources
        assert run(["importance_shards"], chosen, instance, partition_key=key).success
    result = run(["edge_table"], resources, instance)
    assert not result.success
    message = failure_messages(result)
    assert ("1 of 4 shards of importance_shards were not computed from the current "
            "expression matrix") in message
    # The shard computed differently is named, with what it was computed with and what the
    # deployment expects; the others are not.
    assert f"{SHARD_KEYS[1]}: parameters {{'n_trees': 50}} (expected {{'n_trees': {N_TREES}}})" \
        in message
    assert not any(f"{key}:" in message for key in SHARD_KEYS if key != SHARD_KEYS[1])


def test_merge_refuses_a_shard_written_before_edges_were_signed(prepared):
    """A shard of an older shard program (no rho column, no sign_seconds in its report) cannot
    join signed ones: the merge names it as stale (so the backfill lists it), and once re-run
    the edge table carries rho."""
    import json

    import pyarrow.parquet as pq

    from genie_assets.shard.contract import SHARD_METADATA_KEY

    resources, instance = prepared
    store = resources["store"]
    for key in SHARD_KEYS:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    old_key = SHARD_KEYS[2]
    table = pq.read_table(store.shard_file(old_key))
    report = json.loads(table.schema.metadata[SHARD_METADATA_KEY])
    del report["sign_seconds"]
    pq.write_table(table.drop_columns(["rho"]).replace_schema_metadata(
        {SHARD_METADATA_KEY: json.dumps(report)}), store.shard_file(old_key))
    store.shard_report_file(old_key).write_text(json.dumps(report))
    result = run(["edge_table"], resources, instance)
    assert not result.success
    message = failure_messages(result)
    assert (f"{old_key}: written by a shard program older than signed edges "
            "(no rho column)") in message
    assert not any(f"{key}:" in message for key in SHARD_KEYS if key != old_key)
    assert run(["importance_shards"], resources, instance, partition_key=old_key).success
    assert run(["edge_table"], resources, instance).success
    edges = pd.read_parquet(store.path(*EDGE_TABLE))
    assert list(edges.columns) == ["regulator", "target", "importance", "rho"]


def test_rerun_replaces_exactly_its_own_file(prepared):
    resources, instance = prepared
    store = resources["store"]
    for key in SHARD_KEYS:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    first = pd.read_parquet(store.shard_file(SHARD_KEYS[2]))
    others = {k: snapshot(store.path("shards"))[f"{k}.parquet"]
              for k in SHARD_KEYS if k != SHARD_KEYS[2]}
    assert run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[2]).success
    after = snapshot(store.path("shards"))
    assert {k: after[f"{k}.parquet"] for k in others} == others
    pd.testing.assert_frame_equal(first, pd.read_parquet(store.shard_file(SHARD_KEYS[2])))


def test_concurrent_runs_of_one_partition_leave_one_whole_file(prepared):
    resources, _ = prepared
    store = resources["store"]
    # Two runs that know nothing of each other (two `dagster job execute` calls, two
    # deployments) write one partition's file; each has its own instance, as such runs would.
    # One in-memory instance shared by two threads is not a case Dagster supports: its
    # SQLite storage reports "table is locked".
    results, errors = [], []

    def one_run():
        try:
            # Disposed in its own thread: SQLite connections may not cross threads.
            with new_instance() as instance:
                results.append(run(["importance_shards"], resources, instance,
                                   partition_key=SHARD_KEYS[0]))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(results) == 2 and all(r.success for r in results)
    assert sorted(p.name for p in store.path("shards").iterdir()) == [
        f"{SHARD_KEYS[0]}.json", f"{SHARD_KEYS[0]}.parquet"], "no temporary file is left"
    expected = expected_edges()
    shard = pd.read_parquet(store.shard_file(SHARD_KEYS[0]))
    assert_same_edges(shard, expected[expected.target.isin(set(shard.target))])


def test_shard_that_would_run_out_of_memory_fails_before_starting(prepared, monkeypatch):
    resources, instance = prepared
    monkeypatch.setenv("GENIE_MEMORY_LIMIT_BYTES", str(64 << 20))
    result = run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[0])
    assert not result.success
    assert not resources["store"].shard_file(SHARD_KEYS[0]).exists()
    message = failure_messages(result)
    assert f"{SHARD_KEYS[0]} failed: ShardMemoryError" in message
    assert "GiB is available" in message
    # It would fail the same way again: no retry.
    retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert not retries and "not retried" in message


def test_a_killed_shard_is_retried_but_a_memory_refusal_is_not():
    from genie_assets.errors import names_a_deterministic_failure

    assert names_a_deterministic_failure("AlgorithmError: ExecuteUserScriptError: ... "
                                         "genie_assets.errors.ShardMemoryError: needs 3 GiB")
    assert names_a_deterministic_failure("ExpressionMatrixError: x.tsv: no such file")
    assert not names_a_deterministic_failure("shard-0001 failed: process exited with -9")


def process_table() -> dict[int, tuple[int, int]]:
    """Every process: pid → (parent pid, process group), from /proc/PID/stat."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = int(fields[1]), int(fields[2])
    return table


def process_group(pgid: int) -> list[int]:
    return [pid for pid, (_, group) in process_table().items() if group == pgid]


def test_a_run_whose_dagster_process_died_is_failed_and_its_scratch_removed(tmp_path):
    """Kill the Dagster processes of a shard run (not the shard itself): the run would stay
    STARTED and leak its scratch folder; the next start (the daemon's sensor, the backfill)
    marks it failed, removes the folder, and the backfill picks the partition up."""
    from dagster import DagsterRunStatus, build_sensor_context

    from genie_assets.pipeline.layout import SCRATCH_OWNER_FILE
    from genie_assets.pipeline.orphans import SCRATCH_PREFIX, scratch_root
    from genie_assets.pipeline.sensors import orphaned_shard_runs

    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "a"),
           "GENIE_SHARD_CORES": "1", "GENIE_N_TREES": "200000"}
    dagster = [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
               "genie_assets.definitions"]
    subprocess.run([*dagster, "-j", "expression_job"], env=env, check=True, capture_output=True,
                   timeout=300)
    before = set(scratch_root().glob(f"{SCRATCH_PREFIX}*"))
    launched = subprocess.Popen([*dagster, "-j", "shards_job", "--tags",
                                 '{"dagster/partition": "shard-0001"}'], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
            shard_processes() and set(scratch_root().glob(f"{SCRATCH_PREFIX}*")) - before):
        time.sleep(0.5)
    (scratch,) = set(scratch_root().glob(f"{SCRATCH_PREFIX}*")) - before
    assert (scratch / SCRATCH_OWNER_FILE).is_file()
    shards = set(shard_processes())
    for pid in process_group(launched.pid):
        if pid not in shards:
            os.kill(pid, signal.SIGKILL)
    launched.wait(timeout=30)
    for pid in shards:  # the orphaned shard computes for nobody; end it too
        os.kill(pid, signal.SIGKILL)

    instance = DagsterInstance.from_config(str(home))
    (orphan,) = instance.get_runs()[:1]
    assert orphan.status == DagsterRunStatus.STARTED and scratch.is_dir()
    skipped = orphaned_shard_runs(build_sensor_context(instance=instance))
    assert f"run {orphan.run_id}: marked failed" in skipped.skip_message
    assert instance.get_run_by_id(orphan.run_id).status == DagsterRunStatus.FAILURE
    assert not scratch.exists()
    listed = subprocess.run([sys.executable, "-m", "genie_assets.backfill", "--dry-run"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert "shard-0001: failed" in listed.stdout, listed.stdout + listed.stderr
    instance.dispose()


def test_a_full_disk_during_the_merge_leaves_the_previous_edge_table(prepared, monkeypatch):
    import errno

    import pyarrow.parquet as pq

    resources, instance = prepared
    for key in SHARD_KEYS:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    assert run(["edge_table"], resources, instance).success
    edges_folder = resources["store"].path(*EDGE_TABLE).parent
    before = snapshot(edges_folder)
    write_batch = pq.ParquetWriter.write_batch
    written = []

    def full_after_one_batch(writer, *args, **kwargs):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(1)
        return write_batch(writer, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", full_after_one_batch)
    result = run(["edge_table"], resources, instance)
    assert not result.success
    assert "No space left on device" in failure_messages(result)
    assert snapshot(edges_folder) == before, "the previous table, and no temporary file"
    monkeypatch.setattr(pq.ParquetWriter, "write_batch", write_batch)
    assert run(["edge_table"], resources, instance).success
    assert_same_edges(pd.read_parquet(resources["store"].path(*EDGE_TABLE)), expected_edges())


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    children: dict[int, list[int]] = {}
    for child, (parent, _) in process_table().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found.extend(below)
        todo.extend(below)
    return found


def spark_driver_below(pid: int) -> int | None:
    """The Spark driver JVM a process started (not spark-class's short-lived launcher JVM)."""
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if (b"org.apache.spark.deploy.SparkSubmit" in command
                and b"org.apache.spark.launcher.Main" not in command):
            return child
    return None


def tree_digest(*folders: Path) -> dict[str, str]:
    import hashlib

    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_spark_jvm_killed_mid_network_job_leaves_the_previous_network(prepared, tmp_path):
    resources, instance = prepared
    for key in SHARD_KEYS:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    art = Path(resources["store"].root)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "GENIE_ARTIFACTS_DIR": str(art),
           "GENIE_N_TREES": str(N_TREES)}
    (tmp_path / "home").mkdir()
    network_job = [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
                   "genie_assets.definitions", "-j", "network_job"]
    repo = Path(__file__).resolve().parents[1]
    first = subprocess.run(network_job, cwd=repo, env=env, capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    good_network = pd.read_parquet(art / "network" / "filtered_network.parquet")
    before = tree_digest(art / "network", art / "exports")

    # Kill the driver JVM once filtered_network has started and the JVM has been up a second.
    job = subprocess.Popen(network_job, cwd=repo, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    output, killed = [], []

    def kill_the_driver():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            driver = spark_driver_below(job.pid)
            if driver:
                time.sleep(1.0)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(driver, signal.SIGKILL)
                    killed.append(driver)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_driver, daemon=True)
    for line in job.stdout:
        output.append(line)
        if 'Started execution of step "filtered_network"' in line and not killer.is_alive():
            killer.start()
    job.wait(timeout=600)
    killer.join(timeout=5)
    text = "".join(output)
    assert killed, "the driver JVM was never seen"
    assert job.returncode != 0
    assert "filtered_network: Spark's driver JVM ended mid-job" in text, text[-4000:]
    assert "The stored filtered_network was not replaced" in text
    assert tree_digest(art / "network", art / "exports") == before, "the previous network changed"
    assert not [p for p in art.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]

    again = subprocess.run(network_job, cwd=repo, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    rebuilt = pd.read_parquet(art / "network" / "filtered_network.parquet")
    columns = ["regulator", "target"]
    pd.testing.assert_frame_equal(rebuilt.sort_values(columns).reset_index(drop=True),
                                  good_network.sort_values(columns).reset_index(drop=True))
