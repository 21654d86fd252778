"""The regulator matrix prepared once per dataset: each regulator's values as dense ranks in the
narrowest integer type that holds them, and, for mostly-zero regulators, the list of their other
samples. Every target and tree of a dataset reads these."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genie_assets.engine.tuning import FEATURE_THRESHOLD, FEW_LEVELS, SPARSE_SHARE


class RankedRegulators(NamedTuple):
    """The regulator matrix prepared once per dataset for every target and tree."""

    values: np.ndarray  # a regulator's float64 values per row (no rows where not kept)
    ranks: np.ndarray  # regulators × samples, dense ranks in uint8 / uint16 / int32
    levels: np.ndarray  # each regulator's distinct values, concatenated (few-level data only)
    level_offsets: np.ndarray  # where each regulator's levels start in `levels`
    n_ranks: int  # the most distinct values of any regulator
    base_rank: np.ndarray  # each regulator's most common rank if it holds SPARSE_SHARE, else -1
    sparse_offsets: np.ndarray  # where each such regulator's other samples start below
    sparse_samples: np.ndarray  # the samples off the base rank, regulator by regulator, by rank
    sparse_ranks: np.ndarray  # and their ranks
    sparse_below: np.ndarray  # how many of each regulator's listed samples lie below its base
    value_rows: np.ndarray  # each regulator's row in `values`


def rank_regulators(values: np.ndarray, rows=None, keep_values: bool = True
                    ) -> RankedRegulators:
    """Dense ranks per regulator (values closer than FEATURE_THRESHOLD share a rank).

    `values` holds a regulator per row, as any 2-D array or view; `rows` picks and orders the
    regulators (all, by default), so the transposed view of a samples × genes matrix is ranked
    without copying it. The values themselves are kept only with keep_values: extra-trees
    thresholds of many-valued regulators are read from them, while a random forest needs the
    ranks alone. They are kept as given where that is a C-ordered float64 array (the transpose
    of a Fortran-ordered matrix, as pandas hands out a frame of one dtype), else copied.
    """
    rows = np.arange(values.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    n_rows, n_cols = len(rows), values.shape[1]
    # Ranks are below n_cols: stored narrow from the start (narrowed again if they allow).
    ranks = np.empty((n_rows, n_cols),
                     dtype=np.uint8 if n_cols <= 256 else np.uint16 if n_cols <= 65536
                     else np.int32)
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    levels = []  # each regulator's values, while every regulator has at most FEW_LEVELS
    for k, row in enumerate(rows):
        row_values = np.asarray(values[row], dtype=np.float64)
        order = np.argsort(row_values, kind="stable")
        sorted_values = row_values[order]
        new_value = np.empty(n_cols, dtype=bool)
        new_value[:1] = True
        new_value[1:] = sorted_values[1:] > sorted_values[:-1] + FEATURE_THRESHOLD
        ranks[k, order] = np.cumsum(new_value) - 1
        n_levels = int(np.count_nonzero(new_value))
        if levels is not None and n_levels <= FEW_LEVELS:
            levels.append(sorted_values[new_value])
        else:
            levels = None
        offsets[k + 1] = offsets[k] + n_levels
    n_ranks = int(max(np.diff(offsets).max(initial=1), 1))
    dtype = np.uint8 if n_ranks <= 256 else np.uint16 if n_ranks <= 65536 else np.int32
    level_values = np.concatenate(levels) if levels else np.empty(0)
    ranks = ranks.astype(dtype, copy=False)
    if not keep_values:
        kept, value_rows = np.empty((0, n_cols)), np.arange(n_rows)
    elif (isinstance(values, np.ndarray) and values.dtype == np.float64
          and values.flags.c_contiguous):
        kept, value_rows = values, rows
    else:
        kept, value_rows = np.ascontiguousarray(values[rows], dtype=np.float64), np.arange(n_rows)
    return RankedRegulators(kept, ranks, level_values, offsets, n_ranks,
                            *samples_off_base(ranks), value_rows.astype(np.int64))


def samples_off_base(ranks: np.ndarray):
    """(base_rank, sparse_offsets, sparse_samples, sparse_ranks, sparse_below): for each
    regulator whose most common rank holds at least SPARSE_SHARE of the samples, that rank, its
    other samples in ascending rank (ascending sample within a rank) with their ranks, and how
    many of them lie below the base rank; base rank -1 and no samples for the others. In rank
    order a node can find a many-valued regulator's best split by walking the list
    (splits.best_split_along_list)."""
    n_rows, n_cols = ranks.shape
    base_rank = np.full(n_rows, -1, dtype=np.int64)
    sparse_offsets = np.zeros(n_rows + 1, dtype=np.int64)
    sparse_below = np.zeros(n_rows, dtype=np.int64)
    kept_samples, kept_ranks = [], []
    for row in range(n_rows):
        frequency = np.bincount(ranks[row], minlength=1)
        base = int(frequency.argmax())
        n_kept = 0
        if frequency[base] >= SPARSE_SHARE * n_cols:
            base_rank[row] = base
            others = np.flatnonzero(ranks[row] != base)
            others = others[np.argsort(ranks[row, others], kind="stable")]
            kept_samples.append(others)
            kept_ranks.append(ranks[row, others])
            sparse_below[row] = np.count_nonzero(ranks[row, others] < base)
            n_kept = len(others)
        sparse_offsets[row + 1] = sparse_offsets[row] + n_kept
    sample_type = np.uint16 if n_cols <= 1 << 16 else np.uint32
    sparse_samples = np.concatenate(kept_samples or [np.empty(0, np.int64)]).astype(sample_type)
    sparse_ranks = np.concatenate(kept_ranks or [np.empty(0, np.int64)]).astype(ranks.dtype)
    return base_rank, sparse_offsets, sparse_samples, sparse_ranks, sparse_below
