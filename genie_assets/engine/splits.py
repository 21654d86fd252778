"""Split search: the best split of a node on one, two or four candidate regulators, by the path
their number of distinct values and the node's size call for; and extra-trees' random split.

Each returns the proxy gain (see scans), the highest rank that goes left (-1 when the regulator
is constant in the node) and leaves its accumulators zeroed for the next call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from genie_assets.engine.intrinsics import lowest_bit
from genie_assets.engine.packing import EXACT_IN_FLOATS_SHIFT, unpack
from genie_assets.engine.records import Split
from genie_assets.engine.scans import (
    list_ranks,
    scan_every_rank,
    scan_keys_around_base,
    scan_packed,
    scan_sorted_keys,
    scan_sorted_keys_of_two,
    split_proxy,
    take_rank,
)
from genie_assets.engine.streams import uniform
from genie_assets.engine.tuning import (
    ADD_NODE,
    DENSE_SPAN,
    FEATURE_THRESHOLD,
    FEW_LEVELS_PER_SAMPLE,
    QUAD_LEVELS,
    SMALL_NODE,
    WALK_RATIO,
    WALK_SAMPLES_PER_LEVEL,
)


@njit(inline="always")
def count_like(n_levels, n_samples):
    return n_levels <= QUAD_LEVELS and 2 * n_levels <= n_samples


@njit(inline="always")
def best_splits_of_four(ranks, ws, node, total_f, shift, unit):
    """best_split's few-values path for four count-like regulators in one pass over the node.

    Each sample adds its bootstrap count and weighted target, packed in one integer, into one
    accumulator per regulator (QUAD_LEVELS apart in `packed`): one read-modify-write instead
    of two, four independent ones per sample, and four regulators' ranks loading at once.
    Fills ws.quad_proxies and ws.quad_ranks as best_split's first two results, in draw order
    (for the rows ws.quad_rows, of ws.quad_levels values); total_f is the node's fixed-point
    target sum (see packing).
    """
    rows, samples, node_p, packed = ws.quad_rows, ws.samples, ws.node_p, ws.packed
    n_levels, proxies, best_ranks = ws.quad_levels, ws.quad_proxies, ws.quad_ranks
    start, m, total_n, inverse = node.start, node.m, node.total_n, node.inverse
    r0 = rows[0]
    r1 = rows[1]
    r2 = rows[2]
    r3 = rows[3]
    for i in range(m):
        s = samples[np.uint64(start + i)]
        weighted = node_p[i]
        packed[np.uint32(ranks[r0, s])] += weighted
        packed[np.uint32(QUAD_LEVELS) + ranks[r1, s]] += weighted
        packed[np.uint32(2 * QUAD_LEVELS) + ranks[r2, s]] += weighted
        packed[np.uint32(3 * QUAD_LEVELS) + ranks[r3, s]] += weighted
    for k in range(4):
        best, best_rank = scan_packed(packed[k * QUAD_LEVELS:], n_levels[k], total_n, total_f,
                                       inverse, shift)
        # unit is a power of two: the float proxy, to the bit where the sums are exact.
        proxies[k] = best * unit * unit
        best_ranks[k] = best_rank


@njit(inline="always")
def best_splits_of_two(ranks, row_a, row_b, ws, node, n_levels_a, n_levels_b):
    """best_split's few-values path for two regulators in one pass over the node.

    The two regulators' accumulator updates are independent, so the core overlaps them: with
    count data most samples land on rank 0, and one regulator's updates alone wait on each
    other. Returns both regulators' (proxy gain, highest rank that goes left), rank -1 when
    the regulator is constant in the node.
    """
    samples, node_n, node_s = ws.samples, ws.node_n, ws.node_s
    counts_a, sums_a, counts_b, sums_b = ws.counts, ws.sums, ws.counts_b, ws.sums_b
    start, m, total_n, total_s, inverse = node
    for i in range(m):
        s = samples[np.uint64(start + i)]
        n = node_n[i]
        weighted = node_s[i]
        r_a = ranks[row_a, s]
        r_b = ranks[row_b, s]
        counts_a[r_a] += n
        sums_a[r_a] += weighted
        counts_b[r_b] += n
        sums_b[r_b] += weighted
    best_a, rank_a = scan_every_rank(counts_a, sums_a, n_levels_a, total_n, total_s, inverse)
    best_b, rank_b = scan_every_rank(counts_b, sums_b, n_levels_b, total_n, total_s, inverse)
    return best_a, rank_a, best_b, rank_b



@njit(inline="always")
def best_splits_of_two_small(ranks, row_a, row_b, ws, node):
    """best_split's small-node path for two regulators, their sorts interleaved.

    The counting sorts have no branches to mispredict, so interleaving two gives the core
    twice the independent work between the scans' mispredicted branches. Returns both
    regulators' (proxy gain, highest rank that goes left), rank -1 when constant.
    """
    samples, node_n, node_s = ws.samples, ws.node_n, ws.node_s
    unsorted_a, unsorted_b, keys_a, keys_b = ws.unsorted, ws.unsorted_b, ws.keys, ws.keys_b
    start, m, total_n, total_s, inverse = node
    for i in range(m):
        s = samples[np.uint64(start + i)]
        unsorted_a[i] = (np.int64(ranks[row_a, s]) << 8) | i
        unsorted_b[i] = (np.int64(ranks[row_b, s]) << 8) | i
    for i in range(m):
        key_a = unsorted_a[i]
        key_b = unsorted_b[i]
        below_a = 0
        below_b = 0
        for j in range(m):
            below_a += unsorted_a[j] < key_a
            below_b += unsorted_b[j] < key_b
        keys_a[np.uint64(below_a)] = key_a
        keys_b[np.uint64(below_b)] = key_b
    return scan_sorted_keys_of_two(keys_a, keys_b, node_n, node_s, node)


@njit(inline="always")
def sort_keys_around_base(ranks, row, base, samples, node, node_n, node_s, keys_of_row):
    """keys as best_split's small-node sort leaves them, for a regulator with a base rank
    (most of its samples share one value: zero, in single-cell data): only the keys off the
    base are sorted, by counting comparisons, and the base rank's keys, already in position
    order, go in between. Returns how many keys lie below the base and on it, and the base
    samples' summed weights and weighted targets, in position order from zero: the scan's
    sums after the base block when none lies below it (see scan_keys_around_base).
    keys_of_row: (off_keys, base_keys, keys), the row's scratch and the sorted keys."""
    off_keys, base_keys, keys = keys_of_row
    start = node.start
    m = node.m
    n_off = 0
    n_base = 0
    base_n = 0
    base_s = 0.0
    for i in range(m):
        r = np.int64(ranks[row, samples[np.uint64(start + i)]])
        key = (r << 8) | i
        on_base = r == base
        off_keys[np.uint64(n_off)] = key
        base_keys[np.uint64(n_base)] = key
        n_off += np.int64(not on_base)
        n_base += np.int64(on_base)
        base_n += node_n[i] if on_base else 0
        base_s += node_s[i] if on_base else 0.0
    lowest_above = (base << 8) | 255
    n_below = 0
    for j in range(n_off):
        n_below += off_keys[j] < lowest_above
    for t in range(n_base):
        keys[np.uint64(n_below + t)] = base_keys[t]
    for j in range(n_off):
        key = off_keys[j]
        below = n_base if key > lowest_above else 0
        for k in range(n_off):
            below += off_keys[k] < key
        keys[np.uint64(below)] = key
    return n_below, n_base, base_n, base_s


