"""The jobs through Dagster's CLI, sharing one instance through DAGSTER_HOME."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey, DagsterInstance, RunsFilter

from genie_assets_tests.helpers import (
    DAGSTER,
    REPO,
    execute_job,
    overlap,
    run_shard_partitions_at_once,
    run_window,
)


def test_cli_runs_one_shard_partition_into_the_shared_instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "art"),
           "GENIE_N_TREES": "50", "GENIE_SHARD_CORES": "1"}
    shard = execute_job(env, "shards_job", "shard-0002")
    assert shard.returncode != 0, "a shard cannot run before the expression matrix exists"

    expression = execute_job(env, "expression_job")
    assert expression.returncode == 0, expression.stderr[-3000:]
    shard = execute_job(env, "shards_job", "shard-0002")
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
    # A real Dagster backfill (the UI's Backfills page), run by a daemon started for it.
    backfill_id = re.search(r"Backfill (\S+): 3 shards submitted", backfill.stdout).group(1)
    assert instance.get_backfill(backfill_id) is not None
    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
    assert sorted(run.tags["dagster/partition"] for run in runs) == [
        "shard-0000", "shard-0001", "shard-0003"]
    assert "No Dagster daemon is running: starting one" in backfill.stdout
    assert re.search(r"3 of 3 shards done, 0 failed, [\d.e+-]+ targets/s", backfill.stdout), \
        backfill.stdout


def backfill(env, *arguments):
    return subprocess.run([sys.executable, "-m", "genie_assets.backfill", *arguments], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)


def test_a_new_matrix_makes_every_old_shard_stale_until_backfilled(tmp_path):
    """Change the input, backfill, rebuild: the whole workflow, and nothing old merged."""
    import pandas as pd
    import yaml

    from genie_assets.engine import genie3
    from genie_assets.inputs.expression import read_expression
    from genie_assets_tests.conftest import dream4_paths

    art = tmp_path / "art"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "GENIE_ARTIFACTS_DIR": str(art),
           "GENIE_N_TREES": "30", "GENIE_SHARD_CORES": "1"}
    (tmp_path / "home").mkdir()

    def use_network(number: int) -> Path:
        expression, gold = dream4_paths(number)
        config = tmp_path / f"network{number}.yaml"
        config.write_text(yaml.safe_dump({"ops": {"expression_matrix": {"config": {
            "path": str(expression), "gold_standard_path": str(gold)}}}}))
        done = subprocess.run([DAGSTER, "job", "execute", "-m", "genie_assets.definitions",
                               "-j", "expression_job", "-c", str(config)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return expression

    use_network(1)
    assert backfill(env).returncode == 0
    from genie_assets.backfill import daemon_running

    instance = DagsterInstance.from_config(str(tmp_path / "home"))
    assert instance.get_daemon_heartbeats(), "the backfill's daemon beat"
    assert not daemon_running(instance), (
        "the daemon the backfill started and stopped, its heartbeat seconds old, is not taken "
        "for a running one (the next backfill would wait for it forever)")
    assert execute_job(env, "network_job").returncode == 0
    first_edges = pd.read_parquet(art / "edges" / "edge_table.parquet")

    network_2 = use_network(2)
    fingerprint = json.loads((art / "expression" / "manifest.json").read_text())["fingerprint"]
    refused = execute_job(env, "network_job")
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert ("4 of 4 shards of importance_shards were not computed from the current "
            "expression matrix") in output
    assert f"fingerprint {fingerprint[:12]}" in output
    pd.testing.assert_frame_equal(pd.read_parquet(art / "edges" / "edge_table.parquet"),
                                  first_edges)  # the old edge table stays as it was

    assert execute_job(env, "shards_job", "shard-0001").returncode == 0
    listed = backfill(env, "--dry-run")
    assert listed.returncode == 0, listed.stderr[-3000:]
    stale = ["shard-0000", "shard-0002", "shard-0003"]
    for key in stale:
        assert f"{key}: stale: computed from input" in listed.stdout, listed.stdout
    assert "shard-0001" not in listed.stdout
    done = backfill(env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(line.split(":")[0] for line in done.stdout.splitlines()
                  if line.endswith(")") and "done" in line) == stale

    rebuilt = execute_job(env, "network_job")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    edges = pd.read_parquet(art / "edges" / "edge_table.parquet")
    fresh = genie3(read_expression(network_2), n_trees=30)
    joined = fresh.merge(edges, on=["regulator", "target"])
    assert len(joined) == len(fresh) == len(edges)
    assert (joined.importance_x == joined.importance_y).all()


def test_the_makefiles_instance_has_telemetry_off(tmp_path):
    """`make ui` serves the instance that `make setup` configures: no telemetry, so no script
    from dagster.io and no console error offline."""
    home = tmp_path / "home"
    setup = subprocess.run(["make", "-s", "setup", f"DAGSTER_HOME={home}",
                            f"GENIE_ARTIFACTS_DIR={tmp_path / 'art'}"], cwd=REPO,
                           capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    dry_run = subprocess.run(["make", "-n", "ui", f"DAGSTER_HOME={home}"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert "dagster dev" in dry_run.stdout
    instance = DagsterInstance.from_config(str(home))
    assert instance.telemetry_enabled is False
    instance.dispose()


def test_a_failed_cli_run_ends_with_its_cause(tmp_path):
    """With the instance settings `make setup` installs, the cause is the run's last words."""
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    config = tmp_path / "bad.yaml"
    missing = tmp_path / "no-such-matrix.tsv"
    config.write_text(f"ops:\n  expression_matrix:\n    config:\n      path: {missing}\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "a")}
    failed = subprocess.run([DAGSTER, "job", "execute", "-m", "genie_assets.definitions", "-j",
                             "expression_job", "-c", str(config)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert failed.returncode != 0
    last = failed.stderr.strip().splitlines()[-2:]
    assert last == ["Why expression_job failed:",
                    f"expression_matrix: genie_assets.errors.ExpressionMatrixError: {missing}: "
                    "no such file"], failed.stderr[-2000:]


def test_shards_started_at_once_never_run_more_than_the_pool_allows(tmp_path):
    import shutil

    import yaml
    from dagster import DagsterEventType, RunsFilter

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    limit = yaml.safe_load((home / "dagster.yaml").read_text())["concurrency"]["pools"][
        "default_limit"]
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "art"),
           "GENIE_N_SHARDS": str(limit + 2), "GENIE_N_TREES": "50", "GENIE_SHARD_CORES": "1"}
    assert execute_job(env, "expression_job").returncode == 0
    keys = [f"shard-{index:04d}" for index in range(limit + 2)]
    whole_runs = run_shard_partitions_at_once(env, keys)

    instance = DagsterInstance.from_config(str(home))
    steps = [run_window(instance, r.run_id, DagsterEventType.STEP_START,
                        DagsterEventType.STEP_SUCCESS)
             for r in instance.get_runs(filters=RunsFilter(job_name="shards_job"))]
    assert overlap(whole_runs) > limit, "the runs were under way together"
    assert overlap(steps) <= limit, "yet no more shards than the pool's limit computed at once"


def run_workers(home: Path) -> int:
    """Dagster run workers alive for the instance at `home`: the processes its run launcher
    forks from the code location's zygote, one per launched run (the shard program of a run
    is the worker's child)."""
    commands, parents, homes = {}, {}, {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            commands[proc.name] = (proc / "cmdline").read_bytes()
            parents[proc.name] = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            homes[proc.name] = f"DAGSTER_HOME={home}".encode() in (proc / "environ").read_bytes()
        except OSError:
            continue
    zygotes = {pid for pid, command in commands.items()
               if b"genie_assets.pipeline.run_workers" in command and homes.get(pid)}
    return sum(1 for pid in zygotes if parents.get(pid) in zygotes)


SAMPLE_SECONDS = 0.2


def test_a_backfill_never_has_more_shard_runs_alive_than_the_pool_allows(tmp_path):
    """More shard runs queued than the pool allows: the daemon launches a run only when the
    pool has a slot for it, so no run worker sits waiting (and burning CPU) for one."""
    import shutil
    import threading

    import yaml

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    concurrency = yaml.safe_load((home / "dagster.yaml").read_text())["concurrency"]
    limit = concurrency["pools"]["default_limit"]
    assert concurrency["runs"]["tag_concurrency_limits"] == [
        {"key": "dagster/partition", "limit": limit}], "the shard runs' cap is the pool's"
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(tmp_path / "art"),
           "GENIE_N_SHARDS": str(limit + 3), "GENIE_N_TREES": "100", "GENIE_SHARD_CORES": "1"}
    assert execute_job(env, "expression_job").returncode == 0
    seen = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            seen.append(run_workers(home))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        done = backfill(env)
    finally:
        stop.set()
        sampler.join()
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{limit + 3} of {limit + 3} shards done, 0 failed" in done.stdout, done.stdout
    assert max(seen) >= 1, "the sampler saw the runs"
    # A finished run's process takes a moment to exit as the next one starts: an extra
    # process for an instant is that, not a run waiting for the pool (which would wait for
    # as long as a shard computes).
    longest, stretch = 0, 0
    for count in seen:
        stretch = stretch + 1 if count > limit else 0
        longest = max(longest, stretch)
    assert longest * SAMPLE_SECONDS < 2.0, (
        f"more than {limit} run processes alive for {longest * SAMPLE_SECONDS:.1f} s on end "
        f"(counts: {seen})")


def test_terminating_a_launched_shard_run_stops_its_forked_processes(tmp_path):
    """A shard run the daemon launched, terminated as the UI's Terminate does: the run ends
    CANCELED, its shard program is gone and it left no shard behind."""
    import shutil
    import time

    from dagster import DagsterRunStatus

    from genie_assets.pipeline.run_workers import WORKER_PID_TAG
    from genie_assets.shard.program import PROCESS_NAME

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    art = tmp_path / "art"
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ARTIFACTS_DIR": str(art),
           "GENIE_N_TREES": "100000", "GENIE_SHARD_CORES": "1", "GENIE_N_SHARDS": "1",
           "GENIE_AUTOMATION": "false"}
    assert execute_job(env, "expression_job").returncode == 0
    daemon = subprocess.Popen([str(Path(DAGSTER).parent / "dagster-daemon"), "run", "-m",
                               "genie_assets.definitions"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        submitted = backfill(env, "--no-wait")
        assert submitted.returncode == 0, submitted.stderr[-3000:]
        instance = DagsterInstance.from_config(str(home))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            started = [run for run in instance.get_runs(filters=RunsFilter(
                job_name="shards_job", statuses=[DagsterRunStatus.STARTED]))
                if shard_programs_of(int(run.tags.get(WORKER_PID_TAG, 0)), PROCESS_NAME)]
            if started:
                break
            time.sleep(0.5)
        assert started, "a shard run started computing"
        run = started[0]
        worker = int(run.tags[WORKER_PID_TAG])
        programs = shard_programs_of(worker, PROCESS_NAME)
        assert instance.run_launcher.terminate(run.run_id)
        deadline = time.monotonic() + 60
        while instance.get_run_by_id(run.run_id).status != DagsterRunStatus.CANCELED:
            assert time.monotonic() < deadline, instance.get_run_by_id(run.run_id).status
            time.sleep(0.5)
        time.sleep(1)
        assert not [pid for pid in programs if Path(f"/proc/{pid}").exists()
                    and (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                         != "Z")], "the shard program was stopped with its run"
        assert not (art / "shards" / f"{run.tags['dagster/partition']}.parquet").exists()
    finally:
        daemon.send_signal(2)
        daemon.wait(timeout=60)
        for other in DagsterInstance.from_config(str(home)).get_runs(
                filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
            DagsterInstance.from_config(str(home)).run_launcher.terminate(other.run_id)


def shard_programs_of(worker: int, name: str) -> list[int]:
    """The pids of the shard programs (by process name) whose parent is `worker`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == worker and (proc / "comm").read_text().strip() == name:
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found
