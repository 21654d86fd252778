"""The fast engine's results, fixed: hashes of its importances on fixed inputs and seeds.

Each case is built from integers and normal draws with plain arithmetic (no exp, log or tanh,
whose last bits may differ between NumPy builds and CPUs), so a hash changes only when the
engine's result does. The cases cover every rank storage (uint8, uint16, int32), every method
(the forests at every storage, boosting at uint8 and uint16), each grower (four count-like
regulators at once, continuous pairs, the general one), the lists of samples off a sparse
regulator's common value (counts, and distinct values as in normalised single-cell data),
the DREAM4-1 network at the defaults, and forests on bootstraps smaller than the samples,
shared by two targets (RF/max_samples). Each case is tied to its method's result version.

    python -m genie_assets_tests.golden --record   # after bumping a method's RESULT_VERSIONS
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from genie_assets.engine import RESULT_VERSIONS, fast, genie3

GOLDEN_FILE = Path(__file__).with_name("golden_engine.json")


def _digest(values: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(values).tobytes(), digest_size=12).hexdigest()


def _importances(values: np.ndarray, target: np.ndarray, method: str, n_trees: int, seed: int,
                 n_candidates: int) -> np.ndarray:
    ranked = fast.rank_regulators(values)
    if method == "RF/max_samples":
        # Two targets sharing each tree's bootstrap of half the samples (engine.subsampling).
        inputs = np.arange(len(values))
        found = fast.subsampled_importances(
            ranked, [inputs, inputs], np.vstack([target, target[::-1]]), [seed, seed + 1],
            bootstrap_seed=seed + 2, n_trees=n_trees, n_candidates=[n_candidates] * 2,
            n_drawn=len(target) // 2)
        return np.concatenate(found)
    if method == "GBM":
        # Rounds as many as trees, a rate that learns within them, arboreto's early stopping.
        importances, _ = fast.boosted_importances(
            ranked, np.arange(len(values)), target, n_rounds=10 * n_trees,
            n_candidates=n_candidates, max_depth=3, learning_rate=0.1,
            n_inbag=int(0.9 * len(target)), early_stopping_window=25, seed=seed)
        return importances
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
        return lambda: _importances(values, target, method, 30, 7, 6)

    def continuous(method):
        rng = np.random.default_rng(12)
        values = rng.normal(size=(30, 400))  # uint16 ranks, continuous: paired grower (RF)
        target = values[2] * values[2] + 0.5 * values[9] + 0.3 * rng.normal(size=400)
        return lambda: _importances(values, target, method, 30, 8, 5)

    def sparse(method):
        rng = np.random.default_rng(13)
        values = _counts(rng, 40, 500, 0.15)  # ~86% zeros: large nodes read the lists
        target = 3.0 * values[0] + 2.0 * values[7] + 0.5 * rng.normal(size=500)
        return lambda: _importances(values, target, method, 30, 9, 6)

    def sparse_distinct(method):
        rng = np.random.default_rng(16)
        # ~86% zeros, the rest all distinct (as normalised single-cell data): walked lists
        values = rng.normal(size=(40, 500)) * (rng.random((40, 500)) < 0.14)
        target = 3.0 * values[0] + 2.0 * values[7] * values[7] + 0.5 * rng.normal(size=500)
        return lambda: _importances(values, target, method, 30, 9, 6)

    def mixed(method):
        rng = np.random.default_rng(14)
        values = np.vstack([rng.normal(size=(10, 300)),
                            np.round(rng.normal(size=(10, 300)), 1),
                            _counts(rng, 10, 300, 1.0)])  # no majority: the general grower
        target = values[1] + values[12] + values[25] + 0.5 * rng.normal(size=300)
        return lambda: _importances(values, target, method, 30, 10, 4)

    def wide_ranks(method):
        rng = np.random.default_rng(15)
        values = rng.normal(size=(3, 70_000))  # more than 65,536 distinct values: int32 ranks
        target = values[1] + 0.5 * rng.normal(size=70_000)
        return lambda: _importances(values, target, method, 1, 3, 2)

    found = {}
    for method in RESULT_VERSIONS:
        for name, make in (("counts", counts), ("continuous", continuous), ("sparse", sparse),
                           ("sparse-distinct", sparse_distinct), ("mixed", mixed),
                           ("int32-ranks", wide_ranks)):
            # Boosting's and shared bootstraps' int32 code (70,000 samples) would compile for
            # minutes in every CI run; the split search there is the forests', which the
            # forests' case pins.
            if not (method in ("GBM", "RF/max_samples") and name == "int32-ranks"):
                found[f"{name}-{method}"] = make(method)
    found["dream4-1-defaults"] = _dream4_defaults
    return found


def method_of(name: str) -> str:
    """The method a case runs (the DREAM4 case: the default, RF)."""
    method = name.rsplit("-", 1)[1]
    return method if method in RESULT_VERSIONS else "RF"


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
                        help="write the current hashes under the current RESULT_VERSIONS")
    arguments = parser.parse_args()
    hashes = compute()
    if arguments.record:
        old = recorded() if GOLDEN_FILE.exists() else {"hashes": {}}
        unversioned = sorted({
            method_of(name) for name, digest in hashes.items()
            if name in old["hashes"] and old["hashes"][name] != digest
            and old.get("result_versions", {}).get(method_of(name))
            == RESULT_VERSIONS[method_of(name)]})
        if unversioned:
            raise SystemExit(f"the results of {', '.join(unversioned)} changed but their "
                             "RESULT_VERSIONS did not: bump them in "
                             "genie_assets/engine/params.py first (their stored shards become "
                             "stale)")
        GOLDEN_FILE.write_text(json.dumps({"result_versions": RESULT_VERSIONS,
                                           "hashes": hashes}, indent=2) + "\n")
    print(json.dumps(hashes, indent=2))


if __name__ == "__main__":
    main()