# Called, not inlined: best_splits is inlined into three growers and boosting, and copying this
# path into each added about 40 % to compiling the engine (docs/benchmarks.md). Without
# reference counting, as the growers: a call then passes its arrays with no atomic updates.
@njit(nogil=True, _nrt=False)
def best_splits_of_two_around_base(ranks, row_a, row_b, base_a, base_b, samples, node, node_n,
                                    node_s, ws_a, ws_b):
    """best_split for two many-valued regulators with base ranks in a node of at most
    AROUND_BASE_NODE samples: the sorted keys and the sums of the path best_split takes (see
    scan_keys_around_base), so the same results to the bit, with the base rank's samples
    neither sorted nor scanned one by one. ws_a/ws_b: (off_keys, base_keys, keys) for each."""
    around_a = sort_keys_around_base(ranks, row_a, base_a, samples, node, node_n, node_s, ws_a)
    around_b = sort_keys_around_base(ranks, row_b, base_b, samples, node, node_n, node_s, ws_b)
    grouped = node.m > SMALL_NODE
    best_a, rank_a = scan_keys_around_base(ws_a[2], around_a, base_a, grouped, node_n, node_s,
                                           node)
    best_b, rank_b = scan_keys_around_base(ws_b[2], around_b, base_b, grouped, node_n, node_s,
                                           node)
    return best_a, rank_a, best_b, rank_b


