"""A tree-ensemble engine specialised for GENIE3, compiled with numba.

What it exploits that a generic forest library cannot:
- Only the importances are wanted, so no tree is stored: each node's impurity decrease is added
  to its regulator's importance as the tree grows, and the tree is forgotten.
- The regulator matrix is shared by every target and every tree, so each regulator's values are
  turned into dense ranks once per dataset, stored in the narrowest integer type that holds them
  (one byte for count data, which keeps a 5,000-gene single-cell matrix in cache). A node then
  orders its samples by a regulator with a counting pass over per-rank accumulators instead of
  sorting them, which is where a generic random forest spends most of its time.
- The weighted impurity decrease needs no sum of squares: for a split of a node with weight W
  and weighted target sum S into (wL, sL) and (wR, sR) it is sL²/wL + sR²/wR - S²/W, and as
  bootstrap weights are whole numbers, 1/w comes from a table.
- Samples stay in ascending order inside every node (the partition is stable), so reading a
  regulator's ranks for a node walks memory forwards.
- Continuous regulators (no two samples share a value) need no accumulators: each rank's
  sample is noted and read back while the node's ranks are listed in order. The listing
  writes a few bits of every bitmap word unconditionally (counted by popcount), as a
  mispredicted loop exit per word cost more than the rest of it.
- Which regulators a node draws does not depend on what their evaluations give, so a random
  forest draws two candidates at a time and evaluates them in one pass over the node: count
  data's accumulator updates, which wait on each other when most samples land on rank 0,
  and small nodes' branch-free sorts interleave two independent streams of work. Count data
  (most regulators of few values, see QUAD_LEVELS) draws four at a time: one pass loads four
  regulators' ranks at once (a 10 MB single-cell matrix is read from memory, not cache) and
  adds each sample's bootstrap count and weighted target, packed in one integer, into each
  regulator's accumulator, one read-modify-write instead of two.
- A rank matrix larger than a core's cache is prefetched two candidates ahead: the next draws
  are peeked from the random stream, and their ranks load while these are scanned.
- Single-cell data are mostly zeros. A regulator whose most common value holds most samples
  also lists its other samples, and a large node adds only those into the accumulators: the
  common value's are what the node's totals leave. On droplet-like data (~90% zeros) most of
  the time goes to large nodes, which this makes cost the regulator's non-zeros, not the node.

Node splitting follows scikit-learn's BestSplitter (RF) and RandomSplitter (ET): the same rule
for drawing K candidate regulators while skipping constant ones (the same distribution of
draws; where a drawn regulator is moved to differs, see the grower), the same stopping rules,
and importances as unnormalised weighted impurity decrease divided by the root weight. Random
numbers come from a per-target xorshift64* stream, so a target's result does not depend on
threads.

Indices into the hot arrays are unsigned where they can be (sample numbers, ranks, and
positions such as `start + i`, cast): numba guards every signed index against negative
wrap-around, which at this loop size is a tenth of the time. The tree grower is compiled
without numba's reference counting (`_nrt=False`; it allocates nothing). With it, every
inlined helper that takes arrays paid atomic increments and decrements per call, which cost
more than the split search itself at small nodes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import literally, njit
from numba.cpython.unsafe.numbers import trailing_zeros

from genie_assets.engine.intrinsics import popcount, prefetch, prefetch_item

# Values closer than this are one value, as in scikit-learn's splitters.
FEATURE_THRESHOLD = 1e-7
EPSILON = np.finfo(np.float64).eps
# A regulator with at most this many distinct values per sample of a node is split by adding
# into all of its ranks' accumulators and scanning them all (count data, any node size).
FEW_LEVELS_PER_SAMPLE = 2
# Otherwise nodes with at most this many samples order them by counting comparisons (m²,
# branch-free); larger ones scatter into per-rank accumulators.
SMALL_NODE = 16
# A node whose ranks span at most this many times its size scans every rank in the span;
# a sparser one first lists its ranks through a bitmap.
DENSE_SPAN = 2
# Extra-trees thresholds are drawn on values; with this many distinct values or fewer per
# regulator they are looked up from the ranks (cache-friendly), beyond it read from the matrix.
FEW_LEVELS = 256
# A rank matrix larger than this (a core's L2 cache, roughly) is prefetched one candidate ahead.
PREFETCH_BYTES = 1 << 20
# Nodes with at most this many samples prefetch each sample's rank; larger ones whole lines.
PREFETCH_EACH = 32
# Listing a bitmap writes this many of each word's bits unconditionally (see _list_ranks).
# A continuous node of the DREAM5 shape averages about 4.5 bits per word, so with 4 the loop
# for the rest ran, mispredicted, for nearly half the words (8: 1.02-1.10x there).
LIST_AHEAD = 8
# A tree's working arrays are padded by this many elements (a 64-byte line at least) on each
# side. Threads growing trees side by side write their small arrays (the random state, count
# data's per-rank accumulators) on every step; where the allocator put two threads' arrays on
# one cache line, one thread ran a quarter slower (false sharing).
APART = 64
# A regulator whose most common value holds at least this share of the samples (zeros, in
# single-cell counts) also lists its other samples (memory: at most 0.3 × 3 bytes per value,
# less than its one-byte ranks). A node of at least SPARSE_NODE samples evaluates it from that
# list when the list is no longer than the node (SPARSE_RATIO × m): each listed sample costs
# about what a node's sample does, and the ones outside the node add zero.
SPARSE_SHARE = 0.7
SPARSE_NODE = 64
SPARSE_RATIO = 1.0
# Count-like regulators (at most this many values, and at most one per two samples) are
# evaluated four at a time where four drawn together take the few-values path. Their
# accumulators sit QUAD_LEVELS × 8 = 1,024 bytes apart: a load waits on an earlier store to an
# address equal to it modulo 4,096 (4K aliasing), and four candidates 4,096 bytes apart
# measured 1.14× slower than 1,024.
QUAD_LEVELS = 128


class RankedRegulators(NamedTuple):
    """The regulator matrix prepared once per dataset for every target and tree."""

    values: np.ndarray  # a regulator's float64 values per row (no rows where not kept)
    ranks: np.ndarray  # regulators × samples, dense ranks in uint8 / uint16 / int32
    levels: np.ndarray  # each regulator's distinct values, concatenated (few-level data only)
    level_offsets: np.ndarray  # where each regulator's levels start in `levels`
    n_ranks: int  # the most distinct values of any regulator
    base_rank: np.ndarray  # each regulator's most common rank if it holds SPARSE_SHARE, else -1
    sparse_offsets: np.ndarray  # where each such regulator's other samples start below
    sparse_samples: np.ndarray  # the samples off the base rank, regulator by regulator
    sparse_ranks: np.ndarray  # and their ranks
    value_rows: np.ndarray  # each regulator's row in `values`


def rank_regulators(values: np.ndarray, rows=None, keep_values: bool = True
                    ) -> RankedRegulators:
    """Dense ranks per regulator (values closer than FEATURE_THRESHOLD share a rank).

    `values` holds a regulator per row, as any 2-D array or view; `rows` picks and orders the
    regulators (all, by default), so the transposed view of a samples × genes matrix is ranked
    without copying it. The values themselves are kept only with keep_values: extra-trees
    thresholds of many-valued regulators are read from them, while a random forest needs the
    ranks alone. They are kept as given where that is a C-ordered float64 array (the transpose
    of a Fortran-ordered matrix, as pandas hands out a frame of one dtype), else copied.
    """
    rows = np.arange(values.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    n_rows, n_cols = len(rows), values.shape[1]
    # Ranks are below n_cols: stored narrow from the start (narrowed again if they allow).
    ranks = np.empty((n_rows, n_cols),
                     dtype=np.uint8 if n_cols <= 256 else np.uint16 if n_cols <= 65536
                     else np.int32)
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    levels = []  # each regulator's values, while every regulator has at most FEW_LEVELS
    for k, row in enumerate(rows):
        row_values = np.asarray(values[row], dtype=np.float64)
        order = np.argsort(row_values, kind="stable")
        sorted_values = row_values[order]
        new_value = np.empty(n_cols, dtype=bool)
        new_value[:1] = True
        new_value[1:] = sorted_values[1:] > sorted_values[:-1] + FEATURE_THRESHOLD
        ranks[k, order] = np.cumsum(new_value) - 1
        n_levels = int(np.count_nonzero(new_value))
        if levels is not None and n_levels <= FEW_LEVELS:
            levels.append(sorted_values[new_value])
        else:
            levels = None
        offsets[k + 1] = offsets[k] + n_levels
    n_ranks = int(max(np.diff(offsets).max(initial=1), 1))
    dtype = np.uint8 if n_ranks <= 256 else np.uint16 if n_ranks <= 65536 else np.int32
    level_values = np.concatenate(levels) if levels else np.empty(0)
    ranks = ranks.astype(dtype, copy=False)
    if not keep_values:
        kept, value_rows = np.empty((0, n_cols)), np.arange(n_rows)
    elif (isinstance(values, np.ndarray) and values.dtype == np.float64
          and values.flags.c_contiguous):
        kept, value_rows = values, rows
    else:
        kept, value_rows = np.ascontiguousarray(values[rows], dtype=np.float64), np.arange(n_rows)
    return RankedRegulators(kept, ranks, level_values, offsets, n_ranks,
                            *_samples_off_base(ranks), value_rows.astype(np.int64))


def _samples_off_base(ranks: np.ndarray):
    """(base_rank, sparse_offsets, sparse_samples, sparse_ranks): for each regulator whose most
    common rank holds at least SPARSE_SHARE of the samples, that rank and its other samples in
    ascending order with their ranks; base rank -1 and no samples for the others."""
    n_rows, n_cols = ranks.shape
    base_rank = np.full(n_rows, -1, dtype=np.int64)
    sparse_offsets = np.zeros(n_rows + 1, dtype=np.int64)
    kept_samples, kept_ranks = [], []
    for row in range(n_rows):
        frequency = np.bincount(ranks[row], minlength=1)
        base = int(frequency.argmax())
        n_kept = 0
        if frequency[base] >= SPARSE_SHARE * n_cols:
            base_rank[row] = base
            others = np.flatnonzero(ranks[row] != base)
            kept_samples.append(others)
            kept_ranks.append(ranks[row, others])
            n_kept = len(others)
        sparse_offsets[row + 1] = sparse_offsets[row] + n_kept
    sample_type = np.uint16 if n_cols <= 1 << 16 else np.uint32
    sparse_samples = np.concatenate(kept_samples or [np.empty(0, np.int64)]).astype(sample_type)
    sparse_ranks = np.concatenate(kept_ranks or [np.empty(0, np.int64)]).astype(ranks.dtype)
    return base_rank, sparse_offsets, sparse_samples, sparse_ranks


@njit(inline="always")
def _xorshift(x):
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x


@njit(inline="always")
def _unit(x):
    """xorshift64* output of state x as a float in [0, 1)."""
    return np.float64((x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * (
        1.0 / 9007199254740992.0)


@njit(inline="always")
def _scale(unit, low, high):
    value = low + np.int64(unit * (high - low))
    return value if value < high else high - 1


@njit(inline="always")
def _uniform(state):
    state[0] = _xorshift(state[0])
    return _unit(state[0])


@njit(inline="always")
def _randint(state, low, high):
    """An integer in [low, high)."""
    return _scale(_uniform(state), low, high)


@njit(inline="always")
def _prefetch_node(ranks, row, samples, start, m):
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
def _prefetch_candidate(ranks, row, samples, start, m, sparse_node, off_base):
    """Start loading what evaluating `row` in this node reads: the ranks of its samples, or
    the regulator's list of samples off its base rank where the node evaluates it from that."""
    base_rank, sparse_offsets, sparse_samples, sparse_ranks, level_offsets = off_base
    if sparse_node and _adds_off_base(base_rank, sparse_offsets, row, m,
                                      level_offsets[row + 1] - level_offsets[row]):
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
        _prefetch_node(ranks, row, samples, start, m)


