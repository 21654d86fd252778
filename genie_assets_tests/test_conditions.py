"""A network per condition: condition × shard partitions run by the same shard program, each
condition's network, and the differential network finding edges planted in one condition."""

import numpy as np
import pandas as pd
import pytest
from dagster import DagsterEventType, MultiPartitionKey

from genie_assets.pipeline.layout import (
    CONDITION_SAMPLES,
    DIFFERENTIAL_NETWORK,
    EXPRESSION,
    FILTERED_NETWORK,
    REWIRING,
    REWIRING_PICTURE,
    condition_root,
)
from genie_assets.pipeline.partitions import CONDITIONS
from genie_assets_tests.helpers import (
    SHARD_KEYS,
    failure_messages,
    local_resources,
    new_instance,
    run,
)
from genie_assets_tests.test_expression import stored_hashes

N_REGULATORS, N_TARGETS, N_PER_CONDITION = 12, 16, 150
# In "treated" cells R12 drives these targets instead of their own regulator: edges present
# in one condition only.
REWIRED_TARGETS = ["T01", "T02", "T03"]


def planted_conditions(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(cells × genes, samples table with `condition`, each target's regulator per condition).
    Every target follows one regulator, strongly; the rewired targets follow another in
    treated cells."""
    rng = np.random.default_rng(seed)
    regulators = [f"R{i + 1:02d}" for i in range(N_REGULATORS)]
    targets = [f"T{i + 1:02d}" for i in range(N_TARGETS)]
    frames, drivers = [], {}
    for condition in ("control", "treated"):
        levels = rng.lognormal(0.0, 0.6, size=(N_PER_CONDITION, N_REGULATORS))
        columns = {name: levels[:, i] for i, name in enumerate(regulators)}
        for j, target in enumerate(targets):
            driver = j % (N_REGULATORS - 1)  # R01-R11; R12 drives nothing in control
            if condition == "treated" and target in REWIRED_TARGETS:
                driver = N_REGULATORS - 1
            drivers[condition, target] = regulators[driver]
            columns[target] = 2.0 * levels[:, driver] + rng.normal(0, 0.1, N_PER_CONDITION)
        frames.append(pd.DataFrame(columns, index=[f"{condition}-{i}"
                                                   for i in range(N_PER_CONDITION)]))
    matrix = pd.concat(frames)
    table = pd.DataFrame({"sample": matrix.index,
                          "condition": [name.split("-")[0] for name in matrix.index]})
    return matrix, table, drivers


@pytest.fixture(scope="module")
def conditions_run(tmp_path_factory, spark):
    folder = tmp_path_factory.mktemp("conditions")
    matrix, table, drivers = planted_conditions()
    matrix.to_csv(folder / "cells.csv")
    table.to_csv(folder / "samples.tsv", sep="\t", index=False)
    (folder / "regulators.txt").write_text("\n".join(f"R{i + 1:02d}" for i in
                                                     range(N_REGULATORS)) + "\n")
    resources = local_resources(folder / "store", n_trees=100)
    instance = new_instance()
    config = {"ops": {"expression_matrix": {"config": {
        "path": str(folder / "cells.csv"), "regulators_path": str(folder / "regulators.txt"),
        "cell_annotations_path": str(folder / "samples.tsv"), "conditions": "condition"}}}}
    result = run(["expression_matrix"], resources, instance, run_config=config)
    assert result.success, failure_messages(result)
    for condition in instance.get_dynamic_partitions(CONDITIONS):
        for shard in SHARD_KEYS:
            key = MultiPartitionKey({"condition": condition, "shard": shard})
            result = run(["condition_shards"], resources, instance, partition_key=key)
            assert result.success, failure_messages(result)
    result = run(["condition_networks", "differential_network"], resources, instance,
                 run_config={"ops": {"condition_networks": {
                     "config": {"top_k_per_target": 1}}}})
    assert result.success, failure_messages(result)
    return resources["store"], instance, result, drivers


def test_each_condition_is_a_partition_with_its_own_cells(conditions_run):
    store, instance, _, _ = conditions_run
    assert sorted(instance.get_dynamic_partitions(CONDITIONS)) == ["control", "treated"]
    for condition in ("control", "treated"):
        own = store.within(*condition_root(condition))
        stored = pd.read_parquet(own.path(*EXPRESSION, "expression.parquet"))
        assert len(stored) == N_PER_CONDITION
        assert all(name.startswith(condition) for name in stored.index)
        assert len(own.list_shards()) == len(SHARD_KEYS)
    assert store.path(*CONDITION_SAMPLES).is_file()


def test_each_conditions_network_has_each_targets_own_regulator(conditions_run):
    store, _, _, drivers = conditions_run
    for condition in ("control", "treated"):
        network = pd.read_parquet(store.within(*condition_root(condition))
                                  .path(*FILTERED_NETWORK))
        found = dict(zip(network.target, network.regulator))
        expected = {t: r for (c, t), r in drivers.items() if c == condition}
        assert {t: found[t] for t in expected} == expected


def test_the_differential_network_finds_the_edges_planted_in_one_condition(conditions_run):
    store, _, result, drivers = conditions_run
    changes = pd.read_parquet(store.path(*DIFFERENTIAL_NETWORK))
    assert set(changes.reference) == {"control"} and set(changes.condition) == {"treated"}
    # The regulators are independent of each other: their own top regulator is noise in both
    # conditions, so edges into them are compared apart (as in test_regulons).
    into_targets = changes[changes.target.str.startswith("T")]
    gained = into_targets[into_targets.change == "gained"]
    lost = into_targets[into_targets.change == "lost"]
    assert set(zip(gained.regulator, gained.target)) == {("R12", t) for t in REWIRED_TARGETS}
    assert set(zip(lost.regulator, lost.target)) == {
        (drivers["control", t], t) for t in REWIRED_TARGETS}
    # Each changed edge is strong where it is and weak where it is not.
    assert (gained.importance > gained.importance_reference).all()
    assert (lost.importance_reference > lost.importance).all()
    assert {"rho", "rho_reference"} <= set(changes.columns)
    rewired = pd.read_parquet(store.path(*REWIRING)).set_index("regulator")
    assert rewired.index[0] == "R12" and rewired.rewiring.iloc[0] == 1.0
    assert rewired.loc["R12", "n_gained"] >= 3 and rewired.loc["R12", "n_kept"] == 0
    assert store.path(*REWIRING_PICTURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metadata = result.asset_materializations_for_node("differential_network")[0].metadata
    assert metadata["reference"].value == "control"
    assert "data:image/png;base64," in metadata["rewiring_picture"].value


@pytest.mark.parametrize("label, expected", [
    ("a,b", "condition 'a,b' (column 'condition') cannot name a partition"),
    ("tiny", "condition 'tiny' (column 'condition') has 5 samples; a network needs at least "
             "10"),
])
def test_a_condition_that_cannot_be_a_partition_is_refused_and_nothing_changes(
        tmp_path, label, expected):
    matrix, table, _ = planted_conditions()
    matrix.to_csv(tmp_path / "cells.csv")
    resources = local_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success  # the toy, two conditions
    before = stored_hashes(resources["store"])
    conditions = tmp_path / "store" / "conditions"
    before_conditions = {p: p.read_bytes() for p in sorted(conditions.rglob("*")) if p.is_file()}
    assert sorted(instance.get_dynamic_partitions(CONDITIONS)) == ["TF05-high", "TF05-low"]
    table.loc[:4, "condition"] = label
    table.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    result = run(["expression_matrix"], resources, instance, run_config={"ops": {
        "expression_matrix": {"config": {
            "path": str(tmp_path / "cells.csv"),
            "cell_annotations_path": str(tmp_path / "samples.tsv"),
            "conditions": "condition"}}}})
    assert not result.success
    assert expected in failure_messages(result)
    assert stored_hashes(resources["store"]) == before
    assert sorted(instance.get_dynamic_partitions(CONDITIONS)) == ["TF05-high", "TF05-low"]
    assert {p: p.read_bytes() for p in sorted(conditions.rglob("*")) if p.is_file()} == \
        before_conditions


def test_a_matrix_stored_without_conditions_says_how_to_set_them(tmp_path):
    matrix, _, _ = planted_conditions()
    matrix.to_csv(tmp_path / "cells.csv")
    resources = local_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance, run_config={"ops": {
        "expression_matrix": {"config": {"path": str(tmp_path / "cells.csv")}}}}).success
    result = run(["condition_networks"], resources, instance)
    assert not result.success
    assert "materialize expression_matrix with config `conditions: <annotation column>`" in \
        failure_messages(result)
    assert not [e for e in result.all_events
                if e.event_type == DagsterEventType.ASSET_MATERIALIZATION]


def test_changed_edges_carry_both_conditions_importance_rank_rho_and_stability():
    """With n_seeds > 1 the edge tables carry each edge's seed-consensus stability: a changed
    edge shows it, with importance, rank and rho, in the condition and in the reference."""
    from genie_assets.network.differential import compare, rewiring, top_regulators

    def edges(r1, r2, s1, s2):
        return pd.DataFrame({"regulator": ["R1", "R2", "R1", "R2"],
                             "target": ["T1", "T1", "T2", "T2"],
                             "importance": [r1, r2, 0.7, 0.3], "rho": [0.5, -0.4, 0.2, 0.1],
                             "stability": [s1, s2, 1.0, 1.0]})

    reference, condition = edges(0.9, 0.1, 0.95, 0.2), edges(0.2, 0.8, 0.3, 0.9)
    changes = compare(top_regulators(condition, 1), top_regulators(reference, 1), condition,
                      reference)
    assert changes[["regulator", "target", "change"]].values.tolist() == [
        ["R2", "T1", "gained"], ["R1", "T1", "lost"]]
    gained, lost = changes.iloc[0], changes.iloc[1]
    assert (gained.importance, gained.importance_reference) == pytest.approx((0.8, 0.1))
    assert (gained["rank"], gained.rank_reference) == (1, 2)
    assert (gained.stability, gained.stability_reference) == pytest.approx((0.9, 0.2))
    assert (lost.importance, lost.importance_reference) == pytest.approx((0.2, 0.9))
    assert (lost.stability, lost.stability_reference) == pytest.approx((0.3, 0.95))
    assert (gained.rho, gained.rho_reference) == pytest.approx((-0.4, -0.4))
    scores = rewiring(top_regulators(condition, 1), top_regulators(reference, 1))
    assert scores.set_index("regulator").rewiring.to_dict() == {"R2": 1.0, "R1": 0.5}


def test_a_new_matrix_makes_each_conditions_shards_stale_and_the_merge_names_them(tmp_path):
    """Shards computed from a condition's previous cells are refused by the merge, by name,
    until they are backfilled; Dagster marks them stale meanwhile."""
    matrix, table, _ = planted_conditions()
    table.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    resources = local_resources(tmp_path / "store", n_trees=20)
    instance = new_instance()

    def store_matrix(frame):
        frame.to_csv(tmp_path / "cells.csv")
        result = run(["expression_matrix"], resources, instance, run_config={"ops": {
            "expression_matrix": {"config": {
                "path": str(tmp_path / "cells.csv"),
                "cell_annotations_path": str(tmp_path / "samples.tsv"),
                "conditions": "condition"}}}})
        assert result.success, failure_messages(result)

    store_matrix(matrix)
    for condition in ("control", "treated"):
        for shard in SHARD_KEYS:
            key = MultiPartitionKey({"condition": condition, "shard": shard})
            assert run(["condition_shards"], resources, instance, partition_key=key).success
    assert run(["condition_networks"], resources, instance).success
    store_matrix(matrix * 2.0)  # new values: every condition's channel changes
    result = run(["condition_networks"], resources, instance)
    assert not result.success
    message = failure_messages(result)
    assert ("4 of 4 shards of condition_shards (condition 'control') were not computed from "
            "the current expression matrix") in message
    assert "shard-0000: computed from input" in message
    assert "condition_shards → Materialize… → condition 'control'" in message
