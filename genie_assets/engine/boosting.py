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

A round's out-of-bag improvement is the squared error on its out-of-bag samples after its tree,
taken from the last round's (on the last round's out-of-bag samples, as scikit-learn computes it
since release 1.3) or, with same_samples, from the error on the same samples before its tree
(scikit-learn before 1.3); see params.OOB_IMPROVEMENTS and README "Methods".
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Before any @njit(cache=True) below: it tells numba where the engine is cached.
from genie_assets.engine import compile_cache
from genie_assets.engine.partitioning import partition_by_rank
from genie_assets.engine.ranking import RankedRegulators
from genie_assets.engine.splits import best_split
from genie_assets.engine.streams import randint, seed_state
from genie_assets.engine.tuning import EPSILON
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
    args = (ranked.ranks, ranked.level_offsets, ranked.n_ranks, inputs, y, n_rounds,
            n_candidates, max_depth, learning_rate, n_inbag, early_stopping_window,
            same_samples, seed)
    compile_cache.compile_ahead(_boosted_importances, args)
    summed, n_split, n_done = _boosted_importances(*args)
    total = summed.sum()
    if n_split == 0 or total <= 0:
        return np.zeros(len(inputs)), int(n_done)
    return summed / total * (n_done if per_round else 1), int(n_done)


@njit(nogil=True, cache=True)
def _boosted_importances(ranks, level_offsets, n_ranks, inputs, y, n_rounds, n_candidates,
                         max_depth, learning_rate, n_inbag, window, same_samples, seed):
    """Returns (per input, the sum over trees of impurity decrease / root weight; how many
    trees split; how many rounds ran)."""
    n_samples = y.shape[0]
    n_inputs = inputs.shape[0]
    n_oob = n_samples - n_inbag
    state = seed_state(seed)
    ws = new_workspace(n_samples, n_inputs, n_ranks)
    inverse = zeros_apart(n_samples + 1, np.float64)
    for k in range(1, n_samples + 1):
        inverse[k] = 1.0 / k
    summed = np.zeros(n_inputs, dtype=np.float64)
    prediction = empty_apart(n_samples, np.float64)
    initial = y.mean()
    for s in range(n_samples):
        prediction[s] = initial
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
            ws.weighted_y[s] = residual
            if drawn[s]:
                ws.samples[n_in] = s
                n_in += 1
                drawn[s] = False
            else:
                oob[n_out] = s
                n_out += 1
                oob_loss += residual * residual
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
            total_s = 0.0
            total_q = 0.0
            for i in range(m):
                residual = ws.weighted_y[ws.samples[np.uint64(start + i)]]
                ws.node_n[i] = 1
                ws.node_s[i] = residual
                total_s += residual
                total_q += residual * residual
            mean = total_s / m
            middle = -1
            best_feature = -1
            best_proxy = -np.inf
            if depth < max_depth and m >= 2 and total_q / m - mean * mean > EPSILON:
                best_rank = -1
                f_end = n_inputs
                n_visited = 0
                # K regulators without replacement, then more while all drawn are constant.
                while f_end > 0 and (n_visited < n_candidates or best_feature < 0):
                    j = randint(state, 0, f_end)
                    f_end -= 1
                    current = features[j]
                    features[j] = features[f_end]
                    features[f_end] = current
                    n_visited += 1
                    row = inputs[current]
                    proxy, rank, constant = best_split(
                        ranks, row, ws.samples, start, m, ws.node_n, ws.node_s, m, total_s,
                        ws.counts, ws.sums, ws.bitmap, ws.rank_sample, ws.listed, ws.keys,
                        ws.unsorted, inverse, level_offsets[row + 1] - level_offsets[row],
                        False)
                    if not constant and proxy > best_proxy:
                        best_proxy = proxy
                        best_feature = current
                        best_rank = rank
                if best_feature >= 0:
                    row = inputs[best_feature]
                    middle = partition_by_rank(ranks, row, best_rank, ws.samples, start, end,
                                               ws.spill)
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
