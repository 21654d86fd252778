"""Stochastic gradient boosting on the ranked regulators (GRNBoost2, Moerman et al. 2019):
least-squares boosting of shallow regression trees, each round fitted to the residuals of a
subsample drawn without replacement, stopped early when the out-of-bag improvement turns
negative on average.

It follows scikit-learn's GradientBoostingRegressor as arboreto configures it: the initial
prediction is the target's mean; a round's tree is grown depth-first on the round's samples with
K regulators drawn per node (drawing on while all drawn are constant, as its splitter does),
splits on the squared error (friedman_mse ranks a node's cuts the same), leaves predict the mean
residual, and every sample's prediction moves by learning_rate × its leaf's value. Out-of-bag
samples follow the tree with the round's samples: a cut at rank r sends ranks <= r left.

A node's candidates take the forests' split search (grower.py): drawn four at a time (the
first K draws do not depend on what they find), four count-like ones in one pass over the node,
the others two at a time, and a mostly-zero regulator from its list of non-zero samples. Each
round's residuals are also held in fixed point (packing.fixed_point, per round) for the paths
that sum in it.

A round's out-of-bag improvement is the squared error on its out-of-bag samples after its tree,
taken from the last round's (on the last round's out-of-bag samples, as scikit-learn computes it
since release 1.3) or, with same_samples, from the error on the same samples before its tree
(scikit-learn before 1.3); see params.OOB_IMPROVEMENTS and docs/methods.md.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Before any @njit(cache=True) below: it tells numba where the engine is cached.
from genie_assets.engine.compiling import compile_ahead
from genie_assets.engine.grower import (
    CONTINUOUS_PAIRS,
    Target,
    best_splits,
    choose_grower,
    four_count_like,
    node_totals,
    pack_node,
    regulators_of,
    spread_node,
    unspread_node,
)
from genie_assets.engine.packing import fixed_point
from genie_assets.engine.partitioning import partition_by_rank
from genie_assets.engine.ranking import RankedRegulators
from genie_assets.engine.records import Node
from genie_assets.engine.splits import best_splits_of_four
from genie_assets.engine.streams import randint, seed_state
from genie_assets.engine.tuning import EPSILON, SPARSE_NODE
from genie_assets.engine.workspace import empty_apart, new_workspace, zeros_apart


def boosted_importances(ranked: RankedRegulators, inputs: np.ndarray, y: np.ndarray, *,
                        n_rounds: int, n_candidates: int, max_depth: int, learning_rate: float,
                        n_inbag: int, early_stopping_window: int, seed: int,
                        same_samples: bool = False, per_round: bool = True
                        ) -> tuple[np.ndarray, int]:
    """The regulators `inputs` (rows of `ranked`)' importances for one target `y`, and how many
    rounds ran.

    Each tree's impurity decrease per regulator divided by its root weight (as for the
    forests), averaged over the trees that split at all, normalised to sum 1, and with
    per_round multiplied by the number of rounds (arboreto's scale, from scikit-learn's
    feature_importances_).
    """
    # Continuous regulators in pairs where most are continuous, as the forests' grower does.
    continuous = choose_grower(ranked, inputs, False) == CONTINUOUS_PAIRS
    # A strided target (a matrix's column) would compile the engine once more, for minutes.
    y = np.ascontiguousarray(y)
    args = (ranked, inputs, y, n_rounds, n_candidates, max_depth, learning_rate, n_inbag,
            early_stopping_window, same_samples, continuous, seed)
    compile_ahead(_boosted_importances, args)
    summed, n_split, n_done = _boosted_importances(*args)
    total = summed.sum()
    if n_split == 0 or total <= 0:
        return np.zeros(len(inputs)), int(n_done)
    return summed / total * (n_done if per_round else 1), int(n_done)


@njit(nogil=True, cache=True)
def _boosted_importances(ranked, inputs, y, n_rounds, n_candidates, max_depth, learning_rate,
                         n_inbag, window, same_samples, continuous, seed):
    """Returns (per input, the sum over trees of impurity decrease / root weight; how many
    trees split; how many rounds ran)."""
    data = regulators_of(ranked, inputs)
    ranks = ranked.ranks
    n_samples = y.shape[0]
    n_inputs = inputs.shape[0]
    n_oob = n_samples - n_inbag
    state = seed_state(seed)
    ws = new_workspace(n_samples, n_inputs, ranked.n_ranks)
    inverse = zeros_apart(n_samples + 1, np.float64)
    for k in range(1, n_samples + 1):
        inverse[k] = 1.0 / k
    summed = np.zeros(n_inputs, dtype=np.float64)
    prediction = empty_apart(n_samples, np.float64)
    initial = y.mean()
    for s in range(n_samples):
        prediction[s] = initial
        # Every round's sample weighs 1 (node_totals and the packing read these), so
        # ws.weighted_y holds the round's residuals themselves: the round's target.
        ws.weight[s] = 1
    residuals = ws.weighted_y
    order = empty_apart(n_samples, np.int64)
    for s in range(n_samples):
        order[s] = s
    drawn = zeros_apart(n_samples, np.bool_)
    oob = empty_apart(n_samples, np.uint32)
    oob_spill = empty_apart(n_samples, np.uint32)
    features = ws.features
    for f in range(n_inputs):
        features[f] = f
    # The last `window` rounds' improvements, as a ring.
    recent = np.zeros(max(window, 1), dtype=np.float64)
    last_loss = 0.0
    stack = ws.stack
    depths = empty_apart(2 * max_depth + 2, np.int64)
    oob_ends = empty_apart(2 * (2 * max_depth + 2), np.int64).reshape((2 * max_depth + 2, 2))
    n_split = 0
    n_done = 0
    for round_ in range(n_rounds):
        # The round's samples without replacement (a partial shuffle), listed ascending.
        for i in range(n_inbag):
            j = randint(state, i, n_samples)
            chosen = order[j]
            order[j] = order[i]
            order[i] = chosen
            drawn[chosen] = True
        n_in = 0
        n_out = 0
        oob_loss = 0.0
        for s in range(n_samples):
            residual = y[s] - prediction[s]
            residuals[s] = residual
            if drawn[s]:
                ws.samples[n_in] = s
                n_in += 1
                drawn[s] = False
            else:
                oob[n_out] = s
                n_out += 1
                oob_loss += residual * residual
        shift, scale = fixed_point(residuals)
        for s in range(n_samples):
            ws.weighted_fixed[s] = np.int64(np.round(residuals[s] * scale))
            ws.fixed_float[s] = float(ws.weighted_fixed[s])
        target = Target(residuals, shift, 1.0 / scale, ws.weighted_fixed, inverse, n_inbag)
        for f in range(n_inputs):
            ws.tree_importance[f] = 0.0
        splits = 0
        stack[0, 0] = 0
        stack[0, 1] = n_inbag
        depths[0] = 0
        oob_ends[0, 0] = 0
        oob_ends[0, 1] = n_oob
        top = 1
        # Invariant: stack[:top] holds the nodes to grow: the round's samples [start, end), the
        # out-of-bag ones in oob[oob_ends], and their depth.
        while top > 0:
            top -= 1
            start = stack[top, 0]
            end = stack[top, 1]
            depth = depths[top]
            oob_start = oob_ends[top, 0]
            oob_end = oob_ends[top, 1]
            m = end - start
            total_n, total_s, total_q = node_totals(ws, residuals, start, m)
            mean = total_s / m
            middle = -1
            best_feature = -1
            best_proxy = -np.inf
            if depth < max_depth and m >= 2 and total_q / m - mean * mean > EPSILON:
                best_feature, best_rank, best_proxy = best_boosting_split(
                    data, target, ws, state, Node(start, m, total_n, total_s, inverse),
                    n_candidates, continuous)
                if best_feature >= 0:
                    middle = partition_by_rank(ranks, inputs[best_feature], best_rank,
                                               ws.samples, start, end, ws.spill)
                    if middle == start or middle == end:
                        middle = -1
            if middle < 0:
                # A leaf: its samples, in the round and out of it, move by its mean residual.
                step = learning_rate * mean
                for i in range(start, end):
                    prediction[ws.samples[np.uint64(i)]] += step
                for i in range(oob_start, oob_end):
                    prediction[oob[np.uint64(i)]] += step
                continue
            splits += 1
            ws.tree_importance[best_feature] += best_proxy - total_s * total_s / m
            oob_middle = partition_by_rank(ranks, inputs[best_feature], best_rank, oob,
                                           oob_start, oob_end, oob_spill)
            for left in range(2):
                stack[top, 0] = start if left else middle
                stack[top, 1] = middle if left else end
                oob_ends[top, 0] = oob_start if left else oob_middle
                oob_ends[top, 1] = oob_middle if left else oob_end
                depths[top] = depth + 1
                top += 1
        n_done += 1
        if splits > 0:
            n_split += 1
            for f in range(n_inputs):
                summed[f] += ws.tree_importance[f] / n_inbag
        if window > 0 and n_oob > 0:
            new_loss = 0.0
            for i in range(n_oob):
                s = oob[i]
                residual = y[s] - prediction[s]
                new_loss += residual * residual
            if same_samples or round_ == 0:
                improvement = (oob_loss - new_loss) / n_oob
            else:
                improvement = last_loss - new_loss / n_oob
            last_loss = new_loss / n_oob
            recent[round_ % window] = improvement
            if round_ >= window - 1 and recent.sum() < 0.0:
                break
    return summed, n_split, n_done


@njit(inline="always")
def best_boosting_split(data, target, ws, state, node, n_candidates, continuous):
    """The best split of a node of the round's tree: K regulators drawn without replacement,
    then more one at a time while every one drawn is constant (scikit-learn's splitter).
    Returns (best input or -1, its highest rank that goes left, its proxy gain).

    Until K are drawn, a draw does not depend on what the last ones found, so they are drawn
    four at a time and evaluated together by the forests' paths (grower.best_splits), in draw
    order: the same draws and the same best as one at a time.
    """
    features = ws.features
    inputs = data.inputs
    start, m = node.start, node.m
    n_samples = target.y.shape[0]
    sparse_node = data.any_off_base and m >= SPARSE_NODE
    total_f = np.int64(0)
    if sparse_node:
        total_f = spread_node(ws, target, start, m)
    node_packed = False  # node_p and total_f are filled at the node's first four
    best_feature = -1
    best_rank = -1
    best_proxy = -np.inf
    f_end = features.shape[0]
    n_visited = 0
    drawn = ws.quad_features
    while True:
        n_drawn = 0
        while f_end > 0 and n_drawn < 4:
            if n_visited >= n_candidates and (n_drawn > 0 or best_feature >= 0):
                break
            j = randint(state, 0, f_end)
            f_end -= 1
            current = features[j]
            features[j] = features[f_end]
            features[f_end] = current
            drawn[n_drawn] = current
            n_drawn += 1
            n_visited += 1
        if n_drawn == 0:
            break
        if n_drawn == 4 and four_count_like(data, ws, 4, drawn[0], drawn[1], drawn[2],
                                            drawn[3], m, n_samples, sparse_node):
            if not node_packed:
                node_packed = True
                total_f = pack_node(ws, target, start, m)
            best_splits_of_four(data.ranks, ws, node, total_f, target.shift, target.unit)
            for k in range(4):
                if ws.quad_ranks[k] >= 0 and ws.quad_proxies[k] > best_proxy:
                    best_proxy = ws.quad_proxies[k]
                    best_feature = drawn[k]
                    best_rank = ws.quad_ranks[k]
            continue
        for first in range(0, n_drawn, 2):
            n_pair = min(2, n_drawn - first)
            feature_a = drawn[first]
            feature_b = drawn[first + n_pair - 1]
            proxy_a, rank_a, constant_a, proxy_b, rank_b, constant_b = best_splits(
                data, target, continuous, ws, node, n_pair, inputs[feature_a],
                inputs[feature_b], total_f, sparse_node)
            if not constant_a and proxy_a > best_proxy:
                best_proxy = proxy_a
                best_feature = feature_a
                best_rank = rank_a
            if n_pair == 2 and not constant_b and proxy_b > best_proxy:
                best_proxy = proxy_b
                best_feature = feature_b
                best_rank = rank_b
    if sparse_node:
        unspread_node(ws, start, m)
    return best_feature, best_rank, best_proxy
