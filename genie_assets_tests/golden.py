"""The fast engine's results, fixed: hashes of its importances on fixed inputs and seeds.

Each case is built from integers and normal draws with plain arithmetic (no exp, log or tanh,
whose last bits may differ between NumPy builds and CPUs), so a hash changes only when the
engine's result does. The cases cover every rank storage (uint8, uint16, int32), both methods,
each grower (four count-like regulators at once, continuous pairs, the general one), the lists
of samples off a sparse regulator's common value (counts, and distinct values as in normalised
single-cell data), and the DREAM4-1 network at the defaults.

    python -m genie_assets_tests.golden --record   # after bumping ENGINE_CODE_VERSION
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from genie_assets.engine import ENGINE_CODE_VERSION, fast, genie3

GOLDEN_FILE = Path(__file__).with_name("golden_engine.json")


def _digest(values: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(values).tobytes(), digest_size=12).hexdigest()


def _forest(values: np.ndarray, target: np.ndarray, method: str, n_trees: int, seed: int,
            n_candidates: int) -> np.ndarray:
    ranked = fast.rank_regulators(values)
    return fast.forest_importances(ranked, np.arange(len(values)), target, n_trees=n_trees,
                                   n_candidates=n_candidates, extra_trees=method == "ET",
                                   seed=seed)


def _counts(rng, n_regulators, n_samples, rate):
    return rng.poisson(rate, size=(n_regulators, n_samples)).astype(np.float64)


def cases() -> dict[str, callable]:
    """Name → a function computing that case's importances (float64)."""
    def counts(method):
        rng = np.random.default_rng(11)
        values = _counts(rng, 40, 300, 2.0)  # uint8 ranks, count-like: four at once (RF)
        target = 2.0 * values[3] + values[17] + rng.normal(size=300)
        return lambda: _forest(values, target, method, 30, 7, 6)

    def continuous(method):
        rng = np.random.default_rng(12)
        values = rng.normal(size=(30, 400))  # uint16 ranks, continuous: paired grower (RF)
        target = values[2] * values[2] + 0.5 * values[9] + 0.3 * rng.normal(size=400)
        return lambda: _forest(values, target, method, 30, 8, 5)

    def sparse(method):
        rng = np.random.default_rng(13)
        values = _counts(rng, 40, 500, 0.15)  # ~86% zeros: large nodes read the lists
        target = 3.0 * values[0] + 2.0 * values[7] + 0.5 * rng.normal(size=500)
        return lambda: _forest(values, target, method, 30, 9, 6)

    def sparse_distinct(method):
        rng = np.random.default_rng(16)
        # ~86% zeros, the rest all distinct (as normalised single-cell data): walked lists
        values = rng.normal(size=(40, 500)) * (rng.random((40, 500)) < 0.14)
        target = 3.0 * values[0] + 2.0 * values[7] * values[7] + 0.5 * rng.normal(size=500)
        return lambda: _forest(values, target, method, 30, 9, 6)

    def mixed(method):
        rng = np.random.default_rng(14)
        values = np.vstack([rng.normal(size=(10, 300)),
                            np.round(rng.normal(size=(10, 300)), 1),
                            _counts(rng, 10, 300, 1.0)])  # no majority: the general grower
        target = values[1] + values[12] + values[25] + 0.5 * rng.normal(size=300)
        return lambda: _forest(values, target, method, 30, 10, 4)

    def wide_ranks(method):
        rng = np.random.default_rng(15)
        values = rng.normal(size=(3, 70_000))  # more than 65,536 distinct values: int32 ranks
        target = values[1] + 0.5 * rng.normal(size=70_000)
        return lambda: _forest(values, target, method, 1, 3, 2)

    found = {}
    for method in ("RF", "ET"):
        for name, make in (("counts", counts), ("continuous", continuous), ("sparse", sparse),
                           ("sparse-distinct", sparse_distinct), ("mixed", mixed),
                           ("int32-ranks", wide_ranks)):
            found[f"{name}-{method}"] = make(method)
    found["dream4-1-defaults"] = _dream4_defaults
    return found


def _dream4_defaults() -> np.ndarray:
    from genie_assets.inputs.expression import read_expression
    from genie_assets_tests.conftest import dream4_paths

    expression_path, _ = dream4_paths(1)
    edges = genie3(read_expression(expression_path), n_jobs=-1)
    return edges.sort_values(["target", "regulator"])["importance"].to_numpy()


def storage_of(name: str) -> str:
    """The rank dtype a case's regulators are stored in (the test checks every one is used)."""
    storage = {"counts": "uint8", "sparse": "uint8", "sparse-distinct": "uint8",
               "continuous": "uint16", "mixed": "uint16", "int32-ranks": "int32"}
    return storage.get(name.rsplit("-", 1)[0], "")


def compute(names=None) -> dict[str, str]:
    return {name: _digest(run()) for name, run in cases().items()
            if names is None or name in names}


def recorded() -> dict:
    return json.loads(GOLDEN_FILE.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true",
                        help="write the current hashes under the current ENGINE_CODE_VERSION")
    arguments = parser.parse_args()
    hashes = compute()
    if arguments.record:
        if GOLDEN_FILE.exists() and recorded()["engine_code_version"] == ENGINE_CODE_VERSION \
                and recorded()["hashes"] != hashes:
            raise SystemExit(f"the results changed but ENGINE_CODE_VERSION is still "
                             f"{ENGINE_CODE_VERSION!r}: bump it in genie_assets/engine/params.py "
                             "first (every stored shard becomes stale)")
        GOLDEN_FILE.write_text(json.dumps({"engine_code_version": ENGINE_CODE_VERSION,
                                           "hashes": hashes}, indent=2) + "\n")
    print(json.dumps(hashes, indent=2))


if __name__ == "__main__":
    main()