@njit(inline="always")
def _prefetch_next_draws(ranks, inputs, features, state, low, high, n_known_constants, samples,
                         start, m, sparse_node, off_base):
    """Start loading what the next two regulators to be drawn from positions [low, high) read.

    What is drawn next does not depend on what this node's evaluations give; a wrong guess
    (the first draw lands on a known constant, which shifts the second) only wastes the hint.
    """
    x = _xorshift(state[0])
    first = _scale(_unit(x), low, high)
    if first >= n_known_constants:
        _prefetch_candidate(ranks, inputs[features[first]], samples, start, m, sparse_node,
                            off_base)
    if high - 1 > low:
        second = _scale(_unit(_xorshift(x)), low, high - 1)
        if second >= n_known_constants:
            feature = features[high - 1] if second == first else features[second]
            _prefetch_candidate(ranks, inputs[feature], samples, start, m, sparse_node,
                                off_base)


@njit(inline="always")
def _prefetch_four_draws(ranks, inputs, features, state, low, high, n_known_constants,
                         samples, start, m, sparse_node, off_base):
    """_prefetch_next_draws for the next four draws (a draw landing where an earlier one
    moved a regulator is not guessed)."""
    x = state[0]
    for k in range(4):
        x = _xorshift(x)
        if high - k <= low:
            return
        j = _scale(_unit(x), low, high - k)
        if j >= n_known_constants:
            _prefetch_candidate(ranks, inputs[features[j]], samples, start, m, sparse_node,
                                off_base)


