"""GENIE3 (Huynh-Thu et al. 2010): one tree ensemble per target gene; the regulators' impurity
importances are the weights of the edges regulator -> target."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from genie_assets.engine.params import Genie3Params

EDGE_COLUMNS = ["regulator", "target", "importance"]

ProgressCallback = Callable[[int, int], None]


def genie3(
    expression: pd.DataFrame,
    regulators: Optional[Sequence[str]] = None,
    targets: Optional[Sequence[str]] = None,
    *,
    method: str = "RF",
    n_trees: int = 1000,
    max_features="sqrt",
    seed: int = 0,
    n_jobs: int = 1,
    engine: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
) -> pd.DataFrame:
    """Infer a gene regulatory network from a samples × genes expression matrix.

    Returns one row per (regulator, target) pair, no self-edges, with the regulator's importance
    for predicting the target. Regulators default to every gene, targets to every gene. The
    same seed gives the same edges whatever the order of the genes or of the targets.
    `progress(done, total)` is called as targets finish.
    """
    params = Genie3Params(
        method=method, n_trees=n_trees, max_features=max_features, seed=seed,
        **({"engine": engine} if engine else {}),
    )
    return infer_edges(expression, regulators, targets, params, n_jobs=n_jobs, progress=progress)


def infer_edges(
    expression: pd.DataFrame,
    regulators: Optional[Sequence[str]],
    targets: Optional[Sequence[str]],
    params: Genie3Params,
    *,
    n_jobs: int = 1,
    progress: Optional[ProgressCallback] = None,
) -> pd.DataFrame:
    """`genie3` with its parameters as a Genie3Params."""
    genes = [str(g) for g in expression.columns]
    known = set(genes)
    if len(known) != len(genes):
        raise ValueError("expression has duplicated gene names")
    regulators = sorted(known if regulators is None else {str(r) for r in regulators})
    targets = sorted(known if targets is None else {str(t) for t in targets})
    missing = [g for g in regulators + targets if g not in known]
    if missing:
        raise ValueError(f"genes not in the expression matrix: {missing[:10]}")
    if not regulators:
        raise ValueError("no regulators given")

    data = expression.to_numpy(dtype=np.float64, copy=False)
    column = {g: i for i, g in enumerate(genes)}
    # Regulators in name order: the same layout whatever the input's gene order.
    regulator_columns = np.array([column[r] for r in regulators], dtype=np.int64)
    regulator_row = {r: i for i, r in enumerate(regulators)}
    n_workers = resolve_n_jobs(n_jobs)

    if params.engine == "fast":
        importance_of = _fast_importances(data, regulator_columns, params)
    else:
        importance_of = _reference_importances(
            np.ascontiguousarray(data[:, regulator_columns].T), params)

    def one_target(target: str) -> np.ndarray:
        y = data[:, column[target]].astype(np.float64)
        inputs = np.array(
            [i for i, r in enumerate(regulators) if r != target], dtype=np.int64
        )
        result = np.zeros(len(regulators), dtype=np.float64)
        if len(inputs) == 0:
            return result
        std = y.std()
        if std > 0:
            # The reference implementation scales each target to unit variance.
            result[inputs] = importance_of(inputs, y / std, params.target_seed(target))
        return result

    results = _map_targets(one_target, targets, n_workers, progress)
    return edges_frame(regulators, targets, results, regulator_row)


def resolve_n_jobs(n_jobs: int) -> int:
    if n_jobs is None or n_jobs == 0:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return int(n_jobs)


def _map_targets(one_target, targets, n_workers, progress):
    total = len(targets)
    done = 0
    lock = threading.Lock()

    def run(target):
        nonlocal done
        result = one_target(target)
        if progress is not None:
            with lock:
                done += 1
                progress(done, total)
        return result

    if n_workers == 1 or total <= 1:
        return [run(t) for t in targets]
    # Both engines release the GIL while building trees, so threads share one copy of the data.
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(run, targets))


def edges_frame(regulators, targets, results, regulator_row) -> pd.DataFrame:
    """The edge table for `targets` from their per-regulator importance vectors."""
    n_reg = len(regulators)
    regulator_names = np.array(regulators, dtype=object)
    blocks_reg, blocks_target, blocks_importance = [], [], []
    for target, importances in zip(targets, results):
        keep = np.ones(n_reg, dtype=bool)
        if target in regulator_row:
            keep[regulator_row[target]] = False
        blocks_reg.append(regulator_names[keep])
        blocks_target.append(np.full(int(keep.sum()), target, dtype=object))
        blocks_importance.append(importances[keep].astype(np.float32))
    if not blocks_reg:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(EDGE_COLUMNS, ["object", "object", "float32"])})
    return pd.DataFrame({
        "regulator": np.concatenate(blocks_reg),
        "target": np.concatenate(blocks_target),
        "importance": np.concatenate(blocks_importance),
    })


def _fast_importances(data: np.ndarray, regulator_columns: np.ndarray, params: Genie3Params):
    from genie_assets.engine import fast

    # Ranked from the samples × genes matrix's columns, not from a copy of them. A random
    # forest needs only the ranks; extra-trees also reads values, from the matrix itself where
    # it is Fortran-ordered (a frame read from a file), else from a regulator-major copy.
    ranked = fast.rank_regulators(data.T, regulator_columns, keep_values=params.method == "ET")

    def importances(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        return fast.forest_importances(
            ranked, inputs, y, n_trees=params.n_trees,
            n_candidates=params.n_candidates_per_node(len(inputs)),
            extra_trees=params.method == "ET", seed=seed)

    return importances


def _reference_importances(regulator_values: np.ndarray, params: Genie3Params):
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    forest_class = RandomForestRegressor if params.method == "RF" else ExtraTreesRegressor

    def importances(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        forest = forest_class(
            n_estimators=params.n_trees,
            max_features=params.n_candidates_per_node(len(inputs)),
            random_state=seed % (2**32),
            n_jobs=1,
        )
        forest.fit(regulator_values[inputs].T, y)
        per_tree = [t.tree_.compute_feature_importances(normalize=False)
                    for t in forest.estimators_]
        return np.mean(per_tree, axis=0)

    return importances
