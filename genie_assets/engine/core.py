"""GENIE3 (Huynh-Thu et al. 2010): one tree ensemble per target gene; the regulators' impurity
importances are the weights of the edges regulator -> target."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from genie_assets.engine.params import STABILITY_TOP, Genie3Params

EDGE_COLUMNS = ["regulator", "target", "importance"]
# With n_seeds > 1 the edges also carry their stability (Genie3Params).
STABILITY_COLUMN = "stability"

ProgressCallback = Callable[[int, int], None]


def genie3(
    expression: pd.DataFrame,
    regulators: Optional[Sequence[str]] = None,
    targets: Optional[Sequence[str]] = None,
    *,
    method: str = "RF",
    n_trees: Optional[int] = None,
    max_features=None,
    seed: int = 0,
    n_jobs: int = 1,
    engine: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    **settings,
) -> pd.DataFrame:
    """Infer a gene regulatory network from a samples × genes expression matrix.

    Returns one row per (regulator, target) pair, no self-edges, with the regulator's importance
    for predicting the target. Regulators default to every gene, targets to every gene. The
    same seed gives the same edges whatever the order of the genes or of the targets, the
    threads or the shards. method is RF, ET (GENIE3) or GBM (GRNBoost2); `settings` are
    Genie3Params' other fields (max_samples, learning_rate, max_depth, subsample,
    early_stopping_window, n_seeds); None takes the method's default. With n_seeds > 1 the
    edges carry a `stability` column. `progress(done, total)` is called as targets finish.
    """
    params = Genie3Params(
        method=method, n_trees=n_trees, max_features=max_features, seed=seed,
        **({"engine": engine} if engine else {}), **settings,
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

    importances_of = _importances_of(data, regulator_columns, params)

    def one_group(group: list[str]) -> list[tuple[np.ndarray, Optional[np.ndarray]]]:
        """Each target's importances and stabilities over all regulators (zeros for a
        constant target or one with no other regulator)."""
        results = []
        fitted = {"targets": [], "inputs": [], "ys": [], "results": []}
        for target in group:
            y = data[:, column[target]].astype(np.float64)
            inputs = np.array(
                [i for i, r in enumerate(regulators) if r != target], dtype=np.int64
            )
            result = np.zeros(len(regulators), dtype=np.float64)
            stability = np.zeros(len(regulators)) if params.n_seeds > 1 else None
            results.append((result, stability))
            std = y.std()
            if len(inputs) and std != 0:
                fitted["targets"].append(target)
                fitted["inputs"].append(inputs)
                # The reference implementation scales each target to unit variance.
                fitted["ys"].append(y / std)
                fitted["results"].append((result, stability))
        if not fitted["targets"]:
            return results
        runs = [importances_of(fitted["targets"], fitted["inputs"], fitted["ys"], replicate)
                for replicate in range(params.n_seeds)]
        for k, (inputs, (result, stability)) in enumerate(zip(fitted["inputs"],
                                                              fitted["results"])):
            per_run = [run[k] for run in runs]
            result[inputs] = np.mean(per_run, axis=0)
            if stability is not None:
                stability[inputs] = top_share(per_run, STABILITY_TOP)
        return results

    results = _map_groups(one_group, targets, _group_size(params, data.shape[0], len(targets),
                                                           n_workers), n_workers, progress)
    return edges_frame(regulators, targets, [r for r, _ in results], regulator_row,
                       None if params.n_seeds == 1 else [s for _, s in results])


# Targets whose forests share their bootstraps (max_samples, engine.subsampling) go in groups of
# at most this many: compacting a tree's cells is paid once per group, and progress is told
# per group.
SHARED_BOOTSTRAP_GROUP = 32


def shares_bootstraps(params: Genie3Params, n_samples: int) -> bool:
    """Whether the fast engine grows these forests on bootstraps shared by a group of targets:
    a random forest drawing fewer samples than there are (engine.subsampling)."""
    return (params.engine == "fast" and params.method == "RF"
            and params.n_drawn_samples(n_samples) < n_samples)


def _group_size(params: Genie3Params, n_samples: int, n_targets: int, n_workers: int) -> int:
    if not shares_bootstraps(params, n_samples):
        return 1
    return max(1, min(SHARED_BOOTSTRAP_GROUP, -(-n_targets // n_workers)))


def _importances_of(data: np.ndarray, regulator_columns: np.ndarray, params: Genie3Params):
    """importances(targets, inputs, ys, replicate) -> each target's importances over its
    inputs, for a group of targets, by the engine `params` choose."""
    if shares_bootstraps(params, data.shape[0]):
        return _fast_shared_bootstraps(data, regulator_columns, params)
    if params.engine == "fast":
        importance_of = _fast_importances(data, regulator_columns, params)
    else:
        importance_of = _reference_importances(
            np.ascontiguousarray(data[:, regulator_columns].T), params)

    def importances(targets, inputs, ys, replicate):
        return [importance_of(i, y, params.target_seed(t, replicate))
                for t, i, y in zip(targets, inputs, ys)]

    return importances


def top_share(runs: Sequence[np.ndarray], top: int) -> np.ndarray:
    """Per regulator, the share of runs in which it is among the `top` strongest (ties at the
    cut by position, so every run counts exactly `top`; a zero importance never counts)."""
    counted = np.zeros(len(runs[0]))
    for importances in runs:
        strongest = np.argsort(-importances, kind="stable")[:top]
        counted[strongest[importances[strongest] > 0]] += 1
    return counted / len(runs)


def resolve_n_jobs(n_jobs: int) -> int:
    if n_jobs is None or n_jobs == 0:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return int(n_jobs)


def _map_groups(one_group, targets, group_size, n_workers, progress):
    """one_group over `targets` in groups of group_size, on n_workers threads; each target's
    result, in order. progress(done, total) counts targets."""
    total = len(targets)
    groups = [targets[i:i + group_size] for i in range(0, total, group_size)]
    done = 0
    lock = threading.Lock()

    def run(group):
        nonlocal done
        result = one_group(group)
        if progress is not None:
            with lock:
                done += len(group)
                progress(done, total)
        return result

    if n_workers == 1 or len(groups) <= 1:
        return [r for g in groups for r in run(g)]
    # Both engines release the GIL while building trees, so threads share one copy of the data.
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return [r for group_results in pool.map(run, groups) for r in group_results]


def edges_frame(regulators, targets, results, regulator_row, stabilities=None
                ) -> pd.DataFrame:
    """The edge table for `targets` from their per-regulator importance vectors (and
    stabilities, for a consensus of seeds)."""
    n_reg = len(regulators)
    regulator_names = np.array(regulators, dtype=object)
    blocks_reg, blocks_target, blocks_importance, blocks_stability = [], [], [], []
    for k, (target, importances) in enumerate(zip(targets, results)):
        keep = np.ones(n_reg, dtype=bool)
        if target in regulator_row:
            keep[regulator_row[target]] = False
        blocks_reg.append(regulator_names[keep])
        blocks_target.append(np.full(int(keep.sum()), target, dtype=object))
        blocks_importance.append(importances[keep].astype(np.float32))
        if stabilities is not None:
            blocks_stability.append(stabilities[k][keep].astype(np.float32))
    columns = EDGE_COLUMNS + ([STABILITY_COLUMN] if stabilities is not None else [])
    if not blocks_reg:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(columns, ["object", "object", "float32", "float32"])})
    frame = pd.DataFrame({
        "regulator": np.concatenate(blocks_reg),
        "target": np.concatenate(blocks_target),
        "importance": np.concatenate(blocks_importance),
    })
    if stabilities is not None:
        frame[STABILITY_COLUMN] = np.concatenate(blocks_stability)
    return frame


def _fast_importances(data: np.ndarray, regulator_columns: np.ndarray, params: Genie3Params):
    from genie_assets.engine import fast

    # Ranked from the samples × genes matrix's columns, not from a copy of them. A random
    # forest and boosting need only the ranks; extra-trees also reads values, from the matrix
    # itself where it is Fortran-ordered (a frame read from a file), else from a
    # regulator-major copy.
    ranked = fast.rank_regulators(data.T, regulator_columns, keep_values=params.method == "ET")
    n_drawn = params.n_drawn_samples(data.shape[0])

    if params.method == "GBM":
        def boosted(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
            return fast.boosted_importances(
                ranked, inputs, y, n_rounds=params.n_trees,
                n_candidates=params.n_candidates_per_node(len(inputs)),
                max_depth=params.max_depth, learning_rate=params.learning_rate,
                n_inbag=n_drawn, early_stopping_window=params.early_stopping_window,
                same_samples=params.oob_improvement == "same-samples",
                per_round=params.importance_scale == "rounds", seed=seed)[0]

        return boosted

    def importances(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        return fast.forest_importances(
            ranked, inputs, y, n_trees=params.n_trees,
            n_candidates=params.n_candidates_per_node(len(inputs)),
            extra_trees=params.method == "ET", seed=seed, n_drawn=n_drawn)

    return importances


def _fast_shared_bootstraps(data: np.ndarray, regulator_columns: np.ndarray,
                            params: Genie3Params):
    from genie_assets.engine import fast

    ranked = fast.rank_regulators(data.T, regulator_columns, keep_values=False)
    n_drawn = params.n_drawn_samples(data.shape[0])

    def importances(targets, inputs, ys, replicate):
        return fast.subsampled_importances(
            ranked, inputs, np.array(ys), [params.target_seed(t, replicate) for t in targets],
            bootstrap_seed=params.bootstrap_seed(replicate), n_trees=params.n_trees,
            n_candidates=[params.n_candidates_per_node(len(i)) for i in inputs],
            n_drawn=n_drawn)

    return importances


def _reference_importances(regulator_values: np.ndarray, params: Genie3Params):
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    if params.method == "GBM":
        return _reference_boosting(regulator_values, params)
    forest_class = RandomForestRegressor if params.method == "RF" else ExtraTreesRegressor
    n_samples = regulator_values.shape[1]
    bootstrap = {} if params.max_samples is None else {
        "max_samples": params.n_drawn_samples(n_samples)}

    def importances(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        forest = forest_class(
            n_estimators=params.n_trees,
            max_features=params.n_candidates_per_node(len(inputs)),
            random_state=seed % (2**32),
            n_jobs=1,
            **bootstrap,
        )
        forest.fit(regulator_values[inputs].T, y)
        per_tree = [t.tree_.compute_feature_importances(normalize=False)
                    for t in forest.estimators_]
        return np.mean(per_tree, axis=0)

    return importances


def _reference_boosting(regulator_values: np.ndarray, params: Genie3Params):
    """scikit-learn's GradientBoostingRegressor with the same settings, stopped by the same
    rule (OutOfBagStop), its importances on arboreto's scale."""
    from sklearn.ensemble import GradientBoostingRegressor

    def importances(inputs: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        boosting = GradientBoostingRegressor(
            loss="squared_error", learning_rate=params.learning_rate,
            n_estimators=params.n_trees, max_depth=params.max_depth,
            subsample=params.subsample,
            max_features=params.n_candidates_per_node(len(inputs)),
            random_state=seed % (2**32),
        )
        x = regulator_values[inputs].T
        monitor = (OutOfBagStop(x, params.learning_rate, params.early_stopping_window,
                                params.oob_improvement == "same-samples")
                   if params.early_stopping_window else None)
        boosting.fit(x, y, monitor=monitor)
        scale = len(boosting.estimators_) if params.importance_scale == "rounds" else 1
        return boosting.feature_importances_ * scale

    return importances


class OutOfBagStop:
    """A GradientBoostingRegressor monitor: stops when the out-of-bag improvement, averaged over
    the last `window` rounds, is negative (arboreto's EarlyStopMonitor). The improvement is
    scikit-learn's oob_improvement_ (against the last round's loss, on its out-of-bag samples)
    or, with same_samples, the drop in squared error a round's tree brings on that round's
    out-of-bag samples (what oob_improvement_ held before scikit-learn 1.3)."""

    def __init__(self, x: np.ndarray, learning_rate: float, window: int, same_samples: bool):
        self.x = x
        self.learning_rate = learning_rate
        self.window = window
        self.same_samples = same_samples
        self.improvements: list[float] = []

    def __call__(self, i: int, boosting, fitting: dict) -> bool:
        if not self.same_samples:
            recent = boosting.oob_improvement_[max(0, i + 1 - self.window):i + 1]
            return i >= self.window - 1 and np.mean(recent) < 0
        out_of_bag = ~fitting["sample_mask"]
        y = fitting["y"][out_of_bag]
        after = np.asarray(fitting["raw_predictions"]).reshape(len(out_of_bag))[out_of_bag]
        before = after - self.learning_rate * boosting.estimators_[i, 0].predict(
            self.x[out_of_bag])
        self.improvements.append(float(np.mean((y - before) ** 2) - np.mean((y - after) ** 2)))
        return i >= self.window - 1 and np.mean(self.improvements[-self.window:]) < 0
