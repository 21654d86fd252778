"""The grower: a target's forest, tree by tree, node by node, adding each split's impurity
decrease to its regulator's importance as it goes (no tree is stored).

Node splitting follows scikit-learn's BestSplitter (RF) and RandomSplitter (ET): the same rule
for drawing K candidate regulators while skipping constant ones, the same stopping rules, and
importances as unnormalised weighted impurity decrease divided by the root weight. The grower
is compiled three ways (see choose_grower); each grows the very same forest wherever its sums
are exact, which the tests check.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import literally, njit

# Before any @njit(cache=True) below: it tells numba where the engine is cached.
from genie_assets.engine.compiling import compile_ahead
from genie_assets.engine.packing import fixed_point
from genie_assets.engine.partitioning import partition_by_rank, partition_by_value
from genie_assets.engine.prefetching import (
    prefetch_candidate,
    prefetch_four_draws,
    prefetch_next_draws,
)
from genie_assets.engine.ranking import RankedRegulators
from genie_assets.engine.records import Node
from genie_assets.engine.splits import (
    ADDS_OFF_BASE,
    ON_NODE,
    WALKS_LIST,
    best_split,
    best_split_along_list,
    best_split_off_base,
    best_splits_of_four,
    best_splits_of_two,
    best_splits_of_two_around_base,
    best_splits_of_two_distinct,
    best_splits_of_two_small,
    count_like,
    level_rank,
    off_base_path,
    random_split,
)
from genie_assets.engine.streams import draw_between, randint, seed_state, unit_interval, xorshift
from genie_assets.engine.tuning import (
    AROUND_BASE_NODE,
    EPSILON,
    FEW_LEVELS,
    FEW_LEVELS_PER_SAMPLE,
    PAIRS_NODE,
    PREFETCH_BYTES,
    QUAD_LEVELS,
    SMALL_NODE,
    SPARSE_NODE,
)
from genie_assets.engine.workspace import empty_apart, new_workspace, zeros_apart
from genie_assets.errors import ParameterError

# The three growers. Each is compiled without the others' code: with it present, each ran
# slower on the others' data (docs/engine.md).
FOUR_AT_ONCE = 0  # count data: four count-like candidates evaluated in one pass
CONTINUOUS_PAIRS = 1  # continuous data: two continuous candidates in one pass and one scan
GENERAL = 2  # the rest, two candidates at a time (droplet single-cell data, extra-trees)
GROWERS = {"four at once": FOUR_AT_ONCE, "continuous pairs": CONTINUOUS_PAIRS,
           "general": GENERAL}

# What every node reads: the ranked regulators, the target's inputs and the compiled choices.
Regulators = namedtuple("Regulators", [
    "values", "value_rows", "ranks", "levels", "level_offsets", "base_rank", "sparse_offsets",
    "sparse_samples", "sparse_ranks", "sparse_below", "inputs", "few_levels", "prefetching",
    "any_off_base",
])
# The target: its values, their fixed-point form (shift, 1/scale, values), 1/w by weight w, and
# how many samples each tree's bootstrap draws.
Target = namedtuple("Target", ["y", "shift", "unit", "fixed_y", "inverse", "n_drawn"])


def forest_importances(ranked: RankedRegulators, inputs: np.ndarray, y: np.ndarray, *,
                       n_trees: int, n_candidates: int, extra_trees: bool, seed: int,
                       n_drawn: int = -1) -> np.ndarray:
    """Importances of the regulators `inputs` (rows of `ranked`) for one target `y`.

    Returns an array aligned with `inputs`: the impurity decrease of each regulator, summed over
    its splits, divided by the root weight, averaged over n_trees trees (scikit-learn's
    compute_feature_importances(normalize=False)). n_candidates is K, drawn per node;
    n_drawn the bootstrap's size (random forest; -1: as many as there are samples).
    """
    return grow_importances(ranked, inputs, y, n_trees=n_trees, n_candidates=n_candidates,
                            extra_trees=extra_trees, seed=seed,
                            grower=choose_grower(ranked, inputs, extra_trees), n_drawn=n_drawn)


def choose_grower(ranked: RankedRegulators, inputs: np.ndarray, extra_trees: bool) -> int:
    """The grower for these regulators: four at once where most are count-like and few are
    listed (mostly zeros), continuous pairs where most are continuous, else the general one."""
    if extra_trees:
        return GENERAL
    n_samples = ranked.ranks.shape[1]
    n_levels = np.diff(ranked.level_offsets)[inputs]
    n_count_like = np.count_nonzero((n_levels <= QUAD_LEVELS) & (2 * n_levels <= n_samples))
    n_listed = np.count_nonzero(ranked.base_rank[inputs] >= 0)
    n_distinct = np.count_nonzero(n_levels == n_samples)
    if 2 * n_count_like > len(inputs) and 2 * n_listed < len(inputs):
        return FOUR_AT_ONCE
    if 2 * n_distinct > len(inputs):
        return CONTINUOUS_PAIRS
    return GENERAL


def grow_importances(ranked: RankedRegulators, inputs: np.ndarray, y: np.ndarray, *,
                     n_trees: int, n_candidates: int, extra_trees: bool, seed: int,
                     grower: int, n_drawn: int = -1) -> np.ndarray:
    """forest_importances with the grower given (GROWERS); extra-trees takes only GENERAL."""
    if extra_trees and grower != GENERAL:
        raise ParameterError("extra-trees is grown by the general grower only")
    few_levels = ranked.n_ranks <= FEW_LEVELS and ranked.levels.shape[0] > 0
    if extra_trees and not few_levels and ranked.values.shape[0] == 0:
        raise ParameterError("extra-trees on many-valued regulators needs their values: "
                          "rank them with keep_values=True")
    if n_drawn < 0:
        n_drawn = len(y)
    if not 1 <= n_drawn <= len(y) or (extra_trees and n_drawn != len(y)):
        raise ParameterError(f"a bootstrap of {n_drawn} of {len(y)} samples"
                             f"{' (extra-trees takes every sample)' if extra_trees else ''}")
    # A strided target (a matrix's column) would compile the engine once more, for minutes.
    y = np.ascontiguousarray(y)
    kernel = GROWER_KERNELS[grower]
    args = (ranked, inputs, y, n_trees, n_candidates, extra_trees, seed, n_drawn)
    # Compiled (or loaded) apart from the call, so that the time it takes is known.
    compile_ahead(kernel, args)
    return kernel(*args)


@njit(inline="always")
def _forest_inputs(ranked, inputs, y, n_drawn):
    """What every grower reads for one target: its regulators, the target, a workspace and
    the importances to add into."""
    n_samples = y.shape[0]
    importance = np.zeros(inputs.shape[0], dtype=np.float64)
    inverse = zeros_apart(n_samples + 1, np.float64)
    for k in range(1, n_samples + 1):
        inverse[k] = 1.0 / k
    shift, scale = fixed_point(y)
    fixed_y = empty_apart(n_samples, np.int64)
    for s in range(n_samples):
        fixed_y[s] = np.int64(np.round(y[s] * scale))
    target = Target(y, shift, 1.0 / scale, fixed_y, inverse, n_drawn)
    data = regulators_of(ranked, inputs)
    ws = new_workspace(n_samples, inputs.shape[0], ranked.n_ranks)
    return data, target, ws, importance


# One entry kernel per grower, so that a process compiles only the grower its data takes
# (each is a third of the forests' compile time, a minute or more on a laptop) and a cache
# can be built grower by grower in parallel.
@njit(nogil=True, cache=True)
def _four_at_once(ranked, inputs, y, n_trees, n_candidates, extra_trees, seed, n_drawn):
    data, target, ws, importance = _forest_inputs(ranked, inputs, y, n_drawn)
    grow_forest(data, target, n_trees, n_candidates, extra_trees, 4, False, seed_state(seed),
                importance, ws)
    return importance


@njit(nogil=True, cache=True)
def _continuous_pairs(ranked, inputs, y, n_trees, n_candidates, extra_trees, seed, n_drawn):
    data, target, ws, importance = _forest_inputs(ranked, inputs, y, n_drawn)
    grow_forest(data, target, n_trees, n_candidates, extra_trees, 2, True, seed_state(seed),
                importance, ws)
    return importance


@njit(nogil=True, cache=True)
def _general(ranked, inputs, y, n_trees, n_candidates, extra_trees, seed, n_drawn):
    data, target, ws, importance = _forest_inputs(ranked, inputs, y, n_drawn)
    grow_forest(data, target, n_trees, n_candidates, extra_trees, 2, False, seed_state(seed),
                importance, ws)
    return importance


GROWER_KERNELS = {FOUR_AT_ONCE: _four_at_once, CONTINUOUS_PAIRS: _continuous_pairs,
                  GENERAL: _general}


@njit(inline="always")
def regulators_of(ranked, inputs):
    """The Regulators a target's trees read: a RankedRegulators' fields, the target's inputs
    (rows of it) and the choices they decide."""
    ranks = ranked.ranks
    return Regulators(ranked.values, ranked.value_rows, ranks, ranked.levels,
                      ranked.level_offsets, ranked.base_rank, ranked.sparse_offsets,
                      ranked.sparse_samples, ranked.sparse_ranks, ranked.sparse_below, inputs,
                      ranked.n_ranks <= FEW_LEVELS and ranked.levels.shape[0] > 0,
                      ranks.size * ranks.itemsize > PREFETCH_BYTES,
                      ranked.sparse_samples.shape[0] > 0)


@njit(nogil=True, cache=True, _nrt=False)
def grow_forest(data, target, n_trees, n_candidates, extra_trees, group, continuous, state,
                importance, ws):
    """Adds each tree's importances / root weight into `importance`, then averages them.

    group (2, or 4 to evaluate count-like regulators four at a time) and continuous are
    compile-time constants: the code for four is not there when group is 2. Where continuous
    is set, two continuous regulators drawn together take one pass over the node and one scan
    (splits.best_splits_of_two_distinct) when the node has more than SMALL_NODE samples, and
    never the few-values path: a node of half the samples or more would scan every rank of the
    data there, and the listing scans only the node's.

    The tree, node and draw loops stay in this one function: numba inlines a helper by copying
    its intermediate code, and nesting them three deep more than tripled the compile time.
    """
    literally(group)
    literally(continuous)
    y = target.y
    stack = ws.stack
    n_inputs = data.inputs.shape[0]
    for _tree in range(n_trees):
        n_node = draw_bootstrap(ws, target, state, extra_trees, group)
        for f in range(n_inputs):
            ws.features[f] = f
            ws.constant_features[f] = f
            ws.tree_importance[f] = 0.0
        root_weight = 0.0
        stack[0, 0] = 0
        stack[0, 1] = n_node
        stack[0, 2] = 0
        top = 1
        # Invariant: stack[:top] holds the nodes still to split, each (start, end, how many of
        # ws.features' first entries are regulators known to be constant there).
        while top > 0:
            top -= 1
            start = stack[top, 0]
            end = stack[top, 1]
            n_known_constants = stack[top, 2]
            m = end - start
            total_n, total_s, total_q = node_totals(ws, y, start, m)
            total_w = float(total_n)
            if start == 0 and end == n_node:
                root_weight = total_w
            if m < 2:
                continue
            mean = total_s / total_w
            if total_q / total_w - mean * mean <= EPSILON:
                continue
            if m == 2:
                split_two_samples(data, state, ws, start, n_known_constants, total_s, total_w)
                continue

            node = Node(start, m, total_n, total_s, target.inverse)
            sparse_node = data.any_off_base and not extra_trees and m >= SPARSE_NODE
            total_f = np.int64(0)
            if sparse_node:
                total_f = spread_node(ws, target, start, m)

            # Draw and evaluate candidates until K are visited (scikit-learn's rule, see
            # draw_candidates), keeping the best split.
            f_i = n_inputs
            n_drawn_constants = 0
            n_found_constants = 0
            n_visited = 0
            best_proxy = -np.inf
            best_feature = -1
            best_rank = -1
            best_threshold = 0.0
            # Drawn four at a time, the last two wait here when the four cannot go together.
            n_waiting = 0
            node_packed = False  # node_p and total_f are filled at the node's first four
            feature_c = -1
            feature_d = -1
            # Invariant: ws.features[f_i:] are the regulators drawn in this node,
            # [:n_drawn_constants] the known constants drawn, the rest of [:f_i] left to draw.
            while True:
                if group == 4 and n_waiting > 0:
                    feature_a = feature_c
                    feature_b = feature_d
                    n_drawn = n_waiting
                    n_waiting = 0
                else:
                    (n_drawn, feature_a, feature_b, feature_c, feature_d, f_i,
                     n_drawn_constants, n_visited) = draw_candidates(
                        ws.features, state, f_i, n_known_constants, n_drawn_constants,
                        n_visited, n_found_constants, n_candidates, extra_trees, group,
                        sparse_node and m >= PAIRS_NODE)
                if n_drawn == 0:
                    break

                if group == 4 and n_drawn > 2:
                    if four_count_like(data, ws, n_drawn, feature_a, feature_b, feature_c,
                                       feature_d, m, y.shape[0], sparse_node):
                        if not node_packed:
                            node_packed = True
                            total_f = pack_node(ws, target, start, m)
                        if data.prefetching:
                            prefetch_four_draws(data.ranks, data.inputs, ws.features, state,
                                                n_drawn_constants, f_i, n_known_constants,
                                                ws.samples, start, m, sparse_node,
                                                off_base(data))
                        best_splits_of_four(data.ranks, ws, node, total_f, target.shift,
                                            target.unit)
                        for k in range(4):
                            if ws.quad_ranks[k] < 0:
                                ws.found_constant[ws.quad_features[k]] = True
                                n_found_constants += 1
                            elif ws.quad_proxies[k] > best_proxy:
                                best_proxy = ws.quad_proxies[k]
                                best_feature = ws.quad_features[k]
                                best_rank = ws.quad_ranks[k]
                                best_threshold = 0.0
                        continue
                    # The two waiting are evaluated next: load theirs while these are.
                    if data.prefetching:
                        for k in range(2, n_drawn):
                            prefetch_candidate(data.ranks, ws.quad_rows[k], ws.samples, start,
                                               m, sparse_node, off_base(data))
                    n_waiting = n_drawn - 2
                    n_drawn = 2

                # Evaluate a (and b) by the path their values and the node's size call for.
                row_a = data.inputs[feature_a]
                threshold_a = 0.0
                proxy_b = -np.inf
                rank_b = -1
                if extra_trees:
                    proxy_a, threshold_a, constant_a = random_split(
                        data, row_a, data.value_rows[row_a], ws, node, state)
                    rank_a = -1
                    constant_b = True
                else:
                    if data.prefetching:
                        prefetch_next_draws(data.ranks, data.inputs, ws.features, state,
                                            n_drawn_constants, f_i, n_known_constants,
                                            ws.samples, start, m, sparse_node, off_base(data))
                    proxy_a, rank_a, constant_a, proxy_b, rank_b, constant_b = best_splits(
                        data, target, continuous, ws, node, n_drawn, row_a,
                        data.inputs[feature_b] if n_drawn == 2 else row_a, total_f, sparse_node)

                # In draw order, as drawing one at a time would: a, then b moved into a.
                for _ in range(n_drawn):
                    if constant_a:
                        ws.found_constant[feature_a] = True
                        n_found_constants += 1
                    elif proxy_a > best_proxy:
                        best_proxy = proxy_a
                        best_feature = feature_a
                        best_rank = rank_a
                        best_threshold = threshold_a
                    feature_a, proxy_a, rank_a, constant_a = (feature_b, proxy_b, rank_b,
                                                              constant_b)

            if sparse_node:
                unspread_node(ws, start, m)
            n_total_constants = sort_constants(ws, n_known_constants, f_i, n_inputs)

            if best_feature < 0:
                continue
            middle = partition_node(data, extra_trees, ws, best_feature, best_rank,
                                    best_threshold, start, end)
            if middle == start or middle == end:
                continue
            ws.tree_importance[best_feature] += best_proxy - total_s * total_s / total_w
            stack[top, 0] = middle
            stack[top, 1] = end
            stack[top, 2] = n_total_constants
            top += 1
            stack[top, 0] = start
            stack[top, 1] = middle
            stack[top, 2] = n_total_constants
            top += 1

        for f in range(n_inputs):
            importance[f] += ws.tree_importance[f] / root_weight
        for s in range(y.shape[0]):
            ws.weight[s] = 0
            ws.weighted_y[s] = 0.0
    for f in range(n_inputs):
        importance[f] /= n_trees


@njit(inline="always")
def draw_bootstrap(ws, target, state, extra_trees, group):
    """The tree's sample weights (a bootstrap of target.n_drawn draws for RF, as whole-number
    weights on the distinct samples drawn; every sample once for ET); lists the drawn samples
    in ascending order. Returns how many there are."""
    y = target.y
    n_samples = y.shape[0]
    weight = ws.weight
    if extra_trees:
        for s in range(n_samples):
            weight[s] = 1
    else:
        for _ in range(target.n_drawn):
            weight[randint(state, 0, n_samples)] += 1
    n_node = 0
    for s in range(n_samples):
        if weight[s] > 0:
            ws.samples[n_node] = s
            ws.weighted_y[s] = weight[s] * y[s]
            ws.weighted_fixed[s] = weight[s] * target.fixed_y[s]
            ws.fixed_float[s] = float(ws.weighted_fixed[s])
            n_node += 1
    return n_node


@njit(inline="always")
def node_totals(ws, y, start, m):
    """Copies the node's weights and weighted targets into node_n/node_s; returns their totals
    and the weighted sum of squares (total_n, total_s, total_q)."""
    total_n = 0
    total_s = 0.0
    total_q = 0.0
    for i in range(m):
        s = ws.samples[np.uint64(start + i)]
        ws.node_n[i] = ws.weight[s]
        ws.node_s[i] = ws.weighted_y[s]
        total_n += ws.weight[s]
        total_s += ws.weighted_y[s]
        total_q += ws.weighted_y[s] * y[s]
    return total_n, total_s, total_q


@njit(inline="always")
def split_two_samples(data, state, ws, start, n_known_constants, total_s, total_w):
    """A node of two samples: every non-constant regulator splits them the same way, so the
    first one drawn wins, a uniform draw among the non-constant ones. Both children are leaves,
    so nothing is partitioned."""
    features = ws.features
    n_inputs = data.inputs.shape[0]
    s0 = ws.samples[start]
    s1 = ws.samples[start + 1]
    low = n_known_constants
    while low < n_inputs:
        f_j = randint(state, low, n_inputs)
        current = features[f_j]
        row = data.inputs[current]
        if data.ranks[row, s0] != data.ranks[row, s1]:
            ws.tree_importance[current] += (
                ws.weighted_y[s0] * ws.weighted_y[s0] / ws.weight[s0]
                + ws.weighted_y[s1] * ws.weighted_y[s1] / ws.weight[s1]
                - total_s * total_s / total_w)
            break
        features[f_j] = features[low]
        features[low] = current
        low += 1

@njit(inline="always")
def spread_node(ws, target, start, m):
    """node_w/node_wy/node_pw/in_node by sample, for evaluating regulators from their lists
    of samples; returns the node's fixed-point total."""
    total_f = np.int64(0)
    for i in range(m):
        s = ws.samples[np.uint64(start + i)]
        ws.in_node[s] = 1
        ws.node_w[s] = ws.node_n[i]
        ws.node_wy[s] = ws.node_s[i]
        ws.node_pw[s] = (ws.weight[s] << target.shift) + ws.weighted_fixed[s]
        total_f += ws.weighted_fixed[s]
    return total_f


