"""Fixed-point packing: a bootstrap count and a weighted target sum in one 64-bit integer, so
that four count-like regulators' accumulators take one read-modify-write per sample each."""

from __future__ import annotations

import numpy as np
from numba import njit

# A shift at most this keeps every sum below 2^53 in magnitude (see fixed_point): the
# fixed-point sums are then integers a float holds exactly, and adding them as floats gives
# the integer sums' values to the bit. Below 128 samples the shift is larger.
EXACT_IN_FLOATS_SHIFT = 55


@njit(inline="always")
def unpack(packed, shift):
    """(bootstrap count, fixed-point target sum) of a packed accumulator, whose sum sits,
    signed, in the low `shift` bits (see fixed_point)."""
    low = np.int64(64) - shift
    fixed = (packed << low) >> low
    return (packed - fixed) >> shift, fixed


@njit(cache=True)
def fixed_point(y):
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
