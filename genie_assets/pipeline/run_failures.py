"""A failed run's causes as its last words on the console.

`dagster job execute` ends a failed run on "resulted in failure", the cause a screen of stack
trace above. This logging handler, attached to the instance's Dagster loggers by
`deploy/dagster.yaml` (python_logs → dagster_handler_config), prints each failed step's error
message again when the run fails.
"""

from __future__ import annotations

import atexit
import logging
import sys


def step_failure_causes(instance, run_id: str) -> list[str]:
    """`step: message` for each failed step of a run, the user's error below Dagster's
    wrapping of it."""
    from dagster import DagsterEventType

    causes = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.event_specific_data.error
        while error is not None and error.cause is not None and \
                error.cls_name == "DagsterExecutionStepExecutionError":
            error = error.cause
        message = error.message.strip() if error is not None else "see the step's logs"
        causes.append(f"{entry.dagster_event.step_key}: {message}")
    return causes


class FailureCauseHandler(logging.Handler):
    """On a run's failure, prints why to stderr as the process exits: after the console
    logger's stack traces and the CLI's own last line."""

    def emit(self, record: logging.LogRecord) -> None:
        from dagster import DagsterEventType, DagsterInstance

        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or event.event_type != DagsterEventType.RUN_FAILURE:
            return
        with DagsterInstance.get() as instance:
            causes = step_failure_causes(instance, meta["run_id"])
        if causes:
            text = "\n".join(["", f"Why {event.job_name} failed:", *causes])
            atexit.register(lambda: print(text, file=sys.stderr, flush=True))