@njit(inline="always")
def best_splits_of_two_distinct(ranks, row_a, row_b, ws, node):
    """best_split's path for continuous regulators (no two samples share a value) in nodes
    of more than SMALL_NODE samples, for two regulators: one pass over the node notes where
    both regulators' ranks sit, and one scan walks both orders (one loop exit, two independent
    chains of sums). Returns both regulators' (proxy gain, highest rank that goes left).
    """
    samples, node_n, node_s = ws.samples, ws.node_n, ws.node_s
    rank_sample_a, rank_sample_b = ws.rank_sample, ws.rank_sample_b
    bitmap_a, bitmap_b, listed_a, listed_b = ws.bitmap, ws.bitmap_b, ws.listed, ws.listed_b
    start, m, total_n, total_s, inverse = node
    low_a = np.int64(1) << 40
    high_a = np.int64(-1)
    low_b = np.int64(1) << 40
    high_b = np.int64(-1)
    for i in range(m):
        s = samples[np.uint64(start + i)]
        r_a = np.int64(ranks[row_a, s])
        r_b = np.int64(ranks[row_b, s])
        rank_sample_a[r_a] = i
        rank_sample_b[r_b] = i
        bitmap_a[r_a >> 6] |= np.uint64(1) << np.uint64(r_a & 63)
        bitmap_b[r_b >> 6] |= np.uint64(1) << np.uint64(r_b & 63)
        low_a = min(low_a, r_a)
        high_a = max(high_a, r_a)
        low_b = min(low_b, r_b)
        high_b = max(high_b, r_b)
    list_ranks(bitmap_a, low_a >> 6, high_a >> 6, listed_a)
    list_ranks(bitmap_b, low_b >> 6, high_b >> 6, listed_b)
    best_a = -np.inf
    best_b = -np.inf
    rank_a = low_a
    rank_b = low_b
    left_n_a = 0
    left_s_a = 0.0
    left_n_b = 0
    left_s_b = 0.0
    for t in range(m - 1):
        r_a = np.int64(listed_a[t])
        r_b = np.int64(listed_b[t])
        i_a = rank_sample_a[r_a]
        i_b = rank_sample_b[r_b]
        left_n_a += node_n[i_a]
        left_s_a += node_s[i_a]
        left_n_b += node_n[i_b]
        left_s_b += node_s[i_b]
        proxy_a = split_proxy(left_n_a, left_s_a, total_n, total_s, inverse)
        proxy_b = split_proxy(left_n_b, left_s_b, total_n, total_s, inverse)
        if proxy_a > best_a:
            best_a = proxy_a
            rank_a = r_a
        if proxy_b > best_b:
            best_b = proxy_b
            rank_b = r_b
    return best_a, rank_a, best_b, rank_b



# How a node of at least SPARSE_NODE samples evaluates a listed regulator (see tuning).
ON_NODE = 0  # from the node's samples
ADDS_OFF_BASE = 1  # adding its samples off the base rank into per-rank accumulators
WALKS_LIST = 2  # walking those samples in rank order


