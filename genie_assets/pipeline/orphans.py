"""Shard runs whose Dagster process died: marked failed, their scratch folders removed.

A local shard works in a scratch folder under the system's temporary folder, named
`genie-scratch-<partition>-...`, that holds `owner.json` (the Dagster process's pid, host and
run id). When that process is killed (not the shard: the process that launched it), the folder
stays and the run stays STARTED forever: no run launcher reports a run worker's death.
`sweep` finds such folders whose owner is gone from this host, reports their runs failed
and removes them. It runs at every start that matters: `make ui`'s daemon (the
`orphaned_shard_runs` sensor), the backfill CLI and the demo.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

from genie_assets.pipeline.layout import SCRATCH_OWNER_FILE

SCRATCH_PREFIX = "genie-scratch-"


def scratch_root() -> Path:
    return Path(tempfile.gettempdir())


def claim(folder: Path, run_id: str) -> None:
    """Mark `folder` as this process's scratch for `run_id`."""
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id}
    (folder / SCRATCH_OWNER_FILE).write_text(json.dumps(owner))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    # A killed process nobody has reaped yet (a zombie) answers signals but is gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def orphaned_scratch(root: Path | None = None) -> list[tuple[Path, dict]]:
    """Scratch folders on this host whose owning process is gone."""
    found = []
    for folder in sorted((root or scratch_root()).glob(f"{SCRATCH_PREFIX}*")):
        try:
            owner = json.loads((folder / SCRATCH_OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being created, or not ours
        if owner.get("host") == socket.gethostname() and not _alive(int(owner["pid"])):
            found.append((folder, owner))
    return found


def sweep(instance, root: Path | None = None) -> list[str]:
    """Report the runs of orphaned scratch folders failed (those still STARTED) and remove the
    folders. Returns what was done, a line each."""
    from dagster import DagsterRunStatus

    done = []
    for folder, owner in orphaned_scratch(root):
        run = instance.get_run_by_id(owner["run_id"])
        if run is not None and run.status in (DagsterRunStatus.STARTED,
                                              DagsterRunStatus.STARTING):
            instance.report_run_failed(
                run, f"the Dagster process that ran this shard (pid {owner['pid']}) is gone; "
                "the run is marked failed so that a backfill re-runs it")
            done.append(f"run {run.run_id}: marked failed (its process {owner['pid']} is gone)")
        shutil.rmtree(folder, ignore_errors=True)
        done.append(f"{folder}: removed")
    return done
