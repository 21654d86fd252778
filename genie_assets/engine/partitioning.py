"""Splitting a node's samples in two, stably (samples stay ascending inside every node, so
reading a regulator's ranks for a node walks memory forwards) and without branches."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def partition_by_rank(ranks, row, cut, samples, start, end, spill):
    """Stable, branch-free: samples with rank <= cut first. Returns where the right part starts."""
    left = start
    n_right = 0
    for i in range(start, end):
        s = samples[np.uint64(i)]
        goes_left = np.int64(ranks[row, s]) <= cut
        samples[np.uint64(left)] = s
        spill[n_right] = s
        left += goes_left
        n_right += 1 - goes_left
    for j in range(n_right):
        samples[np.uint64(left + j)] = spill[j]
    return left


@njit(inline="always")
def partition_by_value(values, row, threshold, samples, start, end, spill):
    left = start
    n_right = 0
    for i in range(start, end):
        s = samples[np.uint64(i)]
        goes_left = values[row, s] <= threshold
        samples[np.uint64(left)] = s
        spill[n_right] = s
        left += goes_left
        n_right += 1 - goes_left
    for j in range(n_right):
        samples[np.uint64(left + j)] = spill[j]
    return left