@njit(inline="always")
def off_base_path(base_rank, sparse_offsets, row, m, n_levels):
    """How a node of m samples, at least SPARSE_NODE, evaluates `row` (see tuning): WALKS_LIST
    for many values (at most WALK_SAMPLES_PER_LEVEL listed samples per value) and a list at
    most WALK_RATIO × m long; ADDS_OFF_BASE for few values in a node of ADD_NODE samples or
    more that the list is no longer than; else ON_NODE."""
    if base_rank[row] < 0:
        return ON_NODE
    n_listed = sparse_offsets[row + 1] - sparse_offsets[row]
    if n_listed <= WALK_SAMPLES_PER_LEVEL * n_levels:
        return WALKS_LIST if n_listed <= WALK_RATIO * m else ON_NODE
    if m >= ADD_NODE and n_levels <= FEW_LEVELS_PER_SAMPLE * m and n_listed <= m:
        return ADDS_OFF_BASE
    return ON_NODE


@njit(inline="always")
def cut_proxy(left, r, r_next, shift, total_n, total_f, inverse):
    """best_split_along_list's proxy for the cut after rank r, `left` (a count and a
    fixed-point sum, see packing) on its left, r_next the rank that follows; in fixed-point
    units. A cut that leaves no sample on one side, or falls between samples of one rank, does
    not count: it is pushed to -1e300, below every real proxy (>= 0), without a branch."""
    left_n, left_f = unpack(left, shift)
    proxy = split_proxy(left_n, float(left_f), total_n, total_f, inverse)
    counts = np.int64(left_n != 0) & np.int64(left_n != total_n) & np.int64(r != r_next)
    return proxy - np.float64(1 - counts) * 1e300


@njit(inline="always")
def keep_better(proxy, r, best, best_rank):
    """The best proxy so far and its rank, for cuts visited from the top rank down: an equal
    proxy takes the place of the best, so the best is the first in rank order, as in a scan
    from the bottom up that keeps only better ones.

    Branch-free: whether a cut beats the best is as good as random, and LLVM made a branch
    of it written as a test (1.9x slower); the rank is blended with a mask.
    """
    better = np.int64(proxy >= best)
    return max(best, proxy), (r & -better) | (best_rank & (better - 1))


@njit(inline="always")
def keep_in_node(sparse_samples, first, last, in_node, kept, n_kept):
    """Appends the positions in [first:last) of the listed samples inside the node to kept,
    without a branch; returns how many are kept. For the samples below the base (rare);
    above it, block_in_node's masks cost no store per listed sample.
    """
    for k in range(first, last):
        kept[np.uint64(n_kept)] = k
        n_kept += np.int64(in_node[sparse_samples[np.uint64(k)]])
    return n_kept


@njit(inline="always")
def block_in_node(sparse_samples, low, end, in_node):
    """The listed samples inside the node in the nearest block of at most 64 positions below
    end that holds any, down to low: (the block's first position, its last, a mask with bit j
    set where the sample at last - j is in the node); the mask is 0 when none is left.

    Each listed sample costs two loads and no store (the positions kept in an array cost a
    store each, and a load each again in the walk). Bit 0 is the block's top, so the walk
    visits the samples from the top down as the mask's set bits from the lowest (one tzcnt,
    one blsr each).
    """
    mask = np.uint64(0)
    begin = end
    while mask == 0 and begin > low:
        end = begin
        begin = max(low, end - 64)
        # Shifted in from the bottom, four at a time: written as an OR of each bit at its
        # place, LLVM vectorised the loop into a byte-by-byte gather, 1.12x slower than
        # keeping the positions in an array.
        k = np.uint64(begin)
        while k + np.uint64(4) <= np.uint64(end):
            mask = (mask << np.uint64(4)) | np.uint64(
                (in_node[sparse_samples[k]] << np.uint8(3))
                | (in_node[sparse_samples[k + np.uint64(1)]] << np.uint8(2))
                | (in_node[sparse_samples[k + np.uint64(2)]] << np.uint8(1))
                | in_node[sparse_samples[k + np.uint64(3)]])
            k += np.uint64(4)
        while k < np.uint64(end):
            mask = (mask << np.uint64(1)) | np.uint64(in_node[sparse_samples[k]])
            k += np.uint64(1)
    return begin, end - 1, mask


