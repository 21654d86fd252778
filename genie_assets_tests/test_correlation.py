"""Each edge's sign: Spearman's rho of regulator and target, against scipy's own."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from genie_assets.engine.correlation import spearman_rho


def test_rho_of_every_pair_is_scipys_spearman_with_ties_and_zeros():
    rng = np.random.default_rng(5)
    # Mostly zeros and few distinct values, as single-cell counts: ties everywhere.
    values = np.round(rng.lognormal(size=(60, 6)) * (rng.random((60, 6)) < 0.4), 1)
    values[:, 5] = -2.0 * values[:, 0] + rng.normal(scale=0.1, size=60)  # a repressed target
    frame = pd.DataFrame(values, columns=[f"g{i}" for i in range(6)])
    pairs = [("g0", "g5"), ("g1", "g2"), ("g3", "g4"), ("g0", "g1"), ("g2", "g5")]
    rho = spearman_rho(frame, [r for r, _ in pairs], [t for _, t in pairs])
    assert rho.dtype == np.float32
    for (regulator, target), found in zip(pairs, rho):
        expected = spearmanr(frame[regulator], frame[target]).statistic
        assert found == pytest.approx(expected, abs=1e-6), (regulator, target)
    assert rho[0] < -0.8, "a repressor's target falls as it rises"


def test_a_constant_gene_gives_rho_zero_and_no_pair_gives_an_empty_array():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "flat": [4.0, 4.0, 4.0]})
    assert spearman_rho(frame, ["a"], ["flat"]).tolist() == [0.0]
    assert spearman_rho(frame, [], []).shape == (0,)


def test_average_ranks_are_scipys_to_the_bit_on_ties_zeros_and_single_rows():
    from scipy.stats import rankdata

    from genie_assets.engine.correlation import average_ranks

    rng = np.random.default_rng(3)
    for shape in [(1000, 40), (7, 5), (1, 3), (60, 1)]:
        counts = rng.integers(0, 4, size=shape).astype(float)
        counts[:, 0] = 0.0  # a constant column: every rank the middle one
        for values in (counts, rng.random(shape), -counts):
            assert np.array_equal(average_ranks(values),
                                  rankdata(values, axis=0, method="average"))
