"""The fast engine's results are fixed for a given ENGINE_CODE_VERSION (see golden.py)."""

import numpy as np
import pytest

from genie_assets.engine import ENGINE_CODE_VERSION, fast
from genie_assets_tests import golden


def test_the_golden_cases_cover_every_rank_storage_and_method():
    stored = set()
    for name in golden.cases():
        if golden.storage_of(name):
            stored.add(golden.storage_of(name))
    assert stored == {"uint8", "uint16", "int32"}
    rng = np.random.default_rng(15)
    assert fast.rank_regulators(rng.normal(size=(1, 70_000))).ranks.dtype == np.int32
    assert {name.rsplit("-", 1)[1] for name in golden.cases() if golden.storage_of(name)} \
        == {"RF", "ET"}


def test_the_recorded_hashes_are_for_this_engine_version():
    version = golden.recorded()["engine_code_version"]
    assert version == ENGINE_CODE_VERSION, (
        f"ENGINE_CODE_VERSION is {ENGINE_CODE_VERSION!r} but the golden hashes are for "
        f"{version!r}: record them with `python -m genie_assets_tests.golden --record`")


@pytest.mark.parametrize("name", sorted(golden.cases()))
def test_the_engine_gives_the_recorded_result(name):
    recorded = golden.recorded()
    if recorded["engine_code_version"] != ENGINE_CODE_VERSION:
        pytest.fail("ENGINE_CODE_VERSION was bumped: record the new golden hashes")
    assert golden.compute([name])[name] == recorded["hashes"][name], (
        f"the fast engine's result for {name!r} changed. If that is intended, bump "
        "ENGINE_CODE_VERSION in genie_assets/engine/params.py (every stored shard becomes "
        "stale) and run `python -m genie_assets_tests.golden --record`")