@njit(inline="always")
def cuts_above_base_packed(sparse_samples, sparse_ranks, low, last, in_node, node_pw,
                           node_packed, total_n, total, shift, inverse):
    """best_split_along_list's cuts above the base, between the node's samples listed at
    positions [low:last), visited from the top rank down, what lies above a cut summed packed
    on its right (the node's packed sum is node_packed, its fixed-point target sum total, as
    a float). Returns (best proxy, its rank, the packed sum of the samples above the base);
    (-inf, -1, 0) where none of them is in the node.

    The cut after the node's last listed sample leaves nothing on the right: not visited. The
    others leave samples on both sides (each kept sample's count is at least one), so only a
    tie with the rank above keeps one from counting.
    """
    best = -np.inf
    best_rank = np.int64(-1)
    right = np.int64(0)
    r_above = np.int64(-1)
    # One call of block_in_node, not one for the first block and one in the loop: it is
    # inlined wherever it is called, and every copy costs compile time.
    begin = last
    first_block = True
    while True:
        begin, top, mask = block_in_node(sparse_samples, low, begin, in_node)
        if mask == 0:
            return best, best_rank, right
        if first_block:
            first_block = False
            k = np.uint64(top) - lowest_bit(mask)
            mask &= mask - np.uint64(1)
            right = node_pw[sparse_samples[k]]
            r_above = np.int64(sparse_ranks[k])
        while mask != 0:
            k = np.uint64(top) - lowest_bit(mask)
            mask &= mask - np.uint64(1)
            r = np.int64(sparse_ranks[k])
            left_n, left_f = unpack(node_packed - right, shift)
            proxy = split_proxy(left_n, float(left_f), total_n, total, inverse)
            proxy -= np.float64(r == r_above) * 1e300
            best, best_rank = keep_better(proxy, r, best, best_rank)
            right += node_pw[sparse_samples[k]]
            r_above = r


@njit(inline="always")
def cuts_above_base_in_floats(sparse_samples, sparse_ranks, low, last, in_node, weight,
                              fixed_float, total_n, total, shift, inverse):
    """cuts_above_base_packed, to the bit, with the count and the fixed-point sum on a cut's
    right added apart, the sum in a float (exact where shift <= EXACT_IN_FLOATS_SHIFT; the
    caller checks): what the cut leaves on its left is then two subtractions, where a packed
    sum took four shifts and a conversion, and total - left_f is right_f exactly, so the
    proxies are split_proxy's. weight and fixed_float are by sample.

    A cut between two samples of one rank is pushed to -1e300 by a select; subtracting
    1e300 × (tie) cost about a fifth of the loop. Measured on the 2-core Intel Xeon
    (docs/benchmarks.md): 0.65–0.7 of the packed walk's time per kept sample.
    """
    best = -np.inf
    best_rank = np.int64(-1)
    right_n = np.int64(0)
    right_f = 0.0
    r_above = np.int64(-1)
    begin = last
    first_block = True
    while True:
        begin, top, mask = block_in_node(sparse_samples, low, begin, in_node)
        if mask == 0:
            return best, best_rank, (right_n << shift) + np.int64(right_f)
        if first_block:
            first_block = False
            k = np.uint64(top) - lowest_bit(mask)
            mask &= mask - np.uint64(1)
            s = sparse_samples[k]
            right_n = np.int64(weight[s])
            right_f = fixed_float[s]
            r_above = np.int64(sparse_ranks[k])
        while mask != 0:
            k = np.uint64(top) - lowest_bit(mask)
            mask &= mask - np.uint64(1)
            r = np.int64(sparse_ranks[k])
            left_f = total - right_f
            proxy = (left_f * left_f * inverse[np.uint64(total_n - right_n)]
                     + right_f * right_f * inverse[np.uint64(right_n)])
            proxy = proxy if r != r_above else -1e300
            best, best_rank = keep_better(proxy, r, best, best_rank)
            s = sparse_samples[k]
            right_n += weight[s]
            right_f += fixed_float[s]
            r_above = r


