"""`python -m genie_assets.backfill`: re-run only the shard partitions that failed, are missing,
or are stale (computed from another expression matrix or with other GENIE3 parameters).

The CLI twin of the UI's "Launch backfill → Failed and missing" on importance_shards, plus the
stale shards that the merge refuses. It submits a real Dagster backfill to the instance at
DAGSTER_HOME (on the UI's Backfills page; its runs queue and keep to the `shard_jobs` pool),
then follows it, printing shards done of total, targets per second and the time left. The
daemon runs the queued runs: the one `make ui` starts, or, when none is running, one started
here for the backfill's duration (with the network's automation off: it ends with the shards).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from genie_assets.definitions import resources
from genie_assets.files import atomic_path
from genie_assets.network.edges import staleness
from genie_assets.pipeline.orphans import sweep
from genie_assets.pipeline.partitions import shard_partitions
from genie_assets.settings import environment_for_child

BIN = Path(sys.executable).parent
LOCATION = ["-m", "genie_assets.definitions"]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
# A daemon counts as running when its run queue reported within this many seconds.
HEARTBEAT_SECONDS = 60


def shards_to_backfill(instance: DagsterInstance) -> dict[str, str]:
    """Partition key → why it needs a run ("missing", "failed" or "stale: ...")."""
    store = resources["store"]
    materialized = instance.get_materialized_partitions(AssetKey("importance_shards"))
    stored = set(store.list_shards())
    keys = shard_partitions.get_partition_keys()
    fingerprint = store.expression_manifest()["fingerprint"] if stored else ""
    params = resources["genie3"].params().as_dict()
    reasons = {}
    for key in keys:
        latest = instance.get_runs(
            filters=RunsFilter(job_name="shards_job", tags={"dagster/partition": key}), limit=1)
        if latest and latest[0].status == DagsterRunStatus.FAILURE:
            reasons[key] = "failed"
        elif key not in materialized or key not in stored:
            reasons[key] = "missing"
        elif why := staleness(store.shard_report(key), fingerprint, params, len(keys)):
            reasons[key] = f"stale: {why}"
    return reasons


def submit(keys: list[str]) -> str:
    """A Dagster backfill of `keys` of shards_job, through Dagster's own CLI; its id."""
    done = subprocess.run(
        [str(BIN / "dagster"), "job", "backfill", *LOCATION, "-j", "shards_job",
         "--partitions", ",".join(keys), "--noprompt"],
        capture_output=True, text=True)
    launched = re.search(r"Launched backfill job `([^`]+)`", done.stdout + done.stderr)
    if done.returncode != 0 or not launched:
        raise RuntimeError(f"the backfill could not be submitted:\n{done.stderr[-3000:]}")
    return launched.group(1)


# When the daemon this CLI started last was stopped, in the instance's folder: its last
# heartbeat, seconds old, is not a running daemon.
STOPPED_FILE = "backfill-daemon.stopped"


def daemon_running(instance: DagsterInstance) -> bool:
    beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
    if beat is None or time.time() - beat.timestamp >= HEARTBEAT_SECONDS:
        return False
    stopped = Path(instance.root_directory) / STOPPED_FILE
    return not stopped.exists() or beat.timestamp > float(stopped.read_text())


@contextlib.contextmanager
def a_daemon(instance: DagsterInstance) -> Iterator[None]:
    """The instance's daemon while the block runs: the running one, or one started here."""
    if daemon_running(instance):
        yield
        return
    log = Path(instance.root_directory) / "backfill-daemon.log"
    print(f"No Dagster daemon is running: starting one for this backfill (log: {log}).")
    with open(log, "ab") as output:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *LOCATION], stdout=output,
            stderr=subprocess.STDOUT, env=environment_for_child(GENIE_AUTOMATION="false"))
    try:
        yield
    finally:
        daemon.send_signal(signal.SIGINT)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        with atomic_path(Path(instance.root_directory) / STOPPED_FILE) as temporary:
            temporary.write_text(repr(time.time()))


def progress_line(targets: dict[str, int], failed: int, total: int, seconds: float) -> str:
    """Shards done of total, targets per second over the backfill so far, and the time left at
    that rate (`targets`: the targets of each shard done)."""
    line = f"{len(targets)} of {total} shards done, {failed} failed"
    if targets and seconds > 0:
        rate = sum(targets.values()) / seconds
        per_shard = sum(targets.values()) / len(targets)
        left = (total - len(targets) - failed) * per_shard / rate
        line += f", {rate:.3g} targets/s, about {left / 60:.1f} min left"
    return line


def follow(instance: DagsterInstance, backfill_id: str, keys: list[str],
           poll_seconds: float = 2.0, every_seconds: float = 60.0
           ) -> dict[str, tuple[DagsterRunStatus, str]]:
    """Wait for every run of the backfill, printing progress when a shard finishes and every
    minute; partition key → (final status, run id)."""
    started, shown, printed_at, targets = time.monotonic(), None, 0.0, {}
    while True:
        runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
        latest = {run.tags.get("dagster/partition"): (run.status, run.run_id)
                  for run in reversed(runs)}  # newest last, so it wins
        finished = {key: value for key, value in latest.items() if value[0] in FINISHED}
        for key, (status, _) in finished.items():
            if status == DagsterRunStatus.SUCCESS and key not in targets:
                targets[key] = resources["store"].shard_report(key)["n_targets"]
        counts = (len(targets), len(finished))
        if counts != shown or time.monotonic() - printed_at > every_seconds:
            print(progress_line(targets, len(finished) - len(targets), len(keys),
                                time.monotonic() - started), flush=True)
            shown, printed_at = counts, time.monotonic()
        if len(finished) == len(keys):
            return finished
        time.sleep(poll_seconds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="only list the partitions")
    parser.add_argument("--no-wait", action="store_true",
                        help="submit the backfill and leave it to the running daemon")
    args = parser.parse_args(argv)
    instance = DagsterInstance.get()
    for line in sweep(instance):  # runs left STARTED by a killed process count as failed
        print(line)
    todo = shards_to_backfill(instance)
    if not todo:
        print("Every shard partition is materialized; nothing to backfill.")
        return 0
    for key, reason in todo.items():
        print(f"{key}: {reason}")
    if args.dry_run:
        return 0
    if args.no_wait:
        backfill_id = submit(list(todo))
        print(f"Backfill {backfill_id}: {len(todo)} shards submitted (UI: Runs → Backfills).")
        if not daemon_running(instance):
            print("No daemon is running yet: `make ui` (or `dagster-daemon run`) runs them.")
        return 0
    # The daemon first: its start (loading the code location) overlaps the submission's.
    with a_daemon(instance):
        backfill_id = submit(list(todo))
        print(f"Backfill {backfill_id}: {len(todo)} shards submitted (UI: Runs → Backfills).",
              flush=True)
        results = follow(instance, backfill_id, list(todo))
    for key in todo:
        status, run_id = results[key]
        print(f"{key}: {'done' if status == DagsterRunStatus.SUCCESS else 'FAILED again'} "
              f"(run {run_id})")
    return 0 if all(status == DagsterRunStatus.SUCCESS for status, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