@njit(inline="always")
def unspread_node(ws, start, m):
    for i in range(m):
        s = ws.samples[np.uint64(start + i)]
        ws.in_node[s] = 0
        ws.node_w[s] = 0
        ws.node_wy[s] = 0.0
        ws.node_pw[s] = 0


@njit(inline="always")
def draw_candidates(features, state, f_i, n_known_constants, n_drawn_constants, n_visited,
                    n_found_constants, n_candidates, extra_trees, group, draws_pairs):
    """Draws up to `group` regulators that are sure to be visited (one for extra-trees).

    Returns (how many, the first to fourth drawn or -1, and the updated f_i, n_drawn_constants
    and n_visited). The random state stays in a register while drawing (in memory, each draw
    waited on the last one's store), and positions index unsigned.
    """
    n_drawn = 0
    feature_a = -1
    feature_b = -1
    feature_c = -1
    feature_d = -1
    x = state[0]
    while f_i > n_known_constants:
        if n_drawn == 0:
            if n_visited >= n_candidates and n_visited > n_found_constants + n_drawn_constants:
                break
        elif extra_trees or n_visited >= n_candidates:
            break
        n_visited += 1
        x = xorshift(x)
        f_j = draw_between(unit_interval(x), n_drawn_constants, f_i)
        v = np.uint64(f_j)
        if f_j < n_known_constants:
            u = np.uint64(n_drawn_constants)
            tmp = features[u]
            features[u] = features[v]
            features[v] = tmp
            n_drawn_constants += 1
            continue
        f_i -= 1
        u = np.uint64(f_i)
        current = features[v]
        features[v] = features[u]
        features[u] = current
        if n_drawn == 0:
            feature_a = current
        elif n_drawn == 1:
            feature_b = current
        elif n_drawn == 2:
            feature_c = current
        else:
            feature_d = current
        n_drawn += 1
        # See tuning.PAIRS_NODE.
        if n_drawn == group or (draws_pairs and n_drawn == 2):
            break
    state[0] = x
    return (n_drawn, feature_a, feature_b, feature_c, feature_d, f_i, n_drawn_constants,
            n_visited)


