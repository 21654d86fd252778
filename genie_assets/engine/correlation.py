"""The sign of an edge: the Spearman correlation of regulator and target over the samples.

GENIE3's importances say how much a regulator explains a target, not in which direction; the
rank correlation says whether the target rises (activation) or falls (repression) with it, as
pySCENIC and rustscenic sign their edges. Computed for a shard's targets at once: the columns
ranked once (ties take their average rank), standardised, and every (regulator, target) pair
one dot product of a matrix product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

RHO_COLUMN = "rho"


def _standardised_ranks(values: np.ndarray) -> np.ndarray:
    """Each column's average ranks, centred and scaled to unit norm (a constant column: 0)."""
    ranks = rankdata(values, axis=0, method="average")
    ranks -= ranks.mean(axis=0)
    norms = np.sqrt((ranks * ranks).sum(axis=0))
    return np.divide(ranks, norms, out=np.zeros_like(ranks), where=norms > 0)


def spearman_rho(expression: pd.DataFrame, regulators: pd.Series | np.ndarray,
                 targets: pd.Series | np.ndarray) -> np.ndarray:
    """Spearman's rho of each pair (regulators[i], targets[i]) over the rows of `expression`,
    as float32 (0 where either gene is constant)."""
    if len(regulators) == 0:
        return np.zeros(0, dtype=np.float32)
    # Each edge's regulator and target as a number, and the genes once each: one pass apiece.
    rows, regulator_names = pd.factorize(np.asarray(regulators, dtype=object))
    columns, target_names = pd.factorize(np.asarray(targets, dtype=object))
    standardised_regulators = _standardised_ranks(
        expression[list(regulator_names)].to_numpy(dtype=np.float64))
    standardised_targets = _standardised_ranks(
        expression[list(target_names)].to_numpy(dtype=np.float64))
    rho = standardised_regulators.T @ standardised_targets
    return np.clip(rho[rows, columns], -1.0, 1.0).astype(np.float32)