@njit(inline="always")
def _zeros_apart(n, dtype):
    """np.zeros(n, dtype) with no other allocation within a cache line of it."""
    return np.zeros(n + 2 * APART, dtype)[APART:APART + n]


@njit(inline="always")
def _empty_apart(n, dtype):
    return np.empty(n + 2 * APART, dtype)[APART:APART + n]


@njit(cache=True)
def _seed_state(seed):
    # splitmix64 spreads nearby seeds over the whole state space.
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    state = _empty_apart(1, np.uint64)
    state[0] = z if z != np.uint64(0) else np.uint64(1)
    return state


@njit(inline="always")
def _split_proxy(left_n, left_s, total_n, total_s, inverse):
    """sL²/nL + sR²/nR: what ranks splits of one node, as S²/W is the same for all of them."""
    right_s = total_s - left_s
    return (left_s * left_s * inverse[np.uint64(left_n)]
            + right_s * right_s * inverse[np.uint64(total_n - left_n)])


@njit(inline="always")
def _take_rank(counts, sums, r, left_n, left_s, total_n, total_s, inverse, best, best_rank):
    """One step of a scan over accumulated ranks: move rank r to the left, zero its
    accumulators, keep the split if it is the best so far. Returns the updated scan state."""
    left_n += counts[r]
    left_s += sums[r]
    counts[r] = 0
    sums[r] = 0.0
    proxy = _split_proxy(left_n, left_s, total_n, total_s, inverse)
    if proxy > best:
        return left_n, left_s, proxy, np.int64(r)
    return left_n, left_s, best, best_rank


@njit(inline="always")
def _scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse):
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
        proxy = _split_proxy(left_n, left_s, total_n, total_s, inverse)
        if left_n == 0:
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = r
    return best, best_rank


@njit(inline="always")
def _unpack(packed, shift):
    """(bootstrap count, fixed-point target sum) of a packed accumulator, whose sum sits,
    signed, in the low `shift` bits (see _fixed_point)."""
    low = np.int64(64) - shift
    fixed = (packed << low) >> low
    return (packed - fixed) >> shift, fixed


@njit(inline="always")
def _scan_packed(packed, n_levels, total_n, total_f, inverse, shift):
    """_scan_every_rank over packed accumulators; the proxy gain is in fixed-point units."""
    best = -np.inf
    best_rank = -1
    left = np.int64(0)
    total = float(total_f)
    for r in range(n_levels):
        u = np.uint32(r)
        left += packed[u]
        packed[u] = 0
        left_n, left_f = _unpack(left, shift)
        if left_n == total_n:
            break
        # Exact: both sums are integers below 2^52.
        proxy = _split_proxy(left_n, float(left_f), total_n, total, inverse)
        if left_n == 0:
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = r
    return best, best_rank


@njit(inline="always")
def _count_like(n_levels, n_samples):
    return n_levels <= QUAD_LEVELS and 2 * n_levels <= n_samples


@njit(inline="always")
def _best_splits_of_four(ranks, rows, samples, start, m, node_p, total_n, total_f, packed,
                         inverse, n_levels, shift, unit, proxies, best_ranks):
    """_best_split's few-values path for four count-like regulators in one pass over the node.

    Each sample adds its bootstrap count and weighted target, packed in one integer, into one
    accumulator per regulator (QUAD_LEVELS apart in `packed`): one read-modify-write instead
    of two, four independent ones per sample, and four regulators' ranks loading at once.
    Fills proxies and best_ranks as _best_split's first two results, in draw order.
    """
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
        best, best_rank = _scan_packed(packed[k * QUAD_LEVELS:], n_levels[k], total_n, total_f,
                                       inverse, shift)
        # unit is a power of two: the float proxy, to the bit where the sums are exact.
        proxies[k] = best * unit * unit
        best_ranks[k] = best_rank


