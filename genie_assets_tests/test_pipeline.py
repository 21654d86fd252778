"""The whole asset graph on the toy data, driven through Dagster's `materialize`."""

from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from genie_assets.engine import genie3
from genie_assets.inputs.toy import toy_dataset
from genie_assets.network.evaluation import score_network
from genie_assets.pipeline.assets import ALL_ASSETS, importance_shards
from genie_assets.pipeline.layout import EDGE_TABLE, FILTERED_NETWORK, GENE_DEGREES, HUB_GENES
from genie_assets.pipeline.partitions import shard_partitions
from genie_assets_tests.helpers import TOY_N_TREES, local_resources

N_TREES = TOY_N_TREES


def test_edge_table_is_what_the_engine_gives_in_a_notebook(toy_run):
    store, metadata, _ = toy_run
    expression, regulators, _ = toy_dataset()
    pipeline_edges = pd.read_parquet(store.path(*EDGE_TABLE))
    notebook_edges = genie3(expression, regulators, n_trees=N_TREES)
    joined = notebook_edges.merge(pipeline_edges, on=["regulator", "target"])
    assert len(pipeline_edges) == len(notebook_edges) == len(joined)
    assert (joined.importance_x == joined.importance_y).all()
    assert metadata["edge_table"]["n_edges"].value == len(notebook_edges)
    assert metadata["edge_table"]["n_shards"].value == len(shard_partitions.get_partition_keys())


def test_toy_network_recovers_its_ground_truth(toy_run):
    store, _, _ = toy_run
    _, _, gold = toy_dataset()
    scores = score_network(pd.read_parquet(store.path(*EDGE_TABLE)), gold)
    assert scores["aupr"] >= 0.9


def test_each_shard_records_what_a_user_looks_for(toy_run):
    _, metadata, instance = toy_run
    expression, _, _ = toy_dataset()
    total_targets = 0
    for key in shard_partitions.get_partition_keys():
        shard = metadata[key]
        total_targets += shard["n_targets"].value
        assert shard["seconds_per_target"].value > 0
        assert shard["cores"].value == 2
        assert shard["genie3_n_trees"].value == N_TREES
        assert shard["genie3_method"].value == "RF"
        assert shard["instance_type"].value == "local"
    assert total_targets == expression.shape[1]
    partitions = instance.get_materialized_partitions(AssetKey("importance_shards"))
    assert partitions == set(shard_partitions.get_partition_keys())


def test_filtered_network_keeps_the_top_regulators_of_each_target(toy_run):
    store, metadata, _ = toy_run
    edges = pd.read_parquet(store.path(*EDGE_TABLE))
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    expected = (edges.sort_values(["target", "importance", "regulator"],
                                  ascending=[True, False, True])
                .groupby("target").head(5))
    assert set(map(tuple, network[["regulator", "target"]].to_numpy())) == set(
        map(tuple, expected[["regulator", "target"]].to_numpy()))
    assert metadata["filtered_network"]["n_edges"].value == len(expected)
    adjacency = pd.read_csv(store.path("exports", "adjacency.tsv"), sep="\t")
    assert list(adjacency.columns) == ["TF", "target", "importance", "rho"]
    assert adjacency.importance.is_monotonic_decreasing
    assert adjacency.rho.between(-1, 1).all() and (adjacency.rho < 0).any()


def test_degrees_and_hubs_match_an_independent_count(toy_run):
    store, metadata, _ = toy_run
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    degrees = pd.read_parquet(store.path(*GENE_DEGREES)).set_index("gene")
    out_degree = network.groupby("regulator").size()
    in_degree = network.groupby("target").size()
    for gene in degrees.index:
        assert degrees.loc[gene, "out_degree"] == out_degree.get(gene, 0)
        assert degrees.loc[gene, "in_degree"] == in_degree.get(gene, 0)
    assert metadata["gene_degrees"]["engine"].value in ("graphframes", "spark-sql")
    hubs = pd.read_parquet(store.path(*HUB_GENES))
    weighted = network.groupby("regulator").importance.sum()
    ranked = sorted(out_degree.index, key=lambda g: (-out_degree[g], -weighted[g], g))
    assert list(hubs.gene) == ranked[:10]
    assert metadata["hub_genes"]["top_hub"].value == ranked[0]


