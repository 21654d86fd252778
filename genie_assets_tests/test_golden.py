"""The fast engine's results are fixed for each method's RESULT_VERSIONS entry (see golden.py)."""

import numpy as np
import pytest

from genie_assets.engine import RESULT_VERSIONS, fast
from genie_assets_tests import golden


def test_the_golden_cases_cover_every_rank_storage_and_method():
    stored = set()
    for name in golden.cases():
        if golden.storage_of(name):
            stored.add(golden.storage_of(name))
    assert stored == {"uint8", "uint16", "int32"}
    rng = np.random.default_rng(15)
    assert fast.rank_regulators(rng.normal(size=(1, 70_000))).ranks.dtype == np.int32
    assert {golden.method_of(name) for name in golden.cases() if golden.storage_of(name)} \
        == set(RESULT_VERSIONS)


def test_the_recorded_hashes_are_for_these_result_versions():
    versions = golden.recorded()["result_versions"]
    assert versions == RESULT_VERSIONS, (
        f"RESULT_VERSIONS is {RESULT_VERSIONS} but the golden hashes are for {versions}: "
        "record them with `python -m genie_assets_tests.golden --record`")


@pytest.mark.parametrize("name", sorted(golden.cases()))
def test_the_engine_gives_the_recorded_result(name):
    recorded = golden.recorded()
    method = golden.method_of(name)
    if recorded["result_versions"].get(method) != RESULT_VERSIONS[method]:
        pytest.fail(f"RESULT_VERSIONS[{method!r}] was bumped: record the new golden hashes")
    assert golden.compute([name])[name] == recorded["hashes"][name], (
        f"the fast engine's result for {name!r} changed. If that is intended, bump "
        f"RESULT_VERSIONS[{method!r}] in genie_assets/engine/params.py (its stored shards "
        "become stale) and run `python -m genie_assets_tests.golden --record`")
