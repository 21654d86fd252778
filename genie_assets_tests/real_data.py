"""Real single-cell data for the tests and benchmarks: `pbmc68k_reduced`, as scanpy's wheel
ships it (700 peripheral blood cells × 765 genes; `.raw` holds log-normalised levels,
`obs.bulk_labels` names ten cell types). The wheel is fetched from PyPI once into .genie/
and the file taken out of it; scanpy itself is never installed nor a dependency."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".genie" / "data"
SCANPY_WHEEL = "scanpy==1.11.5"
MEMBER = "scanpy/datasets/10x_pbmc68k_reduced.h5ad"
PBMC68K_SHA256 = "e71d41e737c941559b7c57c9243bdb3d2c889c2adfdf00e3422ac6b46783676f"
# Of Lambert et al. 2018's human transcription factors (Cell 172:650; humantfs.ccbr.utoronto.ca),
# those among pbmc68k_reduced's 765 genes, as a user would intersect the full list.
HUMAN_TFS = Path(__file__).with_name("data") / "human_tfs_in_pbmc68k.txt"


def pbmc68k_reduced() -> Path:
    """The .h5ad's path, fetched and checked on first use; raises OSError saying why when PyPI
    cannot be reached."""
    target = DATA_DIR / "pbmc68k_reduced.h5ad"
    if target.exists():
        return target
    wheels = DATA_DIR / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(wheels), SCANPY_WHEEL], capture_output=True, text=True)
    candidates = sorted(wheels.glob("scanpy-*.whl"))
    if fetched.returncode or not candidates:
        raise OSError(f"could not fetch {SCANPY_WHEEL} from PyPI for its pbmc68k_reduced "
                      f"dataset: {fetched.stderr.strip().splitlines()[-1:] or 'no wheel'}")
    with zipfile.ZipFile(candidates[-1]) as wheel:
        content = wheel.read(MEMBER)
    if hashlib.sha256(content).hexdigest() != PBMC68K_SHA256:
        raise OSError(f"{candidates[-1]}: {MEMBER} is not the file these checks were written for")
    partial = target.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(content)
    partial.replace(target)
    return target