@njit(inline="always")
def _best_splits_of_two(ranks, row_a, row_b, samples, start, m, node_n, node_s, total_n,
                        total_s, counts_a, sums_a, counts_b, sums_b, inverse, n_levels_a,
                        n_levels_b):
    """_best_split's few-values path for two regulators in one pass over the node.

    The two regulators' accumulator updates are independent, so the core overlaps them: with
    count data most samples land on rank 0, and one regulator's updates alone wait on each
    other. Returns both regulators' (proxy gain, highest rank that goes left), rank -1 when
    the regulator is constant in the node.
    """
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
    best_a, rank_a = _scan_every_rank(counts_a, sums_a, n_levels_a, total_n, total_s, inverse)
    best_b, rank_b = _scan_every_rank(counts_b, sums_b, n_levels_b, total_n, total_s, inverse)
    return best_a, rank_a, best_b, rank_b


@njit(inline="always")
def _scan_sorted_keys(keys, m, node_n, node_s, total_n, total_s, inverse):
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
        proxy = _split_proxy(left_n, left_s, total_n, total_s, inverse)
        if (keys[i + 1] >> 8) == (key >> 8):
            proxy = -np.inf
        if proxy > best:
            best = proxy
            best_rank = key >> 8
    return best, best_rank


@njit(inline="always")
def _best_splits_of_two_small(ranks, row_a, row_b, samples, start, m, node_n, node_s, total_n,
                              total_s, unsorted_a, unsorted_b, keys_a, keys_b, inverse):
    """_best_split's small-node path for two regulators, their sorts interleaved.

    The counting sorts have no branches to mispredict, so interleaving two gives the core
    twice the independent work between the scans' mispredicted branches. Returns both
    regulators' (proxy gain, highest rank that goes left), rank -1 when constant.
    """
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
    return _scan_sorted_keys_of_two(keys_a, keys_b, m, node_n, node_s, total_n, total_s,
                                    inverse)


@njit(inline="always")
def _scan_sorted_keys_of_two(keys_a, keys_b, m, node_n, node_s, total_n, total_s, inverse):
    """_scan_sorted_keys for two regulators' keys of one node in one loop: one mispredicted
    loop exit instead of two, and two independent chains of sums side by side. Where all of
    a regulator's ranks are equal every step is a tie, so its rank stays -1."""
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
        proxy_a = _split_proxy(left_n_a, left_s_a, total_n, total_s, inverse)
        proxy_b = _split_proxy(left_n_b, left_s_b, total_n, total_s, inverse)
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
def _best_splits_of_two_distinct(ranks, row_a, row_b, samples, start, m, node_n, node_s,
                                 total_n, total_s, rank_sample_a, rank_sample_b, bitmap_a,
                                 bitmap_b, listed_a, listed_b, inverse):
    """_best_split's path for continuous regulators (no two samples share a value) in nodes
    of more than SMALL_NODE samples, for two regulators: one pass over the node notes where
    both regulators' ranks sit, and one scan walks both orders (one loop exit, two independent
    chains of sums). Returns both regulators' (proxy gain, highest rank that goes left).
    """
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
    _list_ranks(bitmap_a, low_a >> 6, high_a >> 6, listed_a)
    _list_ranks(bitmap_b, low_b >> 6, high_b >> 6, listed_b)
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
        proxy_a = _split_proxy(left_n_a, left_s_a, total_n, total_s, inverse)
        proxy_b = _split_proxy(left_n_b, left_s_b, total_n, total_s, inverse)
        if proxy_a > best_a:
            best_a = proxy_a
            rank_a = r_a
        if proxy_b > best_b:
            best_b = proxy_b
            rank_b = r_b
    return best_a, rank_a, best_b, rank_b


@njit(inline="always")
def _adds_off_base(base_rank, sparse_offsets, row, m, n_levels):
    """Whether a node of m samples evaluates `row` from its samples off the base rank."""
    return (base_rank[row] >= 0 and n_levels <= FEW_LEVELS_PER_SAMPLE * m
            and sparse_offsets[row + 1] - sparse_offsets[row] <= SPARSE_RATIO * m)


@njit(inline="always")
def _best_split_off_base(sparse_samples, sparse_ranks, first, last, base, node_w, node_wy,
                         counts, sums, counts_b, sums_b, total_n, total_s, inverse, n_levels):
    """_best_split's few-values path, adding only the regulator's samples off its base rank
    (sparse_samples/sparse_ranks[first:last]).

    node_w/node_wy hold the node's bootstrap counts and weighted targets by sample, zero
    outside the node, so a listed sample outside it adds nothing; the base rank's accumulators
    get what the node's totals leave. Returns as _best_split does.
    """
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
    best, best_rank = _scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse)
    # The scan stops at the node's highest rank, which may lie below the base rank.
    counts[base] = 0
    sums[base] = 0.0
    return best, best_rank, best_rank < 0


