"""What a split is worth: scans over a node's samples in rank order that find the best cut.

A split of a node of weight W and weighted target sum S into (wL, sL) and (wR, sR) decreases the
impurity by sL²/wL + sR²/wR - S²/W; S²/W is the node's, so a scan ranks cuts by the first two
terms (the proxy). Bootstrap weights are whole numbers, so 1/w comes from a table (`inverse`).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from genie_assets.engine.intrinsics import popcount
from genie_assets.engine.packing import unpack
from genie_assets.engine.tuning import LIST_AHEAD


@njit(inline="always")
def split_proxy(left_n, left_s, total_n, total_s, inverse):
    """sL²/nL + sR²/nR: what ranks splits of one node, as S²/W is the same for all of them."""
    right_s = total_s - left_s
    return (left_s * left_s * inverse[np.uint64(left_n)]
            + right_s * right_s * inverse[np.uint64(total_n - left_n)])


@njit(inline="always")
def take_rank(counts, sums, r, left_n, left_s, total_n, total_s, inverse, best, best_rank):
    """One step of a scan over accumulated ranks: move rank r to the left, zero its
    accumulators, keep the split if it is the best so far. Returns the updated scan state."""
    left_n += counts[r]
    left_s += sums[r]
    counts[r] = 0
    sums[r] = 0.0
    proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
    if proxy > best:
        return left_n, left_s, proxy, np.int64(r)
    return left_n, left_s, best, best_rank


@njit(inline="always")
def scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse):
    """Best split over ranks 0..n_levels-1 of filled accumulators, zeroing them as it goes.

    Returns (proxy gain, the highest rank that goes left); rank -1 when all samples share one.
    The scan stops at the node's highest rank: the accumulators above it are already zero.
    """
    best = -np.inf
    best_rank = -1
    left_n = 0
    left_s = 0.0
    for r in range(n_levels):
        u = np.uint32(r)
        left_n += counts[u]
        left_s += sums[u]
        counts[u] = 0
        sums[u] = 0.0
        if left_n == total_n:
            break
        # Selects, not branches: whether a rank beats the best so far is as good as random,
        # and the mispredicted branch cost more than computing every rank's proxy (1.12x on
        # count data).
        proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
        if left_n == 0:
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = r
    return best, best_rank


@njit(inline="always")
def scan_packed(packed, n_levels, total_n, total_f, inverse, shift):
    """scan_every_rank over packed accumulators; the proxy gain is in fixed-point units."""
    best = -np.inf
    best_rank = -1
    left = np.int64(0)
    total = float(total_f)
    for r in range(n_levels):
        u = np.uint32(r)
        left += packed[u]
        packed[u] = 0
        left_n, left_f = unpack(left, shift)
        if left_n == total_n:
            break
        # Exact: both sums are integers below 2^52.
        proxy = split_proxy(left_n, float(left_f), total_n, total, inverse)
        if left_n == 0:
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = r
    return best, best_rank



@njit(inline="always")
def scan_sorted_keys(keys, m, node_n, node_s, total_n, total_s, inverse):
    """Best split of a small node from its (rank << 8 | position) keys in ascending order.

    Returns (proxy gain, the highest rank that goes left); rank -1 when all ranks are equal.
    """
    best = -np.inf
    best_rank = -1
    if (keys[0] >> 8) == (keys[m - 1] >> 8):
        return best, best_rank
    left_n = 0
    left_s = 0.0
    for i in range(m - 1):
        key = keys[i]
        position = np.uint64(key & 255)
        left_n += node_n[position]
        left_s += node_s[position]
        # No branch on ties (none in continuous data): a select discards their proxy, which
        # lets the compiler turn the best-so-far test into selects too (as good as random,
        # mispredicted as a branch; 1.11x on continuous data).
        proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
        if (keys[i + 1] >> 8) == (key >> 8):
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = key >> 8
    return best, best_rank


@njit(inline="always")
def sorted_key_step(keys, i, left_n, left_s, group_n, group_s, grouped, node_n, node_s, node,
                    best, best_rank):
    """A step of scan_keys_around_base: key i moves left, and the cut after it counts unless
    key i + 1 has its rank. `grouped`: the samples of one rank are summed from zero, then
    added (as per-rank accumulators add them), else added one by one (as scan_sorted_keys
    does); distinct ranks give the same sums either way."""
    total_n, total_s, inverse = node.total_n, node.total_s, node.inverse
    key = keys[i]
    position = np.uint64(key & 255)
    tie = (keys[i + 1] >> 8) == (key >> 8)
    if grouped:
        group_n += node_n[position]
        group_s += node_s[position]
        if not tie:
            left_n += group_n
            left_s += group_s
            group_n = np.int64(0)
            group_s = 0.0
    else:
        left_n += node_n[position]
        left_s += node_s[position]
    proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
    if tie:
        proxy = -np.inf
    if proxy > best:
        best = proxy
        best_rank = key >> 8
    return left_n, left_s, group_n, group_s, best, best_rank


@njit(inline="always")
def scan_keys_around_base(keys, around, base, grouped, node_n, node_s, node):
    """The best split of a node from its sorted (rank << 8 | position) keys, where
    keys[n_below:n_below + n_base] share the base rank (base_n/base_s: their summed weights
    and weighted targets from zero, in position order). Their cuts are ties, so the block is
    added at once and the cut after it evaluated once. With `grouped` the sums are those of
    the per-rank accumulator scans (best_split's larger nodes), without it scan_sorted_keys'
    (small nodes): the same sums in the same order and the same cuts as the path it stands
    for, so the same result to the bit. Returns (proxy gain, the highest rank that goes
    left); rank -1 when all ranks are equal."""
    n_below, n_base, base_n, base_s = around  # as sort_keys_around_base returns them
    m, total_n, total_s, inverse = node.m, node.total_n, node.total_s, node.inverse
    best = -np.inf
    best_rank = np.int64(-1)
    if (keys[0] >> 8) == (keys[m - 1] >> 8):
        return best, best_rank
    left_n = np.int64(0)
    left_s = 0.0
    group_n = np.int64(0)
    group_s = 0.0
    for i in range(min(n_below, m - 1)):
        left_n, left_s, group_n, group_s, best, best_rank = sorted_key_step(
            keys, i, left_n, left_s, group_n, group_s, grouped, node_n, node_s, node, best,
            best_rank)
    end_base = n_below + n_base
    if n_base > 0:
        if n_below == 0:
            left_n = base_n
            left_s = base_s
        elif grouped:
            left_n += base_n
            left_s += base_s
        else:
            for t in range(n_below, end_base):
                position = np.uint64(keys[t] & 255)
                left_n += node_n[position]
                left_s += node_s[position]
        if end_base < m:
            proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
            if proxy > best:
                best = proxy
                best_rank = base
    for i in range(end_base, m - 1):
        left_n, left_s, group_n, group_s, best, best_rank = sorted_key_step(
            keys, i, left_n, left_s, group_n, group_s, grouped, node_n, node_s, node, best,
            best_rank)
    return best, best_rank


@njit(inline="always")
def scan_sorted_keys_of_two(keys_a, keys_b, node_n, node_s, node):
    """scan_sorted_keys for two regulators' keys of one node in one loop: one mispredicted
    loop exit instead of two, and two independent chains of sums side by side. Where all of
    a regulator's ranks are equal every step is a tie, so its rank stays -1."""
    m, total_n, total_s, inverse = node.m, node.total_n, node.total_s, node.inverse
    best_a = -np.inf
    rank_a = -1
    best_b = -np.inf
    rank_b = -1
    left_n_a = 0
    left_s_a = 0.0
    left_n_b = 0
    left_s_b = 0.0
    for i in range(m - 1):
        key_a = keys_a[i]
        key_b = keys_b[i]
        position_a = np.uint64(key_a & 255)
        position_b = np.uint64(key_b & 255)
        left_n_a += node_n[position_a]
        left_s_a += node_s[position_a]
        left_n_b += node_n[position_b]
        left_s_b += node_s[position_b]
        proxy_a = split_proxy(left_n_a, left_s_a, total_n, total_s, inverse)
        proxy_b = split_proxy(left_n_b, left_s_b, total_n, total_s, inverse)
        if (keys_a[i + 1] >> 8) == (key_a >> 8):
            proxy_a = -np.inf
        if (keys_b[i + 1] >> 8) == (key_b >> 8):
            proxy_b = -np.inf
        if proxy_a > best_a:
            best_a = proxy_a
            rank_a = key_a >> 8
        if proxy_b > best_b:
            best_b = proxy_b
            rank_b = key_b >> 8
    return best_a, rank_a, best_b, rank_b


@njit(inline="always")
def list_ranks(bitmap, first_word, last_word, listed):
    """Write the set bits of bitmap[first_word:last_word + 1] in order into `listed`, zeroing
    the words; returns how many there were. `listed` needs LIST_AHEAD entries of slack.

    Each word's first LIST_AHEAD bits are written whether or not the word has that many (the
    count comes from a population count), so the loop over a word's bits does not end on a
    data-dependent branch: a node's bits are a handful per word, and a mispredicted loop exit
    per word cost more than the rest of the listing.
    """
    n_listed = 0
    for w in range(first_word, last_word + 1):
        word = bitmap[w]
        bitmap[w] = np.uint64(0)
        base = w << 6
        n_bits = np.int64(popcount(word))
        for j in range(LIST_AHEAD):
            listed[n_listed + j] = base + np.int64(trailing_zeros(word))
            word &= word - np.uint64(1)
        if n_bits > LIST_AHEAD:
            for j in range(LIST_AHEAD, n_bits):
                listed[n_listed + j] = base + np.int64(trailing_zeros(word))
                word &= word - np.uint64(1)
        n_listed += n_bits
    return n_listed
