"""The engine's compiled code: where numba keeps it, and compiling it apart from the call.

numba's own cache locators do not fit this engine: they key a function by its own file, so an
edit to a helper inlined from another module leaves a stale cache, and by its folder's
absolute path, so a copy of the code elsewhere (a SageMaker container) finds nothing.
`EngineCacheLocator` files every compiled engine function under one folder named by the numba
version and a hash of all the engine's sources, wherever they lie:

    $NUMBA_CACHE_DIR/genie-assets/...       where NUMBA_CACHE_DIR is set
    genie_assets/engine/__pycache__/...     else, where the package's folder is writable
    ~/.cache/genie-assets/...               else

numba picks a function's locator when the function is declared, so `install_cache_locator`
must run before any module with compiled code is imported: the engine's `__init__` runs it
first, and every engine module is imported through the package. This module imports nothing
of the engine, so no engine module needs to import it for its side effect.

`compile_ahead` compiles (or loads) an entry kernel for a call's types before the call, and
`compile_seconds()` is the process's total time spent so, which the shard program reports
apart from computing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Iterator

import numba
from numba.core import caching
from numba.core.caching import _CacheLocator
from numba.misc.appdirs import AppDirs

# numba 0.61 made its cache implementation's class public.
CacheImpl = getattr(caching, "CacheImpl", None) or caching._CacheImpl

ENGINE_DIR = Path(__file__).resolve().parent


# The engine's modules that hold no compiled code (its Python front, and this one): editing
# them compiles nothing afresh. One that gains a compiled function is hashed again.
WITHOUT_COMPILED_CODE = {"__init__.py", "compile_cache.py", "core.py", "correlation.py", "fast.py",
                         "params.py"}


@functools.lru_cache(maxsize=None)
def engine_source_hash() -> str:
    """Hash of every module of the engine with compiled code: any edit to one compiles
    everything afresh."""
    digest = hashlib.sha256()
    for path in sorted(ENGINE_DIR.glob("*.py")):
        source = path.read_bytes()
        if path.name == Path(__file__).name or (
                path.name in WITHOUT_COMPILED_CODE and b"@njit" not in source):
            continue
        digest.update(path.name.encode() + b"\0" + source + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The folder that holds the engine's caches (see the module's docstring)."""
    if numba.config.CACHE_DIR:  # numba's NUMBA_CACHE_DIR, as numba read it
        return Path(numba.config.CACHE_DIR) / "genie-assets"
    in_tree = ENGINE_DIR / "__pycache__" / "compiled"
    if _writable(in_tree):
        return in_tree
    return Path(AppDirs(appname="genie-assets", appauthor=False).user_cache_dir) / "compiled"


def cache_dir() -> Path:
    """This engine version's cache under cache_root()."""
    return cache_root() / f"numba-{numba.__version__}-{engine_source_hash()}"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False


class EngineCacheLocator(_CacheLocator):
    """numba's cache locator for the engine's functions; None (numba's own) for any other."""

    def __init__(self, py_func, folder: Path, stamp: str):
        self._lineno = py_func.__code__.co_firstlineno
        self._folder = folder
        self._stamp = stamp

    def get_cache_path(self):
        return str(self._folder)

    def get_source_stamp(self):
        return self._stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != ENGINE_DIR:
            return None
        self = cls(py_func, cache_dir(), engine_source_hash())
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


def install_cache_locator() -> None:
    """File the engine's compiled functions with EngineCacheLocator (idempotent)."""
    if EngineCacheLocator not in CacheImpl._locator_classes:
        CacheImpl._locator_classes.insert(0, EngineCacheLocator)



_compiling = threading.Lock()
_compile_seconds = 0.0


def compile_ahead(dispatcher, args: tuple) -> None:
    """Compiles, or loads from the cache, `dispatcher` for the types of `args`, timing it.

    Threads that arrive while one compiles wait for it; only the compiling thread's time counts.
    """
    global _compile_seconds
    signature = tuple(dispatcher.typeof_pyval(a) for a in args)
    if signature in dispatcher.overloads:
        return
    with _compiling:
        if signature in dispatcher.overloads:
            return
        started = time.perf_counter()
        dispatcher.compile(signature)
        _compile_seconds += time.perf_counter() - started


def compile_seconds() -> float:
    """Seconds this process has spent compiling or loading the engine's compiled code."""
    return _compile_seconds


def say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def reporting_progress(what: str, log=say, every_seconds: float = 20.0) -> Iterator[None]:
    """Say that `what` is being compiled, then every `every_seconds` how long it has taken,
    then that it is ready: a compile of minutes never leaves a terminal silent."""
    started = time.perf_counter()
    log(f"engine: compiling {what} ...")
    finished = threading.Event()

    def heartbeat() -> None:
        while not finished.wait(every_seconds):
            log(f"engine: still compiling {what} ({time.perf_counter() - started:.0f} s)")

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    try:
        yield
    finally:
        finished.set()
        beating.join()
    log(f"engine: {what} ready in {time.perf_counter() - started:.1f} s")


def engine_threads_started() -> bool:
    """Whether this process has started the compiled engine's threads (GNU OpenMP's, the
    threading layer numba picks here): a process forked after that aborts when it runs the
    engine ("fork() called from a process already using GNU OpenMP")."""
    try:
        numba.threading_layer()
    except ValueError:  # "Threading layer is not initialized"
        return False
    return True
