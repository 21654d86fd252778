"""Random streams: one xorshift64* stream per target, so a target's forest does not depend on
threads or on which other targets share its process."""

from __future__ import annotations

import numpy as np
from numba import njit

from genie_assets.engine.workspace import empty_apart


@njit(inline="always")
def xorshift(x):
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x


@njit(inline="always")
def unit_interval(x):
    """xorshift64* output of state x as a float in [0, 1)."""
    return np.float64((x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * (
        1.0 / 9007199254740992.0)


@njit(inline="always")
def draw_between(unit, low, high):
    value = low + np.int64(unit * (high - low))
    return value if value < high else high - 1


@njit(inline="always")
def uniform(state):
    state[0] = xorshift(state[0])
    return unit_interval(state[0])


@njit(inline="always")
def randint(state, low, high):
    """An integer in [low, high)."""
    return draw_between(uniform(state), low, high)


@njit(cache=True)
def seed_state(seed):
    # splitmix64 spreads nearby seeds over the whole state space.
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    state = empty_apart(1, np.uint64)
    state[0] = z if z != np.uint64(0) else np.uint64(1)
    return state