@njit(inline="always")
def off_base(data):
    return (data.base_rank, data.sparse_offsets, data.sparse_samples, data.sparse_ranks,
            data.level_offsets)


@njit(inline="always")
def four_count_like(data, ws, n_drawn, feature_a, feature_b, feature_c, feature_d, m,
                    n_samples, sparse_node):
    """Notes the drawn regulators in ws.quad_*; whether all four take the few-values path
    (evaluated together by splits.best_splits_of_four)."""
    ws.quad_features[0] = feature_a
    ws.quad_features[1] = feature_b
    ws.quad_features[2] = feature_c
    ws.quad_features[3] = feature_d
    n_count_like = 0
    for k in range(n_drawn):
        row = data.inputs[ws.quad_features[k]]
        n_levels = data.level_offsets[row + 1] - data.level_offsets[row]
        ws.quad_rows[k] = row
        ws.quad_levels[k] = n_levels
        n_count_like += (
            count_like(n_levels, n_samples)
            and n_levels <= FEW_LEVELS_PER_SAMPLE * m
            and not (sparse_node and off_base_path(data.base_rank, data.sparse_offsets, row, m,
                                                   n_levels) != ON_NODE))
    return n_count_like == 4


@njit(inline="always")
def pack_node(ws, target, start, m):
    """Fills node_p with the node's weights and fixed-point targets packed; returns the
    fixed-point total."""
    total_f = np.int64(0)
    for i in range(m):
        s = ws.samples[np.uint64(start + i)]
        ws.node_p[i] = (ws.weight[s] << target.shift) + ws.weighted_fixed[s]
        total_f += ws.weighted_fixed[s]
    return total_f


