"""A tree's working arrays, allocated once per target and reused by every tree and node.

Every array is padded so that no other allocation shares its cache lines (see tuning.APART).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from genie_assets.engine.tuning import APART, AROUND_BASE_NODE, LIST_AHEAD, QUAD_LEVELS, SMALL_NODE

# Fields in allocation order (which sets where the arrays sit relative to each other).
Workspace = namedtuple("Workspace", [
    "tree_importance",  # per input regulator: this tree's impurity decrease so far
    "weight",  # per sample: bootstrap count (1 for extra-trees), 0 when not drawn
    "weighted_y",  # weight × target
    "samples",  # the tree's drawn samples; a node's are samples[start:end], ascending
    "spill",  # a partition's right side while the left is compacted
    "features",  # input positions: known constants first, drawn ones moved to the end
    "constant_features",  # the known constants' order, restored for siblings and children
    "found_constant",  # found constant in the node being split
    "counts", "sums",  # per rank: a candidate's accumulators
    "counts_b", "sums_b",  # a second candidate's, evaluated alongside
    "rank_sample", "rank_sample_b",  # where each rank's sample sits in a node (continuous)
    "bitmap_b", "listed_b",
    "bitmap",  # which ranks a node holds
    "listed",  # a node's ranks in order, with LIST_AHEAD of slack
    "keys", "keys_b",  # small nodes: (rank << 8 | position) keys, sorted
    "unsorted", "unsorted_b",  # and before sorting (or those off a regulator's base rank)
    "base_keys", "base_keys_b",  # small nodes: the keys on a regulator's base rank
    "node_n",  # a node's bootstrap weights, by position in the node
    "node_s",  # and weighted targets
    "node_values",  # extra-trees: a regulator's values in the node
    "node_w",  # a node's weights by sample, zero outside the node (lists off the base rank)
    "node_wy",  # and weighted targets
    "node_pw",  # and both packed (weight and fixed-point target, see packing)
    "in_node",  # 1 for a node's samples, 0 elsewhere (lists off the base rank)
    "stack",  # depth-first nodes to split: (start, end, known constants)
    "weighted_fixed",  # per sample: weight × fixed-point target (four at once)
    "fixed_float",  # and as a float (lists walked; exact, see packing.EXACT_IN_FLOATS_SHIFT)
    "node_p",  # a node's weight and fixed-point target packed in one integer (see packing)
    "packed",  # four candidates' packed accumulators, QUAD_LEVELS apart
    "quad_features", "quad_rows", "quad_levels", "quad_proxies", "quad_ranks",  # the four
    "kept",  # positions in a regulator's list of its samples below the base inside a node
])


# Small nodes' keys: see best_split and best_splits_of_two_around_base.
KEYS = max(SMALL_NODE, AROUND_BASE_NODE)


@njit(inline="always")
def zeros_apart(n, dtype):
    """np.zeros(n, dtype) with no other allocation within a cache line of it."""
    return np.zeros(n + 2 * APART, dtype)[APART:APART + n]


@njit(inline="always")
def empty_apart(n, dtype):
    return np.empty(n + 2 * APART, dtype)[APART:APART + n]


@njit(inline="always")
def new_workspace(n_samples, n_inputs, n_ranks):
    n_words = (n_ranks + 63) // 64
    return Workspace(
        zeros_apart(n_inputs, np.float64),
        zeros_apart(n_samples, np.int64),
        zeros_apart(n_samples, np.float64),
        empty_apart(n_samples, np.uint32),
        empty_apart(n_samples, np.uint32),
        empty_apart(n_inputs, np.int64),
        empty_apart(n_inputs, np.int64),
        zeros_apart(n_inputs, np.bool_),
        zeros_apart(n_ranks, np.int64),
        zeros_apart(n_ranks, np.float64),
        zeros_apart(n_ranks, np.int64),
        zeros_apart(n_ranks, np.float64),
        empty_apart(n_ranks, np.uint32),
        empty_apart(n_ranks, np.uint32),
        zeros_apart(n_words, np.uint64),
        empty_apart(n_ranks + LIST_AHEAD, np.uint32),
        zeros_apart(n_words, np.uint64),
        empty_apart(n_ranks + LIST_AHEAD, np.uint32),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(KEYS + 1, np.int64),
        empty_apart(n_samples, np.int64),
        empty_apart(n_samples, np.float64),
        empty_apart(n_samples, np.float64),
        zeros_apart(n_samples, np.int64),
        zeros_apart(n_samples, np.float64),
        zeros_apart(n_samples, np.int64),
        zeros_apart(n_samples, np.uint8),
        empty_apart(3 * (n_samples + 2), np.int64).reshape((n_samples + 2, 3)),
        zeros_apart(n_samples, np.int64),
        zeros_apart(n_samples, np.float64),
        empty_apart(n_samples, np.int64),
        zeros_apart(4 * QUAD_LEVELS, np.int64),
        empty_apart(4, np.int64),
        empty_apart(4, np.int64),
        empty_apart(4, np.int64),
        empty_apart(4, np.float64),
        empty_apart(4, np.int64),
        empty_apart(n_samples + 1, np.int64),
    )