@njit(inline="always")
def best_split_along_list(data, row, ws, node, total_f, shift, unit):
    """best_split from a regulator's samples off its base rank (sparse_samples/sparse_ranks
    [first:last], in rank order, n_below of them below the base), in fixed point.

    node_pw holds the node's bootstrap counts and fixed-point weighted targets packed, and
    in_node a 1, by sample, zero outside the node (total_f is the node's fixed-point sum).
    The cuts are visited as scan_every_rank does over accumulators, with the base rank's
    samples (what the listed ones leave of the node) in their place. Above the base, from the
    top rank down, the node's listed samples found 64 positions at a time as a mask
    (block_in_node), what lies above a cut summed on its right, so no pass sums the list
    first; exact integer sums, the first best in rank order. Each listed sample costs the same
    whatever its value: no accumulators to fill and scan rank by rank, and a node's part of
    the list is walked, not the whole. Below the base (values below the common one: rare),
    the node's positions are kept in `kept` (branch-free) and walked down from the base.
    Returns as best_split, the proxy in float (unit is a power of two: to the bit where sums
    are exact).

    weight and fixed_float hold each drawn sample's bootstrap count and fixed-point weighted
    target as a float: where those sums are exact in floats (EXACT_IN_FLOATS_SHIFT), the cuts
    above the base add them apart (cuts_above_base_in_floats), the same figures in fewer
    steps than unpacking a packed sum at every cut.
    """
    sparse_samples, sparse_ranks = data.sparse_samples, data.sparse_ranks
    first, last = data.sparse_offsets[row], data.sparse_offsets[row + 1]
    base = data.base_rank[row]
    node_pw, weight, fixed_float, in_node, kept = (ws.node_pw, ws.weight, ws.fixed_float,
                                                   ws.in_node, ws.kept)
    total_n, inverse = node.total_n, node.inverse
    n_below = min(data.sparse_below[row], last - first)
    node_packed = (np.int64(total_n) << shift) + total_f
    total = float(total_f)
    # Above the base, then the base rank's cut and those below it.
    if shift <= EXACT_IN_FLOATS_SHIFT:
        best, best_rank, right = cuts_above_base_in_floats(
            sparse_samples, sparse_ranks, first + n_below, last, in_node, weight, fixed_float,
            total_n, total, shift, inverse)
    else:
        best, best_rank, right = cuts_above_base_packed(
            sparse_samples, sparse_ranks, first + n_below, last, in_node, node_pw, node_packed,
            total_n, total, shift, inverse)
    # The base rank's cut, then those below it.
    best, best_rank = keep_better(
        cut_proxy(node_packed - right, base, np.int64(-1), shift, total_n, total, inverse),
        base, best, best_rank)
    n_kept_below = keep_in_node(sparse_samples, first, first + n_below, in_node, kept, 0)
    left = np.int64(0)
    for t in range(n_kept_below):
        left += node_pw[sparse_samples[kept[t]]]
    r_above = base
    for t in range(n_kept_below - 1, -1, -1):
        k = kept[t]
        r = np.int64(sparse_ranks[k])
        best, best_rank = keep_better(
            cut_proxy(left, r, r_above, shift, total_n, total, inverse), r, best, best_rank)
        left -= node_pw[sparse_samples[k]]
        r_above = r
    if best < 0.0:
        return Split(-np.inf, np.int64(-1), True)
    return Split(best * unit * unit, np.int64(best_rank), False)


