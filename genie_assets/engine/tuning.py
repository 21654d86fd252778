"""The fast engine's thresholds: which path a node or regulator takes. Each one was chosen by
measurement (docs/engine.md lists the figures); none changes a result except FEATURE_THRESHOLD
and EPSILON, which follow scikit-learn's splitters."""

import numpy as np

# Values closer than this are one value, as in scikit-learn's splitters.
FEATURE_THRESHOLD = 1e-7
# A node whose target variance is at most this is a leaf, as in scikit-learn.
EPSILON = np.finfo(np.float64).eps
# A regulator with at most this many distinct values per sample of a node is split by adding
# into all of its ranks' accumulators and scanning them all (count data, any node size).
FEW_LEVELS_PER_SAMPLE = 2
# Otherwise nodes with at most this many samples order them by counting comparisons (m²,
# branch-free); larger ones scatter into per-rank accumulators.
SMALL_NODE = 16
# Two many-valued regulators with base ranks (see SPARSE_SHARE) in a node of at most this many
# samples sort only their keys off the base rank, and scan the base rank's at once
# (splits.best_splits_of_two_around_base).
AROUND_BASE_NODE = 31
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
# Listing a bitmap writes this many of each word's bits unconditionally (see scans.list_ranks):
# a continuous node of the DREAM5 shape averages about 4.5 bits per word, so with fewer the
# loop for the rest ran, mispredicted, for nearly half the words.
LIST_AHEAD = 8
# A tree's working arrays are padded by this many elements (a 64-byte line at least) on each
# side. Threads growing trees side by side write their small arrays (the random state, count
# data's per-rank accumulators) on every step; two threads' arrays on one cache line slow one
# of them (false sharing).
APART = 64
# A regulator whose most common value holds at least this share of the samples (zeros, in
# single-cell data) also lists its other samples in rank order (memory: at most 0.3 × 3 bytes
# per value, less than its one-byte ranks). A node of at least SPARSE_NODE samples evaluates
# it from that list (splits.off_base_path):
# - with many values (at most WALK_SAMPLES_PER_LEVEL listed samples per value: normalised
#   single-cell data, ~230 values for ~250 listed samples at 2,000 cells) by walking the list
#   in rank order when it is at most WALK_RATIO × m long: no accumulators to fill and scan
#   rank by rank, and the list is read in order where the node's path reads a rank per
#   sample from a row out of cache; 0.28–0.63 µs per candidate against 0.66–1.9 µs, down to
#   m = 25 (docs/benchmarks.md);
# - with few (counts) by adding the list into per-rank accumulators, at ADD_NODE samples or
#   more when the list is no longer than the node: each listed sample costs about what a
#   node's sample does, and the ones outside the node add zero. Walking it instead measured
#   13–18 % slower at the single-cell-sparse shape (the accumulators are a handful).
SPARSE_SHARE = 0.7
SPARSE_NODE = 32
WALK_SAMPLES_PER_LEVEL = 4
WALK_RATIO = 8
ADD_NODE = 64
# A node of at least this many samples that walks lists draws two candidates at a time in
# the four-at-once grower: it rarely draws four count-like ones it can take together.
PAIRS_NODE = 64
# Count-like regulators (at most this many values, and at most one per two samples) are
# evaluated four at a time where four drawn together take the few-values path. Their
# accumulators sit QUAD_LEVELS × 8 = 1,024 bytes apart, not 4,096: a load waits on an earlier
# store to an address equal to it modulo 4,096 (4K aliasing).
QUAD_LEVELS = 128
