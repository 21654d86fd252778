"""Forests on a bootstrap smaller than the samples (RF's max_samples), for many cells.

At 20,000 cells a tree that draws a tenth of them reads its cells' ranks scattered over every
cache line of each regulator's row, and walks lists of samples nine tenths of which it did not
draw; nine tenths of its time went to memory (docs/benchmarks.md). So each tree's drawn cells
are compacted first: their ranks into a block of their own, the regulators' lists of samples off
the base rank cut down to them, and the tree grown on that block by the forests'
own grower, as it grows a forest on a matrix of that many cells.

Compacting reads the whole matrix, which costs several trees' growth; it is shared by a group
of targets: tree t of every target draws the same bootstrap, from a stream keyed by the run's
seed (and replicate), not by the target, while each target's node draws stay its own. So a
target's forest is still a random forest whose trees draw independent bootstraps, the edges
are the same whatever the gene order, the threads or the shards (groups), and the cost of
compacting is divided among a group's targets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Before any @njit(cache=True) below: it tells numba where the engine is cached.
from genie_assets.engine.compiling import compile_ahead
from genie_assets.engine.grower import (
    FOUR_AT_ONCE,
    Target,
    choose_grower,
    grow_forest,
    regulators_of,
)
from genie_assets.engine.packing import fixed_point
from genie_assets.engine.ranking import RankedRegulators
from genie_assets.engine.streams import randint, seed_state
from genie_assets.engine.workspace import empty_apart, new_workspace, zeros_apart
from genie_assets.errors import ParameterError


def subsampled_importances(ranked: RankedRegulators, inputs: list[np.ndarray],
                           ys: np.ndarray, seeds: list[int], *, bootstrap_seed: int,
                           n_trees: int, n_candidates: list[int], n_drawn: int) -> list[np.ndarray]:
    """Random-forest importances for a group of targets whose trees each draw n_drawn of the
    samples (fewer than there are), tree t of every target the same draws.

    inputs[k], ys[k], seeds[k] and n_candidates[k] are target k's regulators (rows of
    `ranked`), values, node-draw seed and K; bootstrap_seed keys the shared bootstraps. Returns
    each target's importances, aligned with its inputs, on forest_importances' scale.
    """
    ys = np.ascontiguousarray(ys, dtype=np.float64)
    n_samples = ys.shape[1]
    if not 1 <= n_drawn < n_samples:
        raise ParameterError(f"a shared bootstrap draws fewer than the {n_samples} samples, "
                             f"not {n_drawn}")
    widest = max(len(i) for i in inputs)
    padded = np.zeros((len(inputs), widest), dtype=np.int64)
    for k, rows in enumerate(inputs):
        padded[k, :len(rows)] = rows
    # The four-at-once grower where the data call for it (choose_grower, on every regulator:
    # the same choice whichever targets make up the group); else the general one. Never the
    # continuous pairs': a compacted tree's cells are fewer than the samples, so "one sample
    # per rank" is no longer what a regulator's count of values says.
    grower = choose_grower(ranked, np.arange(ranked.ranks.shape[0]), False)
    args = (ranked, padded, np.array([len(i) for i in inputs], dtype=np.int64), ys,
            np.array(seeds, dtype=np.int64), np.array(n_candidates, dtype=np.int64),
            n_trees, bootstrap_seed, grower == FOUR_AT_ONCE, n_drawn)
    compile_ahead(_subsampled_importances, args)
    importance = _subsampled_importances(*args)
    return [importance[k, :len(rows)] for k, rows in enumerate(inputs)]


@njit(nogil=True, cache=True)
def _subsampled_importances(ranked, inputs, n_inputs, ys, seeds, n_candidates, n_trees,
                            bootstrap_seed, four_at_once, n_drawn):
    ranks, sparse_samples, sparse_ranks = ranked.ranks, ranked.sparse_samples, ranked.sparse_ranks
    n_targets, n_samples = ys.shape
    n_rows = ranks.shape[0]
    importance = np.zeros(inputs.shape, dtype=np.float64)
    this_tree = np.zeros(inputs.shape[1], dtype=np.float64)  # one tree's importances
    # Each target's node draws go on from tree to tree: its stream's state between trees.
    node_states = np.empty(n_targets, dtype=np.uint64)
    for k in range(n_targets):
        node_states[k] = seed_state(seeds[k])[0]
    state = empty_apart(1, np.uint64)  # the target being grown's node draws, loaded per tree
    bootstrap_state = seed_state(bootstrap_seed)
    # Fixed point from all the samples: its count field then holds any bootstrap's weight.
    shifts = np.empty(n_targets, dtype=np.int64)
    scales = np.empty(n_targets, dtype=np.float64)
    for k in range(n_targets):
        shifts[k], scales[k] = fixed_point(ys[k])
    inverse = zeros_apart(n_drawn + 1, np.float64)
    for w in range(1, n_drawn + 1):
        inverse[w] = 1.0 / w

    drawn = np.zeros(n_samples, dtype=np.int64)  # per sample: times drawn in this tree
    position = np.empty(n_samples, dtype=np.int32)  # per sample: its cell, -1 if not drawn
    cells = np.empty(n_drawn, dtype=np.int64)  # the tree's drawn samples, ascending
    flat_ranks = empty_apart(n_rows * n_drawn, ranks.dtype)
    tree_offsets = np.empty(n_rows + 1, dtype=np.int64)
    tree_levels = np.empty(n_rows + 1, dtype=np.int64)
    tree_samples = np.empty(sparse_samples.shape[0], dtype=sparse_samples.dtype)
    tree_sparse_ranks = np.empty(sparse_ranks.shape[0], dtype=sparse_ranks.dtype)
    tree_below = np.zeros(n_rows, dtype=np.int64)
    cell_y = empty_apart(n_drawn, np.float64)
    cell_fixed = empty_apart(n_drawn, np.int64)
    # One more rank than the data's: see compact_levels.
    ws = new_workspace(n_drawn, inputs.shape[1], ranked.n_ranks + 1)
    # Variables, not literals, typed as the grower's kernels pass them: grow_forest then runs the
    # code compiled for it, instead of compiling once more for literal types.
    one_tree = np.int64(1)
    weights_given = np.int64(0)  # Target.n_drawn 0: the grower keeps the weights set here
    extra_trees = n_drawn < 0  # False, as a runtime bool

    for _tree in range(n_trees):
        n_cells = draw_shared_bootstrap(bootstrap_state, drawn, position, cells, n_drawn)
        # The tree's regulators: the data's, with ranks and lists cut down to its cells.
        tree = RankedRegulators(ranked.values, flat_ranks[:n_rows * n_cells].reshape(
            (n_rows, n_cells)), ranked.levels, tree_levels, ranked.n_ranks, ranked.base_rank,
            tree_offsets, tree_samples, tree_sparse_ranks, tree_below, ranked.value_rows)
        compact_ranks(ranked, tree, position, cells, n_cells)
        compact_levels(ranked.level_offsets, n_cells, tree_levels)
        for k in range(n_targets):
            y = ys[k]
            scale = scales[k]
            for j in range(n_cells):
                cell_y[j] = y[cells[j]]
                cell_fixed[j] = np.int64(np.round(cell_y[j] * scale))
                ws.weight[j] = drawn[cells[j]]
            target = Target(cell_y[:n_cells], shifts[k], 1.0 / scale, cell_fixed[:n_cells],
                            inverse, weights_given)
            data = regulators_of(tree, inputs[k, :n_inputs[k]])
            state[0] = node_states[k]
            for f in range(n_inputs[k]):
                this_tree[f] = 0.0
            if four_at_once:
                grow_forest(data, target, one_tree, n_candidates[k], extra_trees, 4, False,
                            state, this_tree, ws)
            else:
                grow_forest(data, target, one_tree, n_candidates[k], extra_trees, 2, False,
                            state, this_tree, ws)
            node_states[k] = state[0]
            for f in range(n_inputs[k]):
                importance[k, f] += this_tree[f]
        for j in range(n_cells):
            drawn[cells[j]] = 0
    for k in range(n_targets):
        for f in range(n_inputs[k]):
            importance[k, f] /= n_trees
    return importance


@njit(inline="always")
def draw_shared_bootstrap(state, drawn, position, cells, n_drawn):
    """n_drawn draws with replacement (drawn: how often each sample was); lists the drawn
    samples in ascending order in cells and each sample's place there in position (-1 where
    not drawn). Returns how many samples were drawn."""
    n_samples = drawn.shape[0]
    for _ in range(n_drawn):
        drawn[randint(state, 0, n_samples)] += 1
    n_cells = 0
    for s in range(n_samples):
        position[s] = n_cells if drawn[s] > 0 else -1
        if drawn[s] > 0:
            cells[n_cells] = s
            n_cells += 1
    return n_cells


@njit(inline="always")
def compact_ranks(ranked, tree, position, cells, n_cells):
    """The tree's block of ranks (regulators × its cells) and the regulators' lists of samples
    off their base rank cut down to its cells (as cell numbers, still in rank order).

    A listed regulator's row is its base rank but where its cut-down list says otherwise: its
    list is read in order (a tenth of its row's bytes in single-cell data), where gathering
    the cells' ranks reads every cache line of the row. The list is cut without a branch: every
    entry is written, and the next one overwrites it unless its sample was drawn. `tree`'s
    ranks, sparse_offsets, sparse_samples, sparse_ranks and sparse_below are written.
    """
    ranks, base_rank, sparse_offsets = ranked.ranks, ranked.base_rank, ranked.sparse_offsets
    sparse_samples, sparse_ranks = ranked.sparse_samples, ranked.sparse_ranks
    tree_ranks, tree_offsets, tree_samples = tree.ranks, tree.sparse_offsets, tree.sparse_samples
    tree_sparse_ranks, tree_below = tree.sparse_ranks, tree.sparse_below
    kept = np.int64(0)
    tree_offsets[0] = 0
    for row in range(ranks.shape[0]):
        base = base_rank[row]
        if base < 0:
            for j in range(n_cells):
                tree_ranks[row, j] = ranks[row, cells[j]]
            tree_offsets[row + 1] = kept
            tree_below[row] = 0
            continue
        for j in range(n_cells):
            tree_ranks[row, j] = base
        first = kept
        for p in range(sparse_offsets[row], sparse_offsets[row + 1]):
            cell = position[sparse_samples[p]]
            tree_samples[np.uint64(kept)] = cell
            tree_sparse_ranks[np.uint64(kept)] = sparse_ranks[p]
            kept += np.int64(cell >= 0)
        below = np.int64(0)
        for q in range(first, kept):
            rank = tree_sparse_ranks[q]
            tree_ranks[row, np.uint64(tree_samples[q])] = rank
            below += np.int64(rank < base)
        tree_offsets[row + 1] = kept
        tree_below[row] = below


@njit(inline="always")
def compact_levels(level_offsets, n_cells, tree_levels):
    """Each regulator's count of values for a tree of n_cells cells, as offsets.

    The grower reads "as many values as cells" as "no two cells share a value" (a continuous
    regulator's path). The tree keeps the data's ranks, whose counts are of all the samples,
    more than a tree's cells: a regulator whose count equals the tree's cells by chance is
    given one more (an empty rank past its last, which no scan can choose).
    """
    tree_levels[0] = 0
    for row in range(level_offsets.shape[0] - 1):
        n_levels = level_offsets[row + 1] - level_offsets[row]
        if n_levels == n_cells:
            n_levels += 1
        tree_levels[row + 1] = tree_levels[row] + n_levels