@njit(inline="always")
def best_split_off_base(data, row, ws, node, n_levels):
    """best_split's few-values path, adding only the regulator's samples off its base rank
    (sparse_samples/sparse_ranks[first:last]), for a regulator with few values.

    node_w/node_wy hold the node's bootstrap counts and weighted targets by sample, zero
    outside the node, so a listed sample outside it adds nothing; the base rank's accumulators
    get what the node's totals leave. Returns as best_split does.
    """
    sparse_samples, sparse_ranks = data.sparse_samples, data.sparse_ranks
    first, last = data.sparse_offsets[row], data.sparse_offsets[row + 1]
    base = data.base_rank[row]
    node_w, node_wy = ws.node_w, ws.node_wy
    counts, sums, counts_b, sums_b = ws.counts, ws.sums, ws.counts_b, ws.sums_b
    total_n, total_s, inverse = node.total_n, node.total_s, node.inverse
    # Most listed samples share one rank (ones, in counts), so alternate samples go to two
    # sets of accumulators: with one, each update would wait on the one before.
    for k in range(first, last - 1, 2):
        u = np.uint64(k)
        s = sparse_samples[u]
        r = sparse_ranks[u]
        counts[r] += node_w[s]
        sums[r] += node_wy[s]
        s = sparse_samples[u + np.uint64(1)]
        r = sparse_ranks[u + np.uint64(1)]
        counts_b[r] += node_w[s]
        sums_b[r] += node_wy[s]
    if (last - first) & 1:
        s = sparse_samples[last - 1]
        r = sparse_ranks[last - 1]
        counts[r] += node_w[s]
        sums[r] += node_wy[s]
    off_n = 0
    off_s = 0.0
    for r in range(n_levels):
        u = np.uint32(r)
        counts[u] += counts_b[u]
        sums[u] += sums_b[u]
        counts_b[u] = 0
        sums_b[u] = 0.0
        off_n += counts[u]
        off_s += sums[u]
    counts[base] = total_n - off_n
    sums[base] = total_s - off_s
    best, best_rank = scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse)
    # The scan stops at the node's highest rank, which may lie below the base rank.
    counts[base] = 0
    sums[base] = 0.0
    return Split(best, np.int64(best_rank), best_rank < 0)


@njit(inline="always")
def best_split(ranks, row, ws, node, n_levels, continuous):
    """Best split of samples[start:start+m] on one regulator, scanning it in rank order.

    ws.node_n/ws.node_s hold the node's bootstrap counts and weighted targets; n_levels is how
    many distinct values the regulator has over all samples. Returns a Split (proxy gain
    sL²/nL + sR²/nR, the highest rank that goes left, is_constant). The per-rank accumulators
    (ws.counts, ws.sums, ws.bitmap) are left zeroed for the next call. `continuous`: see
    grower.grow_forest.
    """
    samples, node_n, node_s = ws.samples, ws.node_n, ws.node_s
    counts, sums, bitmap, rank_sample = ws.counts, ws.sums, ws.bitmap, ws.rank_sample
    listed, keys, unsorted = ws.listed, ws.keys, ws.unsorted
    start, m, total_n, total_s, inverse = node
    best = -np.inf
    distinct = n_levels == ranks.shape[1]
    if n_levels <= FEW_LEVELS_PER_SAMPLE * m and not (continuous and distinct):
        # Few values (counts): add into every rank's accumulators and scan all of them; no
        # need to track the node's range, and cheaper than sorting even a small node.
        for i in range(m):
            r = ranks[row, samples[np.uint64(start + i)]]
            counts[r] += node_n[i]
            sums[r] += node_s[i]
        best, best_rank = scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse)
        return Split(best, np.int64(best_rank), best_rank < 0)

    if m <= SMALL_NODE:
        # Sort (rank, position) packed in one integer by counting, for each key, the keys
        # below it: m² branch-free comparisons beat a mispredicted insertion sort at this size.
        for i in range(m):
            unsorted[i] = (np.int64(ranks[row, samples[np.uint64(start + i)]]) << 8) | i
        for i in range(m):
            key = unsorted[i]
            below = 0
            for j in range(m):
                below += unsorted[j] < key
            keys[np.uint64(below)] = key
        best, best_rank = scan_sorted_keys(keys, m, node_n, node_s, total_n, total_s, inverse)
        return Split(best, np.int64(best_rank), best_rank < 0)

    # No two samples share a rank (continuous data): note where each rank's sample sits
    # instead of adding into accumulators, and always list the ranks from the bitmap.
    low = np.int64(1) << 40
    high = np.int64(-1)
    left_n = 0
    left_s = 0.0
    if distinct:
        for i in range(m):
            r = np.int64(ranks[row, samples[np.uint64(start + i)]])
            rank_sample[r] = i
            bitmap[r >> 6] |= np.uint64(1) << np.uint64(r & 63)
            low = min(low, r)
            high = max(high, r)
        best_rank = low
    else:
        for i in range(m):
            r = ranks[row, samples[np.uint64(start + i)]]
            counts[r] += node_n[i]
            sums[r] += node_s[i]
            low = min(low, r)
            high = max(high, r)
        if low == high:
            counts[low] = 0
            sums[low] = 0.0
            return Split(best, np.int64(-1), True)
        best_rank = low
        if high - low <= DENSE_SPAN * m:
            # An empty rank repeats the previous split's gain, which never beats it.
            for r in range(low, high):
                left_n, left_s, best, best_rank = take_rank(
                    counts, sums, np.uint32(r), left_n, left_s, total_n, total_s, inverse, best,
                    best_rank)
            counts[high] = 0
            sums[high] = 0.0
            return Split(best, np.int64(best_rank), False)
        for i in range(m):
            r = np.int64(ranks[row, samples[np.uint64(start + i)]])
            bitmap[r >> 6] |= np.uint64(1) << np.uint64(r & 63)

    # List the node's ranks in order, then scan them. Continuous data lists exactly m ranks:
    # bounding its loop by m rather than by the listing's count measured 3% faster.
    n_listed = list_ranks(bitmap, low >> 6, high >> 6, listed)
    if distinct:
        for t in range(m - 1):
            r = np.int64(listed[t])
            i = rank_sample[r]
            left_n += node_n[i]
            left_s += node_s[i]
            proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
            if proxy > best:
                best = proxy
                best_rank = r
        return Split(best, np.int64(best_rank), False)
    for t in range(n_listed - 1):
        left_n, left_s, best, best_rank = take_rank(
            counts, sums, listed[t], left_n, left_s, total_n, total_s, inverse, best, best_rank)
    counts[high] = 0
    sums[high] = 0.0
    return Split(best, np.int64(best_rank), False)



