"""Writing outputs so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it into place only if the block succeeds.

    The temporary name is unique, so two writers of the same output never share a file: the
    last rename wins whole. A file or a directory may be written there.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        yield temporary
        if temporary.is_dir():
            # A directory cannot replace a non-empty one atomically; move the old aside first.
            if final.exists():
                retired = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:12]}")
                os.replace(final, retired)
                os.replace(temporary, final)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.replace(temporary, final)
        else:
            os.replace(temporary, final)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists():
            temporary.unlink()


TEMPORARY_NAME = re.compile(r"\.(?P<final>.+)\.tmp-[0-9a-f]{12}")


def final_path(path: str | Path) -> Path:
    """The output that a temporary path of `atomic_path` stands for (else `path` itself): what
    a message should name."""
    path = Path(path)
    match = TEMPORARY_NAME.fullmatch(path.name)
    return path.with_name(match.group("final")) if match else path
