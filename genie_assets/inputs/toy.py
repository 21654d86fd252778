"""A small synthetic dataset with a known regulatory network: the pipeline's default input."""

from __future__ import annotations

import numpy as np
import pandas as pd

TOY_SEED = 7


def toy_dataset(
    n_regulators: int = 8, n_targets: int = 32, n_samples: int = 150, seed: int = TOY_SEED
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """(expression samples × genes, regulator names, gold standard edges).

    Each target is driven by one to three regulators through saturating (Hill-like) responses
    plus noise, so the network is recoverable but not trivially linear. The gold standard lists
    every (regulator, target) pair but self-pairs, with `label` 1 for the true edges.
    """
    expression, regulators, gold, _ = toy_network(n_regulators, n_targets, n_samples, seed)
    return expression, regulators, gold


def toy_network(
    n_regulators: int = 8, n_targets: int = 32, n_samples: int = 150, seed: int = TOY_SEED
) -> tuple[pd.DataFrame, list[str], pd.DataFrame, dict[tuple[str, str], int]]:
    """toy_dataset, with each true edge's sign: +1 where the regulator activates the target
    (its response adds), -1 where it represses it."""
    rng = np.random.default_rng(seed)
    regulators = [f"TF{i + 1:02d}" for i in range(n_regulators)]
    targets = [f"G{i + 1:03d}" for i in range(n_targets)]
    regulator_levels = rng.lognormal(mean=0.0, sigma=0.6, size=(n_samples, n_regulators))
    columns = {name: regulator_levels[:, i] for i, name in enumerate(regulators)}
    signs = {}
    for target in targets:
        n_inputs = rng.integers(1, 4)
        inputs = rng.choice(n_regulators, size=n_inputs, replace=False)
        level = np.zeros(n_samples)
        for i in inputs:
            x = regulator_levels[:, i]
            response = x**2 / (1.0 + x**2)
            sign = rng.choice([-1.0, 1.0])
            level += sign * rng.uniform(1.0, 2.0) * response
            signs[regulators[i], target] = int(sign)
        columns[target] = level + rng.normal(scale=0.15, size=n_samples)
    expression = pd.DataFrame(columns, index=[f"S{i + 1:03d}" for i in range(n_samples)])
    genes = list(expression.columns)
    gold = pd.DataFrame(
        [(r, t, int((r, t) in signs)) for r in regulators for t in genes if r != t],
        columns=["regulator", "target", "label"],
    )
    return expression, regulators, gold, signs


TOY_CELL_TYPES = {"TF01": "type-1", "TF02": "type-2", "TF03": "type-3"}
# The toy's two conditions: the samples where this regulator is above its median, and the
# rest, where it is low and its saturating response nearly flat, so its targets lose it.
TOY_CONDITION_REGULATOR = "TF05"
TOY_CONDITION_COLUMN = "condition"


def toy_cell_annotations(expression: pd.DataFrame) -> pd.DataFrame:
    """Each toy sample's `cell_type`: named after the one of TF01, TF02 and TF03 it expresses
    most (relative to that regulator's median), as a cell type is marked by its lineage
    regulators, so TF01's activating regulon is most active in `type-1`; and its `condition`,
    `TF05-high` or `TF05-low`."""
    marks = list(TOY_CELL_TYPES)
    relative = expression[marks] / expression[marks].median()
    cell_type = relative.idxmax(axis=1).map(TOY_CELL_TYPES)
    level = expression[TOY_CONDITION_REGULATOR]
    condition = np.where(level > level.median(), f"{TOY_CONDITION_REGULATOR}-high",
                         f"{TOY_CONDITION_REGULATOR}-low")
    return pd.DataFrame({"cell_type": cell_type.astype(object),
                         TOY_CONDITION_COLUMN: condition.astype(object)},
                        index=expression.index)