@njit(inline="always")
def random_split(data, row, value_row, ws, node, state):
    """Extra-trees split: one uniform threshold between the node's min and max of a regulator
    (`row` of the ranks, `value_row` of the values).

    Returns (proxy gain, threshold, is_constant).
    """
    ranks, values, levels, level_offsets = data.ranks, data.values, data.levels, data.level_offsets
    few_levels = data.few_levels
    samples, node_s, node_values = ws.samples, ws.node_s, ws.node_values
    start, m, total_n, total_s, inverse = node
    low = np.inf
    high = -np.inf
    if few_levels:
        base = level_offsets[row]
        for i in range(m):
            v = levels[base + np.int64(ranks[row, samples[np.uint64(start + i)]])]
            node_values[i] = v
            low = min(low, v)
            high = max(high, v)
    else:
        for i in range(m):
            v = values[value_row, samples[np.uint64(start + i)]]
            node_values[i] = v
            low = min(low, v)
            high = max(high, v)
    if high <= low + FEATURE_THRESHOLD:
        return -np.inf, 0.0, True
    threshold = low + uniform(state) * (high - low)
    if threshold == high:
        threshold = low
    left_n = 0
    left_s = 0.0
    for i in range(m):
        # Extra-trees weights are all 1 (no bootstrap): counting keeps the loop branch-free.
        goes_left = node_values[i] <= threshold
        left_n += np.int64(goes_left)
        left_s += node_s[i] * goes_left
    proxy = split_proxy(left_n, left_s, total_n, total_s, inverse)
    return proxy, threshold, False


@njit(inline="always")
def level_rank(levels, level_offsets, row, threshold):
    """The highest rank of `row` whose value is at most `threshold`."""
    base = level_offsets[row]
    low = np.int64(0)
    high = level_offsets[row + 1] - base
    while high - low > 1:
        middle = (low + high) >> 1
        if levels[base + middle] <= threshold:
            low = middle
        else:
            high = middle
    return low