def test_partition_run_of_shards_alone_does_not_touch_the_merge(tmp_path):
    resources = local_resources(tmp_path)
    instance = DagsterInstance.ephemeral()
    assert materialize(ALL_ASSETS, selection=["expression_matrix"], resources=resources,
                       instance=instance).success
    others = [a for a in ALL_ASSETS if a is not importance_shards]
    result = materialize([importance_shards] + others,
                         selection=["importance_shards"], partition_key="shard-0001",
                         resources=resources, instance=instance)
    assert result.success
    assert Path(resources["store"].shard_file("shard-0001")).is_file()
    assert not resources["store"].path(*EDGE_TABLE).exists()


def test_edge_table_checks_pass_on_a_complete_network(toy_run):
    _, metadata, _ = toy_run
    assert metadata["checks"] == {
        "every_target_present": True, "one_row_per_pair": True, "no_self_edges": True,
        "importances_finite_non_negative": True,
    }


def test_pictures_are_on_the_assets(toy_run):
    store, metadata, _ = toy_run
    for name in ("degree_distribution.png", "hub_genes.png"):
        assert store.path("network", name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metadata["gene_degrees"]["degree_distribution"].value.startswith(
        "![degree distribution (log-log)](data:image/png;base64,")
    assert "data:image/png;base64," in metadata["hub_genes"]["hub_chart"].value


def test_network_evaluation_scores_the_toy_network(toy_run):
    _, metadata, _ = toy_run
    evaluation = metadata["network_evaluation"]
    assert evaluation["evaluated"].value is True
    assert evaluation["aupr"].value >= 0.9
    assert evaluation["auroc"].value >= 0.95
    # Top-5 per target keeps most true edges: the filtered network still scores well.
    assert 0.5 <= evaluation["filtered_aupr"].value <= 1.0
    assert evaluation["n_gold_positives"].value == 66
    assert "data:image/png;base64," in evaluation["precision_recall_curve"].value


def test_benchmark_report_adds_up_the_shards(toy_run):
    _, metadata, _ = toy_run
    report = metadata["benchmark_report"]
    shard_core_seconds = sum(metadata[key]["compute_seconds"].value * metadata[key]["cores"].value
                             for key in shard_partitions.get_partition_keys())
    assert report["total_core_seconds"].value == pytest.approx(shard_core_seconds, rel=1e-6)
    per_target = shard_core_seconds / 40
    assert report["core_seconds_per_target"].value == pytest.approx(per_target, rel=1e-6)
    assert report["projected_core_hours_49k_targets"].value == pytest.approx(
        per_target * 49_000 / 3600, rel=1e-6)
    # What the shards held their cores for is more than their engine used, never less.
    held = report["projected_held_core_hours_49k_targets"].value
    assert held == pytest.approx(report["projected_core_hours_49k_targets"].value
                                 / report["parallel_efficiency"].value, rel=1e-6)
    assert report["estimated_cost_usd"].value == 0.0
    assert 0.0 < report["parallel_efficiency"].value <= 1.0
    assert "projection: 49,000 targets" in report["report"].value
    compiled = sum(metadata[key]["compile_seconds"].value
                   for key in shard_partitions.get_partition_keys())
    assert report["total_compile_seconds"].value == pytest.approx(compiled, rel=1e-6)
    assert "compiling the engine, all shards" in report["report"].value


def test_the_network_follows_the_last_shard_and_not_before(tmp_path):
    """What the daemon's automation sensor does each tick, evaluated on the real assets."""
    from dagster import Definitions, evaluate_automation_conditions

    from genie_assets.pipeline.assets import ALL_CHECKS
    from genie_assets_tests.helpers import DOWNSTREAM, SHARD_KEYS, run

    resources = local_resources(tmp_path, n_trees=50)
    defs = Definitions(assets=ALL_ASSETS, asset_checks=ALL_CHECKS, resources=resources)
    instance = DagsterInstance.ephemeral()
    assert run(["expression_matrix"], resources, instance).success
    tick = evaluate_automation_conditions(defs=defs, instance=instance)
    assert tick.total_requested == 0, "nothing below the shards while every shard is missing"
    for key in SHARD_KEYS[:-1]:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
        tick = evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        assert tick.total_requested == 0, f"requested after {key}, before the last shard"
    assert run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[-1]).success
    tick = evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    requested = {asset.key.to_user_string() for asset in ALL_ASSETS
                 if tick.get_num_requested(asset.key)}
    assert requested == set(DOWNSTREAM), "the whole network, in one tick, and no shard again"
