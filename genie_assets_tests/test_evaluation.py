"""Scoring against a gold standard cannot mislead: the formats people have, checked when the gold
standard is configured, and pairs the network cannot score reported rather than scored as 0."""

import pandas as pd
import pytest
from dagster import materialize

from genie_assets.engine import genie3
from genie_assets.errors import GoldStandardError
from genie_assets.inputs.expression import read_expression
from genie_assets.inputs.gold_standard import load_gold_standard
from genie_assets.pipeline.assets import expression_matrix, network_evaluation
from genie_assets.pipeline.layout import EDGE_TABLE, FILTERED_NETWORK
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets_tests.conftest import dream4_paths
from genie_assets_tests.helpers import failure_messages


@pytest.fixture(scope="module")
def dream4_edges():
    """DREAM4 network 1's edge table (200 trees) and its filtered (top-5) network."""
    expression_path, gold_path = dream4_paths(1)
    edges = genie3(read_expression(expression_path), n_trees=200)
    top5 = (edges.sort_values(["target", "importance", "regulator"],
                              ascending=[True, False, True]).groupby("target").head(5))
    return expression_path, gold_path, edges, top5


def evaluate(tmp_path, dream4_edges, gold_file):
    """expression_matrix with `gold_file`, then network_evaluation over the stored edges."""
    expression_path, _, edges, top5 = dream4_edges
    store = ArtifactStore(root=str(tmp_path / "store"))
    config = {"path": str(expression_path), "gold_standard_path": str(gold_file)}
    loaded = materialize([expression_matrix], resources={"store": store}, raise_on_error=False,
                         run_config={"ops": {"expression_matrix": {"config": config}}})
    if not loaded.success:
        return loaded, store, None
    store.path(*EDGE_TABLE).parent.mkdir(parents=True)
    edges.to_parquet(store.path(*EDGE_TABLE), index=False)
    store.path(*FILTERED_NETWORK).mkdir(parents=True)
    top5.to_parquet(store.path(*FILTERED_NETWORK) / "part-00000.parquet", index=False)
    scored = materialize([network_evaluation], resources={"store": store})
    return loaded, store, scored.asset_materializations_for_node("network_evaluation")[0].metadata


def test_a_gold_standard_of_true_edges_only_scores_as_the_full_one(tmp_path, dream4_edges):
    _, gold_path, _, _ = dream4_edges
    gold = pd.read_csv(gold_path, sep="\t", header=None)
    positives = tmp_path / "positives.tsv"
    gold[gold[2] == 1][[0, 1]].to_csv(positives, sep="\t", header=False, index=False)
    _, _, full = evaluate(tmp_path / "full", dream4_edges, gold_path)
    _, _, only = evaluate(tmp_path / "only", dream4_edges, positives)
    # DREAM4's file lists every pair, so "every other pair is false" gives the same scores.
    assert only["aupr"].value == pytest.approx(full["aupr"].value, abs=1e-12)
    assert 0.1 < only["aupr"].value < 0.5, "a real score, not the 1.0 of positives alone"
    assert only["auroc"].value == pytest.approx(full["auroc"].value, abs=1e-12)
    assert only["gold_positives_only"].value is True
    assert "true edges only" in only["negatives"].value
    assert full["gold_positives_only"].value is False


def test_pairs_outside_the_matrix_are_counted_not_scored(tmp_path, dream4_edges):
    _, gold_path, _, _ = dream4_edges
    gold = pd.read_csv(gold_path, sep="\t", header=None)
    extra = pd.DataFrame([["G1", "NOT_A_GENE", 1], ["UNKNOWN_TF", "G2", 1]])
    padded = tmp_path / "padded.tsv"
    pd.concat([gold, extra]).to_csv(padded, sep="\t", header=False, index=False)
    loaded, _, padded_scores = evaluate(tmp_path / "padded", dream4_edges, padded)
    _, _, plain_scores = evaluate(tmp_path / "plain", dream4_edges, gold_path)
    assert padded_scores["n_gold_pairs_outside_matrix"].value == 2
    assert padded_scores["aupr"].value == plain_scores["aupr"].value
    assert padded_scores["n_gold_positives"].value == plain_scores["n_gold_positives"].value
    matrix = loaded.asset_materializations_for_node("expression_matrix")[0].metadata
    assert matrix["n_gold_pairs_outside_matrix"].value == 2


def test_a_header_line_and_commas_are_read(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("regulator,target,label\nG1,G2,1\nG2,G3,0\nG3,G3,1\n")
    gold = load_gold_standard(path)
    assert gold.header_skipped and gold.separator == ","
    assert gold.pairs.values.tolist() == [["G1", "G2", 1], ["G2", "G3", 0]]


@pytest.mark.parametrize("text, expected", [
    ("G1\tG2\t1\nG2\tG3\tyes\n", "line 2: label 'yes' is not 0 or 1"),
    ("G1\tG2\t0\nG2\tG3\t0\n", "no true edge (label 1)"),
    ("G1 G2 1\n", "line 1 has one field"),
    ("G1\tG2\t1\tx\n", "line 1 has 4 fields"),
    ("G1\tG2\t1\n\tG3\t1\n", "line 2: a gene name is empty"),
    ("G1\tG2\t1\nG1\tG2\t0\n", "G1 → G2 is labelled both true and false"),
    ("", "the gold standard is empty"),
])
def test_gold_standard_mistakes_name_the_file_and_line(tmp_path, text, expected):
    path = tmp_path / "gold.tsv"
    path.write_text(text)
    with pytest.raises(GoldStandardError) as raised:
        load_gold_standard(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert expected in str(raised.value)


def test_a_bad_gold_standard_fails_the_matrix_before_anything_is_written(tmp_path,
                                                                         dream4_edges):
    bad = tmp_path / "gold.tsv"
    bad.write_text("G1\tG2\ttrue\n")
    loaded, store, _ = evaluate(tmp_path, dream4_edges, bad)
    assert not loaded.success
    assert f"{bad}: line 1: label 'true' is not 0 or 1" in failure_messages(loaded)
    assert not store.expression_dir().exists()
