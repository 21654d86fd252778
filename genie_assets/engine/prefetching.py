"""Software prefetches of the next candidates' ranks while this one is scanned (a rank matrix
larger than a core's cache is read from memory). What a node draws next does not depend on what
its evaluations give, so the next draws are peeked from the random stream."""

from __future__ import annotations

import numpy as np
from numba import njit

from genie_assets.engine.intrinsics import prefetch, prefetch_item
from genie_assets.engine.splits import ON_NODE, off_base_path
from genie_assets.engine.streams import draw_between, unit_interval, xorshift
from genie_assets.engine.tuning import PREFETCH_EACH


@njit(inline="always")
def prefetch_node(ranks, row, samples, start, m):
    """Start loading the ranks of samples[start:start+m] on `row`."""
    if m <= PREFETCH_EACH:
        for i in range(m):
            prefetch(ranks, row, samples[np.uint64(start + i)])
    else:
        first = np.int64(samples[start])
        last = np.int64(samples[start + m - 1])
        for column in range(first, last + 1, 64 // ranks.itemsize):
            prefetch(ranks, row, column)
        prefetch(ranks, row, last)


@njit(inline="always")
def prefetch_candidate(ranks, row, samples, start, m, sparse_node, off_base):
    """Start loading what evaluating `row` in this node reads: the ranks of its samples, or
    the regulator's list of samples off its base rank where the node evaluates it from that."""
    base_rank, sparse_offsets, sparse_samples, sparse_ranks, level_offsets = off_base
    if sparse_node and off_base_path(base_rank, sparse_offsets, row, m,
                                     level_offsets[row + 1] - level_offsets[row]) != ON_NODE:
        first = sparse_offsets[row]
        last = sparse_offsets[row + 1]
        for k in range(first, last, 64 // sparse_samples.itemsize):
            prefetch_item(sparse_samples, k)
        for k in range(first, last, 64 // sparse_ranks.itemsize):
            prefetch_item(sparse_ranks, k)
        if last > first:
            prefetch_item(sparse_samples, last - 1)
            prefetch_item(sparse_ranks, last - 1)
    else:
        prefetch_node(ranks, row, samples, start, m)


@njit(inline="always")
def prefetch_next_draws(ranks, inputs, features, state, low, high, n_known_constants, samples,
                         start, m, sparse_node, off_base):
    """Start loading what the next two regulators to be drawn from positions [low, high) read.

    What is drawn next does not depend on what this node's evaluations give; a wrong guess
    (the first draw lands on a known constant, which shifts the second) only wastes the hint.
    """
    x = xorshift(state[0])
    first = draw_between(unit_interval(x), low, high)
    if first >= n_known_constants:
        prefetch_candidate(ranks, inputs[features[first]], samples, start, m, sparse_node,
                            off_base)
    if high - 1 > low:
        second = draw_between(unit_interval(xorshift(x)), low, high - 1)
        if second >= n_known_constants:
            feature = features[high - 1] if second == first else features[second]
            prefetch_candidate(ranks, inputs[feature], samples, start, m, sparse_node,
                                off_base)


@njit(inline="always")
def prefetch_four_draws(ranks, inputs, features, state, low, high, n_known_constants,
                         samples, start, m, sparse_node, off_base):
    """prefetch_next_draws for the next four draws (a draw landing where an earlier one
    moved a regulator is not guessed)."""
    x = state[0]
    for k in range(4):
        x = xorshift(x)
        if high - k <= low:
            return
        j = draw_between(unit_interval(x), low, high - k)
        if j >= n_known_constants:
            prefetch_candidate(ranks, inputs[features[j]], samples, start, m, sparse_node,
                                off_base)