@njit(inline="always")
def _best_split(ranks, row, samples, start, m, node_n, node_s, total_n, total_s,
                counts, sums, bitmap, rank_sample, listed, keys, unsorted, inverse, n_levels,
                continuous):
    """Best split of samples[start:start+m] on one regulator, scanning it in rank order.

    node_n/node_s hold the node's bootstrap counts and weighted targets; n_levels is how many
    distinct values the regulator has over all samples. Returns (proxy gain sL²/nL + sR²/nR,
    the highest rank that goes left, is_constant). The per-rank accumulators (counts, sums,
    bitmap) are left zeroed for the next call. `continuous`: see _grow_forest.
    """
    best = -np.inf
    distinct = n_levels == ranks.shape[1]
    if n_levels <= FEW_LEVELS_PER_SAMPLE * m and not (continuous and distinct):
        # Few values (counts): add into every rank's accumulators and scan all of them; no
        # need to track the node's range, and cheaper than sorting even a small node.
        for i in range(m):
            r = ranks[row, samples[np.uint64(start + i)]]
            counts[r] += node_n[i]
            sums[r] += node_s[i]
        best, best_rank = _scan_every_rank(counts, sums, n_levels, total_n, total_s, inverse)
        return best, best_rank, best_rank < 0

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
        best, best_rank = _scan_sorted_keys(keys, m, node_n, node_s, total_n, total_s, inverse)
        return best, best_rank, best_rank < 0

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
            return best, -1, True
        best_rank = low
        if high - low <= DENSE_SPAN * m:
            # An empty rank repeats the previous split's gain, which never beats it.
            for r in range(low, high):
                left_n, left_s, best, best_rank = _take_rank(
                    counts, sums, np.uint32(r), left_n, left_s, total_n, total_s, inverse, best,
                    best_rank)
            counts[high] = 0
            sums[high] = 0.0
            return best, best_rank, False
        for i in range(m):
            r = np.int64(ranks[row, samples[np.uint64(start + i)]])
            bitmap[r >> 6] |= np.uint64(1) << np.uint64(r & 63)

    # List the node's ranks in order, then scan them. Continuous data lists exactly m ranks:
    # bounding its loop by m rather than by the listing's count measured 3% faster.
    n_listed = _list_ranks(bitmap, low >> 6, high >> 6, listed)
    if distinct:
        for t in range(m - 1):
            r = np.int64(listed[t])
            i = rank_sample[r]
            left_n += node_n[i]
            left_s += node_s[i]
            proxy = _split_proxy(left_n, left_s, total_n, total_s, inverse)
            if proxy > best:
                best = proxy
                best_rank = r
        return best, best_rank, False
    for t in range(n_listed - 1):
        left_n, left_s, best, best_rank = _take_rank(
            counts, sums, listed[t], left_n, left_s, total_n, total_s, inverse, best, best_rank)
    counts[high] = 0
    sums[high] = 0.0
    return best, best_rank, False


@njit(inline="always")
def _list_ranks(bitmap, first_word, last_word, listed):
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


@njit(inline="always")
def _random_split(ranks, values, levels, level_offsets, few_levels, row, value_row, samples,
                  start, m, node_s, total_n, total_s, node_values, inverse, state):
    """Extra-trees split: one uniform threshold between the node's min and max of a regulator
    (`row` of the ranks, `value_row` of the values).

    Returns (proxy gain, threshold, is_constant).
    """
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
    threshold = low + _uniform(state) * (high - low)
    if threshold == high:
        threshold = low
    left_n = 0
    left_s = 0.0
    for i in range(m):
        # Extra-trees weights are all 1 (no bootstrap): counting keeps the loop branch-free.
        goes_left = node_values[i] <= threshold
        left_n += np.int64(goes_left)
        left_s += node_s[i] * goes_left
    proxy = _split_proxy(left_n, left_s, total_n, total_s, inverse)
    return proxy, threshold, False


@njit(inline="always")
def _level_rank(levels, level_offsets, row, threshold):
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


@njit(inline="always")
def _partition_by_rank(ranks, row, cut, samples, start, end, spill):
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
def _partition_by_value(values, row, threshold, samples, start, end, spill):
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


@njit(cache=True)
def _fixed_point(y):
    """(shift, scale) for packing bootstrap counts and weighted target sums in one integer.

    A packed accumulator is count << shift plus the sum of round(y * scale) * weight. The
    count field holds any total weight (at most n samples); scale, a power of two, is the
    largest that keeps every sum below 2^(shift - 2) in magnitude, so a sum never reaches into
    the count, and is exact in a float. A target is resolved to 2^-(61 - 2 log2 n) of its
    largest value (about 1e-12 at 2,000 samples).
    """
    n_samples = y.shape[0]
    count_bits = np.int64(1)
    while (np.int64(1) << count_bits) <= n_samples:
        count_bits += 1
    shift = np.int64(63) - count_bits
    largest = np.max(np.abs(y)) if n_samples else 0.0
    if not largest > 0.0:
        return shift, 1.0
    exponent = np.floor(np.log2(2.0 ** (shift - 2) / (n_samples * largest)))
    # Within what a float's exponent holds, 1 / scale included (targets are unit-variance).
    return shift, 2.0 ** min(max(exponent, -960.0), 960.0)


@njit(nogil=True, cache=True)
def forest_importances(values, ranks, levels, level_offsets, n_ranks, base_rank, sparse_offsets,
                       sparse_samples, sparse_ranks, value_rows, inputs, y, n_trees,
                       n_candidates, extra_trees, seed, four_at_once=True,
                       continuous_pairs=True):
    """Importances of the regulators `inputs` (rows of the ranked matrix) for one target `y`.

    Takes the fields of a RankedRegulators. Returns an array aligned with `inputs`: impurity
    decrease of each regulator, summed over its splits, divided by the root weight, averaged
    over n_trees trees (scikit-learn's compute_feature_importances(normalize=False)).
    four_at_once=False evaluates count-like regulators two at a time, in floating point (for
    tests: where every sum is exact, both give the very same forest). continuous_pairs=False
    grows continuous data's forests with the general code (for tests: the very same forest).
    """
    n_samples = y.shape[0]
    n_inputs = inputs.shape[0]
    importance = np.zeros(n_inputs, dtype=np.float64)
    inverse = _zeros_apart(n_samples + 1, np.float64)
    for k in range(1, n_samples + 1):
        inverse[k] = 1.0 / k
    few_levels = n_ranks <= FEW_LEVELS and levels.shape[0] > 0
    if extra_trees and not few_levels and values.shape[0] == 0:
        raise ValueError("extra-trees on many-valued regulators needs their values: "
                         "rank them with keep_values=True")
    prefetching = ranks.size * ranks.itemsize > PREFETCH_BYTES
    off_base = (base_rank, sparse_offsets, sparse_samples, sparse_ranks, level_offsets)
    n_count_like = 0
    n_listed = 0
    n_distinct = 0
    for f in range(n_inputs):
        n_count_like += _count_like(level_offsets[inputs[f] + 1] - level_offsets[inputs[f]],
                                    n_samples)
        n_listed += base_rank[inputs[f]] >= 0
        n_distinct += level_offsets[inputs[f] + 1] - level_offsets[inputs[f]] == ranks.shape[1]
    shift, scale = _fixed_point(y)
    fixed_y = _empty_apart(n_samples, np.int64)
    for s in range(n_samples):
        fixed_y[s] = np.int64(np.round(y[s] * scale))
    packing = (shift, 1.0 / scale, fixed_y)
    # The grower is compiled three times: four at once for count data, two at once with the
    # continuous regulators' own paired path for continuous data (a random forest where most
    # regulators are continuous), and two at once for the rest. Each measured 3-5% slower on
    # the others' data with its code present. The rest includes data where most regulators
    # are evaluated from their lists in large nodes (droplet single-cell data).
    any_off_base = sparse_samples.shape[0] > 0
    arrays = _working_arrays(n_samples, n_inputs, n_ranks)
    valued = (values, value_rows)
    if (four_at_once and not extra_trees and 2 * n_count_like > n_inputs
            and 2 * n_listed < n_inputs):
        _grow_forest(valued, ranks, levels, level_offsets, off_base, inputs, y, n_trees,
                     n_candidates, extra_trees, few_levels, prefetching, any_off_base, 4, False,
                     packing, _seed_state(seed), inverse, importance, arrays)
    elif continuous_pairs and not extra_trees and 2 * n_distinct > n_inputs:
        _grow_forest(valued, ranks, levels, level_offsets, off_base, inputs, y, n_trees,
                     n_candidates, extra_trees, few_levels, prefetching, any_off_base, 2, True,
                     packing, _seed_state(seed), inverse, importance, arrays)
    else:
        _grow_forest(valued, ranks, levels, level_offsets, off_base, inputs, y, n_trees,
                     n_candidates, extra_trees, few_levels, prefetching, any_off_base, 2, False,
                     packing, _seed_state(seed), inverse, importance, arrays)
    return importance


