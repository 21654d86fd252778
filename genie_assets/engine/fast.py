"""A tree-ensemble engine specialised for GENIE3, compiled with numba.

What it exploits that a generic forest library cannot:
- Only the importances are wanted, so no tree is stored: each node's impurity decrease is added
  to its regulator's importance as the tree grows, and the tree is forgotten.
- The regulator matrix is shared by every target and every tree, so each regulator's values are
  turned into dense ranks once per dataset. A node then orders its samples by a regulator in
  linear time (a counting pass over a bitmap of ranks) instead of sorting them, which is where a
  generic random forest spends most of its time.
- The weighted impurity decrease needs no sum of squares: for a split of a node with weight W
  and weighted target sum S into (wL, sL) and (wR, sR) it is sL²/wL + sR²/wR - S²/W.

Node splitting follows scikit-learn's BestSplitter (RF) and RandomSplitter (ET): the same rule
for drawing K candidate regulators while skipping constant ones, the same stopping rules, and
importances as unnormalised weighted impurity decrease divided by the root weight. Random numbers
come from a per-target xorshift64* stream, so a target's result does not depend on threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Values closer than this are one value, as in scikit-learn's splitters.
FEATURE_THRESHOLD = 1e-7
EPSILON = np.finfo(np.float64).eps
# Nodes with at most this many samples sort by insertion; larger ones use the rank bitmap.
SMALL_NODE = 24

def dense_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the dense rank of each value (ties share a rank) and the number of distinct ranks."""
    n_rows, n_cols = values.shape
    ranks = np.empty((n_rows, n_cols), dtype=np.int32)
    n_distinct = np.empty(n_rows, dtype=np.int64)
    for row in range(n_rows):
        order = np.argsort(values[row], kind="stable")
        sorted_values = values[row][order]
        new_value = np.empty(n_cols, dtype=bool)
        new_value[0] = True
        new_value[1:] = sorted_values[1:] > sorted_values[:-1] + FEATURE_THRESHOLD
        rank_in_order = np.cumsum(new_value) - 1
        ranks[row, order] = rank_in_order
        n_distinct[row] = rank_in_order[-1] + 1 if n_cols else 0
    return ranks, n_distinct


@njit(inline="always")
def _next_u64(state):
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(0x2545F4914F6CDD1D)