@njit(inline="always")
def best_splits(data, target, continuous, ws, node, n_drawn, row_a, row_b, total_f,
                sparse_node):
    """A random forest's best split on the one or two drawn regulators (rows a and b), by the
    path their values and the node's size call for: (proxy, rank, constant) of a, then of b."""
    ranks = data.ranks
    m = node.m
    level_offsets = data.level_offsets
    n_levels_a = level_offsets[row_a + 1] - level_offsets[row_a]
    n_levels_b = level_offsets[row_b + 1] - level_offsets[row_b]
    path_a = ON_NODE
    path_b = ON_NODE
    if sparse_node:
        path_a = off_base_path(data.base_rank, data.sparse_offsets, row_a, m, n_levels_a)
        if n_drawn == 2:
            path_b = off_base_path(data.base_rank, data.sparse_offsets, row_b, m, n_levels_b)
    distinct_a = continuous and n_levels_a == ranks.shape[1]
    distinct_b = continuous and n_levels_b == ranks.shape[1]
    if (n_drawn == 2 and n_levels_a <= FEW_LEVELS_PER_SAMPLE * m
            and n_levels_b <= FEW_LEVELS_PER_SAMPLE * m
            and not distinct_a and not distinct_b
            and path_a == ON_NODE and path_b == ON_NODE):
        proxy_a, rank_a, proxy_b, rank_b = best_splits_of_two(
            ranks, row_a, row_b, ws, node, n_levels_a, n_levels_b)
        return proxy_a, rank_a, rank_a < 0, proxy_b, rank_b, rank_b < 0
    if (n_drawn == 2 and m <= AROUND_BASE_NODE
            and n_levels_a > FEW_LEVELS_PER_SAMPLE * m
            and n_levels_b > FEW_LEVELS_PER_SAMPLE * m
            and data.base_rank[row_a] >= 0 and data.base_rank[row_b] >= 0
            and path_a == ON_NODE and path_b == ON_NODE):
        proxy_a, rank_a, proxy_b, rank_b = best_splits_of_two_around_base(
            ranks, row_a, row_b, data.base_rank[row_a], data.base_rank[row_b], ws.samples,
            node, ws.node_n, ws.node_s, (ws.unsorted, ws.base_keys, ws.keys),
            (ws.unsorted_b, ws.base_keys_b, ws.keys_b))
        return proxy_a, rank_a, rank_a < 0, proxy_b, rank_b, rank_b < 0
    if (n_drawn == 2 and m <= SMALL_NODE
            and n_levels_a > FEW_LEVELS_PER_SAMPLE * m
            and n_levels_b > FEW_LEVELS_PER_SAMPLE * m):
        proxy_a, rank_a, proxy_b, rank_b = best_splits_of_two_small(ranks, row_a, row_b, ws,
                                                                    node)
        return proxy_a, rank_a, rank_a < 0, proxy_b, rank_b, rank_b < 0
    if n_drawn == 2 and distinct_a and distinct_b:
        # More than SMALL_NODE distinct values: neither can be constant.
        proxy_a, rank_a, proxy_b, rank_b = best_splits_of_two_distinct(ranks, row_a, row_b, ws,
                                                                       node)
        return proxy_a, rank_a, False, proxy_b, rank_b, False
    proxy_a = -np.inf
    rank_a = -1
    constant_a = True
    proxy_b = -np.inf
    rank_b = -1
    constant_b = True
    for k in range(n_drawn):
        row = row_a if k == 0 else row_b
        n_levels = n_levels_a if k == 0 else n_levels_b
        path = path_a if k == 0 else path_b
        if path == WALKS_LIST:
            proxy, rank, constant = best_split_along_list(data, row, ws, node, total_f,
                                                          target.shift, target.unit)
        elif path == ADDS_OFF_BASE:
            proxy, rank, constant = best_split_off_base(data, row, ws, node, n_levels)
        else:
            proxy, rank, constant = best_split(ranks, row, ws, node, n_levels, continuous)
        if k == 0:
            proxy_a, rank_a, constant_a = proxy, rank, constant
        else:
            proxy_b, rank_b, constant_b = proxy, rank, constant
    return proxy_a, rank_a, constant_a, proxy_b, rank_b, constant_b


@njit(inline="always")
def sort_constants(ws, n_known_constants, f_i, n_inputs):
    """Restores the known constants' order for siblings and children (scikit-learn's
    invariant) and moves the ones found in this node in after them; returns how many are
    known now."""
    features = ws.features
    for i in range(n_known_constants):
        features[i] = ws.constant_features[i]
    n_total_constants = n_known_constants
    for i in range(f_i, n_inputs):
        current = features[i]
        if ws.found_constant[current]:
            ws.found_constant[current] = False
            features[i] = features[n_total_constants]
            features[n_total_constants] = current
            ws.constant_features[n_total_constants] = current
            n_total_constants += 1
    return n_total_constants


@njit(inline="always")
def partition_node(data, extra_trees, ws, best_feature, best_rank, best_threshold, start, end):
    """Splits samples[start:end] on the best regulator; returns where the right child starts."""
    row = data.inputs[best_feature]
    if extra_trees and not data.few_levels:
        return partition_by_value(data.values, data.value_rows[row], best_threshold,
                                  ws.samples, start, end, ws.spill)
    if extra_trees:
        best_rank = level_rank(data.levels, data.level_offsets, row, best_threshold)
    return partition_by_rank(data.ranks, row, best_rank, ws.samples, start, end, ws.spill)