@njit(inline="always")
def _working_arrays(n_samples, n_inputs, n_ranks):
    return (
        _zeros_apart(n_inputs, np.float64),  # tree_importance
        _zeros_apart(n_samples, np.int64),  # weight
        _zeros_apart(n_samples, np.float64),  # weighted_y
        _empty_apart(n_samples, np.uint32),  # samples
        _empty_apart(n_samples, np.uint32),  # spill
        _empty_apart(n_inputs, np.int64),  # features
        _empty_apart(n_inputs, np.int64),  # constant_features
        _zeros_apart(n_inputs, np.bool_),  # found_constant: in the node being split
        _zeros_apart(n_ranks, np.int64),  # counts
        _zeros_apart(n_ranks, np.float64),  # sums
        _zeros_apart(n_ranks, np.int64),  # counts_b: a second candidate's, evaluated alongside
        _zeros_apart(n_ranks, np.float64),  # sums_b
        _empty_apart(n_ranks, np.uint32),  # rank_sample: where each rank's sample sits in a node
        _empty_apart(n_ranks, np.uint32),  # rank_sample_b: a second candidate's
        _zeros_apart((n_ranks + 63) // 64, np.uint64),  # bitmap_b
        _empty_apart(n_ranks + LIST_AHEAD, np.uint32),  # listed_b
        _zeros_apart((n_ranks + 63) // 64, np.uint64),  # bitmap
        _empty_apart(n_ranks + LIST_AHEAD, np.uint32),  # listed: a node's ranks in order
        _empty_apart(SMALL_NODE + 1, np.int64),  # keys
        _empty_apart(SMALL_NODE + 1, np.int64),  # keys_b: a second candidate's
        _empty_apart(SMALL_NODE + 1, np.int64),  # unsorted
        _empty_apart(SMALL_NODE + 1, np.int64),  # unsorted_b
        _empty_apart(n_samples, np.int64),  # node_n
        _empty_apart(n_samples, np.float64),  # node_s
        _empty_apart(n_samples, np.float64),  # node_values
        _zeros_apart(n_samples, np.int64),  # node_w: node_n by sample, zero outside the node
        _zeros_apart(n_samples, np.float64),  # node_wy: node_s by sample
        _empty_apart(3 * (n_samples + 2), np.int64).reshape((n_samples + 2, 3)),  # stack
        _zeros_apart(n_samples, np.int64),  # weighted_fixed: weight × fixed-point target
        _empty_apart(n_samples, np.int64),  # node_p: node_n and node_s packed
        _zeros_apart(4 * QUAD_LEVELS, np.int64),  # packed: four candidates' accumulators
        _empty_apart(4, np.int64),  # quad_features: the four, in draw order
        _empty_apart(4, np.int64),  # quad_rows
        _empty_apart(4, np.int64),  # quad_levels
        _empty_apart(4, np.float64),  # quad_proxies
        _empty_apart(4, np.int64),  # quad_ranks
    )


@njit(nogil=True, cache=True, _nrt=False)
def _grow_forest(valued, ranks, levels, level_offsets, off_base, inputs, y, n_trees,
                 n_candidates, extra_trees, few_levels, prefetching, any_off_base, group,
                 continuous, packing, state, inverse, importance, arrays):
    # group (2, or 4 to evaluate count-like regulators four at a time) and continuous are
    # compile-time constants: the code for four is not there when group is 2. Where continuous
    # is set, two continuous regulators drawn together take one pass over the node and one
    # scan (_best_splits_of_two_distinct) when the node has more than SMALL_NODE samples, and
    # never the few-values path: a node of half the samples or more would scan every rank of
    # the data there, and the listing scans only the node's.
    literally(group)
    literally(continuous)
    (tree_importance, weight, weighted_y, samples, spill, features, constant_features,
     found_constant, counts, sums, counts_b, sums_b, rank_sample, rank_sample_b, bitmap_b,
     listed_b, bitmap, listed, keys, keys_b, unsorted, unsorted_b, node_n, node_s, node_values,
     node_w, node_wy, stack, weighted_fixed, node_p, packed, quad_features, quad_rows,
     quad_levels, quad_proxies, quad_ranks) = arrays
    shift, unit, fixed_y = packing
    values, value_rows = valued
    n_samples = y.shape[0]
    n_inputs = inputs.shape[0]
    n_columns = ranks.shape[1]
    base_rank, sparse_offsets, sparse_samples, sparse_ranks, _ = off_base
    for _tree in range(n_trees):
        # Bootstrap (RF) as integer weights on the distinct drawn samples; ET uses all samples.
        if extra_trees:
            for s in range(n_samples):
                weight[s] = 1
        else:
            for _ in range(n_samples):
                weight[_randint(state, 0, n_samples)] += 1
        n_node = 0
        for s in range(n_samples):
            if weight[s] > 0:
                samples[n_node] = s
                weighted_y[s] = weight[s] * y[s]
                if group == 4:
                    weighted_fixed[s] = weight[s] * fixed_y[s]
                n_node += 1
        for f in range(n_inputs):
            features[f] = f
            constant_features[f] = f
            tree_importance[f] = 0.0
        root_weight = 0.0

        # Depth-first stack of (start, end, known constant features).
        stack[0, 0] = 0
        stack[0, 1] = n_node
        stack[0, 2] = 0
        top = 1
        while top > 0:
            top -= 1
            start = stack[top, 0]
            end = stack[top, 1]
            n_known_constants = stack[top, 2]
            m = end - start
            total_n = 0
            total_s = 0.0
            total_q = 0.0
            for i in range(m):
                s = samples[np.uint64(start + i)]
                node_n[i] = weight[s]
                node_s[i] = weighted_y[s]
                total_n += weight[s]
                total_s += weighted_y[s]
                total_q += weighted_y[s] * y[s]
            total_w = float(total_n)
            if start == 0 and end == n_node:
                root_weight = total_w
            if m < 2:
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
                    if ranks[row, s0] != ranks[row, s1]:
                        tree_importance[current] += (
                            weighted_y[s0] * weighted_y[s0] / weight[s0]
                            + weighted_y[s1] * weighted_y[s1] / weight[s1]
                            - total_s * total_s / total_w)
                        break
                    features[f_j] = features[low]
                    features[low] = current
                    low += 1
                continue

            sparse_node = any_off_base and not extra_trees and m >= SPARSE_NODE
            if sparse_node:
                for i in range(m):
                    s = samples[np.uint64(start + i)]
                    node_w[s] = node_n[i]
                    node_wy[s] = node_s[i]

            # scikit-learn's rule for drawing K candidates: regulators are drawn without
            # replacement, known constants are skipped but count as visited, and drawing goes
            # on past K while every regulator drawn so far was constant. Unlike scikit-learn,
            # a drawn regulator moves to the end whether or not it proves constant, so what is
            # drawn does not depend on what the evaluations give, and a random forest draws a
            # second candidate ahead when it is sure to be visited and evaluates both together.
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
            total_f = np.int64(0)
            feature_c = -1
            feature_d = -1
            while True:
                n_drawn = 0
                feature_a = -1
                feature_b = -1
                if group == 4 and n_waiting > 0:
                    feature_a = feature_c
                    feature_b = feature_d
                    n_drawn = n_waiting
                    n_waiting = 0
                else:
                    # The random state stays in a register while drawing (in memory, each
                    # draw waited on the last one's store), and positions index unsigned:
                    # together 1.02-1.05x at every shape.
                    x = state[0]
                    while f_i > n_known_constants:
                        if n_drawn == 0:
                            if (n_visited >= n_candidates
                                    and n_visited > n_found_constants + n_drawn_constants):
                                break
                        elif extra_trees or n_visited >= n_candidates:
                            break
                        n_visited += 1
                        x = _xorshift(x)
                        f_j = _scale(_unit(x), n_drawn_constants, f_i)
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
                        # A node that evaluates regulators from their lists rarely draws
                        # four count-like ones it can take together: it draws two.
                        if n_drawn == group or (sparse_node and n_drawn == 2):
                            break
                    state[0] = x
                if n_drawn == 0:
                    break

                if group == 4 and n_drawn > 2:
                    quad_features[0] = feature_a
                    quad_features[1] = feature_b
                    quad_features[2] = feature_c
                    quad_features[3] = feature_d
                    n_count_like = 0
                    for k in range(n_drawn):
                        row = inputs[quad_features[k]]
                        n_levels = level_offsets[row + 1] - level_offsets[row]
                        quad_rows[k] = row
                        quad_levels[k] = n_levels
                        n_count_like += (
                            _count_like(n_levels, n_samples)
                            and n_levels <= FEW_LEVELS_PER_SAMPLE * m
                            and not (sparse_node and _adds_off_base(
                                base_rank, sparse_offsets, row, m, n_levels)))
                    if n_count_like == 4:
                        if not node_packed:
                            node_packed = True
                            for i in range(m):
                                s = samples[np.uint64(start + i)]
                                node_p[i] = (weight[s] << shift) + weighted_fixed[s]
                                total_f += weighted_fixed[s]
                        if prefetching:
                            _prefetch_four_draws(ranks, inputs, features, state,
                                                 n_drawn_constants, f_i, n_known_constants,
                                                 samples, start, m, sparse_node, off_base)
                        _best_splits_of_four(ranks, quad_rows, samples, start, m, node_p,
                                             total_n, total_f, packed, inverse, quad_levels,
                                             shift, unit, quad_proxies, quad_ranks)
                        for k in range(4):
                            if quad_ranks[k] < 0:
                                found_constant[quad_features[k]] = True
                                n_found_constants += 1
                            elif quad_proxies[k] > best_proxy:
                                best_proxy = quad_proxies[k]
                                best_feature = quad_features[k]
                                best_rank = quad_ranks[k]
                                best_threshold = 0.0
                        continue
                    # The two waiting are evaluated next: load theirs while these are.
                    if prefetching:
                        for k in range(2, n_drawn):
                            _prefetch_candidate(ranks, quad_rows[k], samples, start, m,
                                                sparse_node, off_base)
                    n_waiting = n_drawn - 2
                    n_drawn = 2

                row_a = inputs[feature_a]
                threshold_a = 0.0
                proxy_b = -np.inf
                rank_b = -1
                if extra_trees:
                    proxy_a, threshold_a, constant_a = _random_split(
                        ranks, values, levels, level_offsets, few_levels, row_a,
                        value_rows[row_a], samples, start, m, node_s, total_n, total_s,
                        node_values, inverse, state)
                    rank_a = -1
                    constant_b = True
                else:
                    if prefetching:
                        _prefetch_next_draws(ranks, inputs, features, state, n_drawn_constants,
                                             f_i, n_known_constants, samples, start, m,
                                             sparse_node, off_base)
                    n_levels_a = level_offsets[row_a + 1] - level_offsets[row_a]
                    row_b = inputs[feature_b] if n_drawn == 2 else row_a
                    n_levels_b = level_offsets[row_b + 1] - level_offsets[row_b]
                    off_base_a = sparse_node and _adds_off_base(
                        base_rank, sparse_offsets, row_a, m, n_levels_a)
                    off_base_b = sparse_node and n_drawn == 2 and _adds_off_base(
                        base_rank, sparse_offsets, row_b, m, n_levels_b)
                    distinct_a = continuous and n_levels_a == n_columns
                    distinct_b = continuous and n_levels_b == n_columns
                    if (n_drawn == 2 and n_levels_a <= FEW_LEVELS_PER_SAMPLE * m
                            and n_levels_b <= FEW_LEVELS_PER_SAMPLE * m
                            and not distinct_a and not distinct_b
                            and not off_base_a and not off_base_b):
                        proxy_a, rank_a, proxy_b, rank_b = _best_splits_of_two(
                            ranks, row_a, row_b, samples, start, m, node_n, node_s, total_n,
                            total_s, counts, sums, counts_b, sums_b, inverse, n_levels_a,
                            n_levels_b)
                        constant_a = rank_a < 0
                        constant_b = rank_b < 0
                    elif (n_drawn == 2 and m <= SMALL_NODE
                            and n_levels_a > FEW_LEVELS_PER_SAMPLE * m
                            and n_levels_b > FEW_LEVELS_PER_SAMPLE * m):
                        proxy_a, rank_a, proxy_b, rank_b = _best_splits_of_two_small(
                            ranks, row_a, row_b, samples, start, m, node_n, node_s, total_n,
                            total_s, unsorted, unsorted_b, keys, keys_b, inverse)
                        constant_a = rank_a < 0
                        constant_b = rank_b < 0
                    elif n_drawn == 2 and distinct_a and distinct_b:
                        # More than SMALL_NODE distinct values: neither can be constant.
                        proxy_a, rank_a, proxy_b, rank_b = _best_splits_of_two_distinct(
                            ranks, row_a, row_b, samples, start, m, node_n, node_s, total_n,
                            total_s, rank_sample, rank_sample_b, bitmap, bitmap_b, listed,
                            listed_b, inverse)
                        constant_a = False
                        constant_b = False
                    else:
                        proxy_a = -np.inf
                        rank_a = -1
                        constant_a = True
                        constant_b = True
                        for k in range(n_drawn):
                            row = row_a if k == 0 else row_b
                            n_levels = n_levels_a if k == 0 else n_levels_b
                            if off_base_a if k == 0 else off_base_b:
                                proxy, rank, constant = _best_split_off_base(
                                    sparse_samples, sparse_ranks, sparse_offsets[row],
                                    sparse_offsets[row + 1], base_rank[row], node_w, node_wy,
                                    counts, sums, counts_b, sums_b, total_n, total_s, inverse,
                                    n_levels)
                            else:
                                proxy, rank, constant = _best_split(
                                    ranks, row, samples, start, m, node_n, node_s, total_n,
                                    total_s, counts, sums, bitmap, rank_sample, listed, keys,
                                    unsorted, inverse, n_levels, continuous)
                            if k == 0:
                                proxy_a, rank_a, constant_a = proxy, rank, constant
                            else:
                                proxy_b, rank_b, constant_b = proxy, rank, constant

                # In draw order, as drawing one at a time would: a, then b moved into a.
                for _ in range(n_drawn):
                    if constant_a:
                        found_constant[feature_a] = True
                        n_found_constants += 1
                    elif proxy_a > best_proxy:
                        best_proxy = proxy_a
                        best_feature = feature_a
                        best_rank = rank_a
                        best_threshold = threshold_a
                    feature_a, proxy_a, rank_a, constant_a = feature_b, proxy_b, rank_b, constant_b

            if sparse_node:
                for i in range(m):
                    s = samples[np.uint64(start + i)]
                    node_w[s] = 0
                    node_wy[s] = 0.0

            # Restore the known constants' order for siblings and children (scikit-learn's
            # invariant), and move the ones found here in after them.
            for i in range(n_known_constants):
                features[i] = constant_features[i]
            n_total_constants = n_known_constants
            for i in range(f_i, n_inputs):
                current = features[i]
                if found_constant[current]:
                    found_constant[current] = False
                    features[i] = features[n_total_constants]
                    features[n_total_constants] = current
                    constant_features[n_total_constants] = current
                    n_total_constants += 1

            if best_feature < 0:
                continue
            row = inputs[best_feature]
            if extra_trees and not few_levels:
                middle = _partition_by_value(values, value_rows[row], best_threshold, samples,
                                             start, end, spill)
            else:
                if extra_trees:
                    best_rank = _level_rank(levels, level_offsets, row, best_threshold)
                middle = _partition_by_rank(ranks, row, best_rank, samples, start, end, spill)
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
            weight[s] = 0
            weighted_y[s] = 0.0

    for f in range(n_inputs):
        importance[f] /= n_trees