@njit(inline="always")
def _uniform(state):
    return np.float64(_next_u64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _randint(state, low, high):
    """An integer in [low, high)."""
    value = low + np.int64(_uniform(state) * (high - low))
    return value if value < high else high - 1


@njit(inline="always")
def _seed_state(seed):
    # splitmix64 spreads nearby seeds over the whole state space.
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    state = np.empty(1, dtype=np.uint64)
    state[0] = z if z != np.uint64(0) else np.uint64(1)
    return state


@njit(inline="always")
def _lowest_bit_index(bit, table):
    # De Bruijn multiplication: the index of the single set bit in `bit`.
    return table[(bit * np.uint64(0x03F79D71B4CB0A89)) >> np.uint64(58)]


@njit(inline="always")
def _best_rank_split(ranks, row, samples, start, m, node_w, node_s, total_w, total_s,
                     acc_w, acc_s, bitmap, keys, unsorted, inverse, table):
    """Best split of samples[start:start+m] on one regulator, scanning it in rank order.

    node_w/node_s hold the node's sample weights and weighted targets, gathered once per node.
    Weights are whole numbers (bootstrap counts), so 1/w comes from the `inverse` table instead
    of a division. Returns (proxy gain sL²/wL + sR²/wR, threshold rank, is_constant).
    """
    best = -np.inf
    best_rank = -1
    total_n = np.int64(total_w + 0.5)
    if m <= SMALL_NODE:
        # Sort (rank, position) packed in one integer by counting, for each key, the keys
        # below it: m² branch-free comparisons beat a mispredicted insertion sort at this size.
        for i in range(m):
            unsorted[i] = (np.int64(ranks[row, samples[start + i]]) << 8) | i
        for i in range(m):
            key = unsorted[i]
            below = 0
            for j in range(m):
                below += unsorted[j] < key
            keys[below] = key
        if (keys[0] >> 8) == (keys[m - 1] >> 8):
            return best, best_rank, True
        left_w = 0.0
        left_s = 0.0
        for i in range(m - 1):
            key = keys[i]
            position = key & 255
            left_w += node_w[position]
            left_s += node_s[position]
            if (keys[i + 1] >> 8) == (key >> 8):
                continue
            left_n = np.int64(left_w + 0.5)
            right_s = total_s - left_s
            proxy = left_s * left_s * inverse[left_n] + right_s * right_s * inverse[total_n - left_n]
            if proxy > best:
                best = proxy
                best_rank = key >> 8
        return best, best_rank, False

    low_word = bitmap.shape[0]
    high_word = -1
    for i in range(m):
        r = np.int64(ranks[row, samples[start + i]])
        word = r >> 6
        bitmap[word] |= np.uint64(1) << np.uint64(r & 63)
        acc_w[r] += node_w[i]
        acc_s[r] += node_s[i]
        low_word = min(low_word, word)
        high_word = max(high_word, word)
    # A constant regulator sets exactly one bit.
    first = bitmap[low_word]
    if low_word == high_word and (first & (first - np.uint64(1))) == np.uint64(0):
        r = low_word * 64 + _lowest_bit_index(first, table)
        acc_w[r] = 0.0
        acc_s[r] = 0.0
        bitmap[low_word] = np.uint64(0)
        return best, best_rank, True
    left_w = 0.0
    left_s = 0.0
    previous = -1
    for word_index in range(low_word, high_word + 1):
        word = bitmap[word_index]
        bitmap[word_index] = np.uint64(0)
        while word != np.uint64(0):
            bit = word & (~word + np.uint64(1))
            word ^= bit
            r = word_index * 64 + _lowest_bit_index(bit, table)
            if previous >= 0:
                left_n = np.int64(left_w + 0.5)
                right_s = total_s - left_s
                proxy = (left_s * left_s * inverse[left_n]
                         + right_s * right_s * inverse[total_n - left_n])
                if proxy > best:
                    best = proxy
                    best_rank = previous
            left_w += acc_w[r]
            left_s += acc_s[r]
            acc_w[r] = 0.0
            acc_s[r] = 0.0
            previous = r
    return best, best_rank, False


@njit(inline="always")
def _random_split(values, row, samples, start, m, node_w, node_s, total_w, total_s,
                  node_values, inverse, state):
    """Extra-trees split: one uniform threshold between the node's min and max of a regulator.

    Returns (proxy gain, threshold, is_constant).
    """
    low = np.inf
    high = -np.inf
    for i in range(m):
        v = values[row, samples[start + i]]
        node_values[i] = v
        low = min(low, v)
        high = max(high, v)
    if high <= low + FEATURE_THRESHOLD:
        return -np.inf, 0.0, True
    threshold = low + _uniform(state) * (high - low)
    if threshold == high:
        threshold = low
    left_w = 0.0
    left_s = 0.0
    for i in range(m):
        if node_values[i] <= threshold:
            left_w += node_w[i]
            left_s += node_s[i]
    left_n = np.int64(left_w + 0.5)
    total_n = np.int64(total_w + 0.5)
    if left_n <= 0 or left_n >= total_n:
        return -np.inf, threshold, False
    right_s = total_s - left_s
    proxy = left_s * left_s * inverse[left_n] + right_s * right_s * inverse[total_n - left_n]
    return proxy, threshold, False


@njit(nogil=True, cache=True)
def forest_importances(values, ranks, n_ranks, inputs, y, n_trees, n_candidates,
                       extra_trees, seed):
    """Importances of the regulators `inputs` (rows of `values`/`ranks`) for one target `y`.

    values, ranks: regulators × samples. Returns an array aligned with `inputs`: impurity
    decrease of each regulator, summed over its splits, divided by the root weight, averaged
    over n_trees trees (scikit-learn's compute_feature_importances(normalize=False)).
    """
    n_samples = y.shape[0]
    n_inputs = inputs.shape[0]
    table = np.empty(64, dtype=np.int64)
    for i in range(64):
        table[(((np.uint64(1) << np.uint64(i)) * np.uint64(0x03F79D71B4CB0A89))
               >> np.uint64(58))] = i
    state = _seed_state(seed)

    importance = np.zeros(n_inputs, dtype=np.float64)
    tree_importance = np.zeros(n_inputs, dtype=np.float64)
    counts = np.zeros(n_samples, dtype=np.float64)
    weight = np.zeros(n_samples, dtype=np.float64)
    wy = np.zeros(n_samples, dtype=np.float64)
    samples = np.empty(n_samples, dtype=np.int64)
    features = np.empty(n_inputs, dtype=np.int64)
    constant_features = np.empty(n_inputs, dtype=np.int64)
    acc_w = np.zeros(n_ranks, dtype=np.float64)
    acc_s = np.zeros(n_ranks, dtype=np.float64)
    bitmap = np.zeros((n_ranks + 63) // 64, dtype=np.uint64)
    keys = np.empty(SMALL_NODE + 1, dtype=np.int64)
    unsorted = np.empty(SMALL_NODE + 1, dtype=np.int64)
    node_w = np.empty(n_samples, dtype=np.float64)
    node_s = np.empty(n_samples, dtype=np.float64)
    node_values = np.empty(n_samples, dtype=np.float64)
    # Weights are bootstrap counts, so every weight sum is a whole number in [0, n_samples].
    inverse = np.zeros(n_samples + 1, dtype=np.float64)
    for k in range(1, n_samples + 1):
        inverse[k] = 1.0 / k
    # Depth-first stack of (start, end, known constant features).
    stack = np.empty((n_samples + 2, 3), dtype=np.int64)

    for _tree in range(n_trees):
        # Bootstrap (RF) as integer weights on the distinct drawn samples; ET uses all samples.
        if extra_trees:
            for s in range(n_samples):
                counts[s] = 1.0
        else:
            counts[:] = 0.0
            for _ in range(n_samples):
                counts[_randint(state, 0, n_samples)] += 1.0
        n_node = 0
        for s in range(n_samples):
            if counts[s] > 0.0:
                samples[n_node] = s
                weight[s] = counts[s]
                wy[s] = counts[s] * y[s]
                n_node += 1
        for f in range(n_inputs):
            features[f] = f
            constant_features[f] = f
        tree_importance[:] = 0.0
        root_weight = 0.0

        top = 0
        stack[0, 0] = 0
        stack[0, 1] = n_node
        stack[0, 2] = 0
        top = 1
        while top > 0:
            top -= 1
            start = stack[top, 0]
            end = stack[top, 1]
            n_known_constants = stack[top, 2]
            total_w = 0.0
            total_s = 0.0
            total_q = 0.0
            m = end - start
            for i in range(m):
                s = samples[start + i]
                node_w[i] = weight[s]
                node_s[i] = wy[s]
                total_w += weight[s]
                total_s += wy[s]
                total_q += wy[s] * y[s]
            if start == 0 and end == n_node:
                root_weight = total_w
            if end - start < 2:
                continue
            mean = total_s / total_w
            if total_q / total_w - mean * mean <= EPSILON:
                continue

            if m == 2:
                # Every non-constant regulator splits two samples the same way, so the first
                # one drawn wins: a uniform draw among the non-constant ones. Both children
                # are leaves, so nothing is partitioned.
                s0 = samples[start]
                s1 = samples[start + 1]
                low = n_known_constants
                while low < n_inputs:
                    f_j = _randint(state, low, n_inputs)
                    current = features[f_j]
                    row = inputs[current]
                    if extra_trees:
                        separable = abs(values[row, s0] - values[row, s1]) > FEATURE_THRESHOLD
                    else:
                        separable = ranks[row, s0] != ranks[row, s1]
                    if separable:
                        tree_importance[current] += (
                            wy[s0] * wy[s0] / weight[s0] + wy[s1] * wy[s1] / weight[s1]
                            - total_s * total_s / total_w)
                        break
                    features[f_j] = features[low]
                    features[low] = current
                    low += 1
                continue

            # scikit-learn's rule for drawing K candidates: known constants are skipped, and
            # drawing continues past K while every regulator drawn so far was constant.
            f_i = n_inputs
            n_drawn_constants = 0
            n_found_constants = 0
            n_total_constants = n_known_constants
            n_visited = 0
            best_proxy = -np.inf
            best_feature = -1
            best_rank = -1
            best_threshold = 0.0
            while f_i > n_total_constants and (
                n_visited < n_candidates
                or n_visited <= n_found_constants + n_drawn_constants
            ):
                n_visited += 1
                f_j = _randint(state, n_drawn_constants, f_i - n_found_constants)
                if f_j < n_known_constants:
                    tmp = features[n_drawn_constants]
                    features[n_drawn_constants] = features[f_j]
                    features[f_j] = tmp
                    n_drawn_constants += 1
                    continue
                f_j += n_found_constants
                current = features[f_j]
                row = inputs[current]
                if extra_trees:
                    proxy, threshold, constant = _random_split(
                        values, row, samples, start, m, node_w, node_s, total_w, total_s,
                        node_values, inverse, state)
                    rank = -1
                else:
                    proxy, rank, constant = _best_rank_split(
                        ranks, row, samples, start, m, node_w, node_s, total_w, total_s,
                        acc_w, acc_s, bitmap, keys, unsorted, inverse, table)
                    threshold = 0.0
                if constant:
                    features[f_j] = features[n_total_constants]
                    features[n_total_constants] = current
                    n_found_constants += 1
                    n_total_constants += 1
                    continue
                f_i -= 1
                features[f_j] = features[f_i]
                features[f_i] = current
                if proxy > best_proxy:
                    best_proxy = proxy
                    best_feature = current
                    best_rank = rank
                    best_threshold = threshold

            # Restore the known constants' order for siblings and children (scikit-learn's
            # invariant), and remember the ones found here.
            for i in range(n_known_constants):
                features[i] = constant_features[i]
            for i in range(n_known_constants, n_known_constants + n_found_constants):
                constant_features[i] = features[i]

            if best_feature < 0:
                continue
            row = inputs[best_feature]
            # Partition samples[start:end] into left (<= threshold) and right.
            left = start
            right = end - 1
            while left <= right:
                s = samples[left]
                if extra_trees:
                    goes_left = values[row, s] <= best_threshold
                else:
                    goes_left = ranks[row, s] <= best_rank
                if goes_left:
                    left += 1
                else:
                    samples[left] = samples[right]
                    samples[right] = s
                    right -= 1
            middle = left
            if middle == start or middle == end:
                continue
            tree_importance[best_feature] += best_proxy - total_s * total_s / total_w
            stack[top, 0] = middle
            stack[top, 1] = end
            stack[top, 2] = n_total_constants
            top += 1
            stack[top, 0] = start
            stack[top, 1] = middle
            stack[top, 2] = n_total_constants
            top += 1

        for f in range(n_inputs):
            importance[f] += tree_importance[f] / root_weight
        for s in range(n_samples):
            weight[s] = 0.0
            wy[s] = 0.0

    for f in range(n_inputs):
        importance[f] /= n_trees
    return importance
