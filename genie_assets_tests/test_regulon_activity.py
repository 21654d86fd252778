"""Regulon activity per cell (AUCell) against decoupler called directly, the toy's cell types
found by their lineage regulators' regulons, and cell annotations read from the files users
have (a samples table, AnnData .obs, loom column attributes) or refused by name."""

import shutil

import anndata
import decoupler
import numpy as np
import pandas as pd
import pytest
from dagster import materialize

from genie_assets.inputs.toy import TOY_CELL_TYPES
from genie_assets.network.activity import top_genes
from genie_assets.pipeline.assets.exploration import regulon_activity, regulons
from genie_assets.pipeline.layout import (
    CELL_ANNOTATIONS,
    EXPRESSION,
    FILTERED_NETWORK,
    REGULON_ACTIVITY,
    REGULON_ACTIVITY_BY_GROUP,
    REGULON_ACTIVITY_H5AD,
    REGULON_ACTIVITY_PICTURE,
    REGULONS,
)
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets_tests.helpers import failure_messages, local_resources, new_instance, run
from genie_assets_tests.test_expression import stored_hashes
from genie_assets_tests.test_regulons import KNOWN_ANSWER_THRESHOLD


def materialize_activity(toy_run, tmp_path, regulon_config=None, activity_config=None):
    """regulons → regulon_activity on a copy of the toy run's expression and filtered network."""
    toy_store, _, _ = toy_run
    store = ArtifactStore(root=str(tmp_path))
    shutil.copytree(toy_store.path(*FILTERED_NETWORK), store.path(*FILTERED_NETWORK))
    shutil.copytree(toy_store.path(*EXPRESSION), store.path(*EXPRESSION))
    result = materialize([regulons, regulon_activity], resources={"store": store},
                         run_config={"ops": {"regulons": {"config": regulon_config or {}},
                                             "regulon_activity": {
                                                 "config": activity_config or {}}}},
                         raise_on_error=False)
    return store, result


def test_activity_is_decouplers_aucell_on_the_same_inputs(toy_run, tmp_path):
    store, result = materialize_activity(toy_run, tmp_path)
    assert result.success, failure_messages(result)
    activity = pd.read_parquet(store.path(*REGULON_ACTIVITY))
    matrix = pd.read_parquet(store.path(*EXPRESSION, "expression.parquet"))
    edges = pd.read_parquet(store.path(*REGULONS))
    cells = anndata.AnnData(matrix.to_numpy(), obs=pd.DataFrame(index=matrix.index),
                            var=pd.DataFrame(index=matrix.columns))
    net = edges.rename(columns={"regulon": "source"})[["source", "target"]]
    decoupler.mt.aucell(cells, net, tmin=1, empty=False, n_up=top_genes(matrix.shape[1]))
    expected = cells.obsm["score_aucell"]
    assert activity.shape == (150, edges.regulon.nunique()) and activity.shape[1] >= 4
    assert list(activity.index) == list(matrix.index)
    pd.testing.assert_frame_equal(activity, expected[activity.columns].rename_axis("cell"),
                                  check_names=False, atol=0, rtol=0)
    assert activity.to_numpy().std() > 0.05, "scores that vary between cells"
    # The file scanpy opens holds the same scores, the cells' types and what each regulon is.
    opened = anndata.read_h5ad(store.path(*REGULON_ACTIVITY_H5AD))
    np.testing.assert_allclose(opened.X, activity.to_numpy(), rtol=1e-6)
    assert list(opened.var_names) == list(activity.columns)
    assert list(opened.obs.cell_type.cat.categories) == sorted(TOY_CELL_TYPES.values())
    sizes = edges.groupby("regulon").size()
    assert (opened.var.n_targets == sizes[opened.var_names].to_numpy()).all()
    assert set(opened.var.kind) <= {"activating", "repressing"}


def test_each_toy_cell_type_is_marked_by_its_lineage_regulators_activating_regulon(
        toy_run, tmp_path):
    """The toy's cell types are named after the one of TF01-TF03 they express most; the
    regulon of that regulator's activated targets (its true ones, from the signed network) is
    most active in that type, and among the type's most specific regulons."""
    store, result = materialize_activity(
        toy_run, tmp_path,
        regulon_config={"min_targets": 1, "min_importance": KNOWN_ANSWER_THRESHOLD})
    assert result.success, failure_messages(result)
    means = pd.read_parquet(store.path(*REGULON_ACTIVITY_BY_GROUP))
    assert means.index.name == "cell_type"
    assert list(means.index) == sorted(TOY_CELL_TYPES.values())
    for regulator, cell_type in TOY_CELL_TYPES.items():
        assert means[f"{regulator}(+)"].idxmax() == cell_type, means[f"{regulator}(+)"]
    metadata = result.asset_materializations_for_node("regulon_activity")[0].metadata
    assert metadata["cell_groups"].value == "cell_type"
    top = metadata["top_regulons_per_group"].value
    for regulator in ("TF01", "TF02"):
        assert f"{regulator}(+)" in top
    assert store.path(*REGULON_ACTIVITY_PICTURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in metadata["activity_by_group"].value


def test_an_unknown_cell_group_column_is_refused_naming_those_there_are(toy_run, tmp_path):
    store, result = materialize_activity(toy_run, tmp_path,
                                         activity_config={"cell_groups": "tissue"})
    assert not result.success
    assert ("no cell annotation 'tissue'; the cells are annotated with "
            "['cell_type', 'condition']") in failure_messages(result)
    assert not store.path(*REGULON_ACTIVITY_PICTURE).exists()


def cells_matrix(n_cells=12) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(rng.random((n_cells, 5)), columns=["TF1", "TF2", "G1", "G2", "G3"],
                        index=[f"cell{i}" for i in range(n_cells)])


def materialize_expression(store_root, **config):
    resources = local_resources(store_root)
    result = run(["expression_matrix"], resources, new_instance(),
                 run_config={"ops": {"expression_matrix": {"config": config}}})
    return result, resources["store"]


def test_a_samples_table_annotates_the_cells_and_a_missing_row_is_refused(tmp_path):
    matrix = cells_matrix()
    matrix.to_csv(tmp_path / "cells.csv")
    table = pd.DataFrame({"cell": matrix.index[::-1],
                          "cell_type": ["B", "T"] * 6, "donor": ["d1"] * 12})
    table.to_csv(tmp_path / "annotations.tsv", sep="\t", index=False)
    result, store = materialize_expression(tmp_path / "store", path=str(tmp_path / "cells.csv"),
                                           cell_annotations_path=str(tmp_path / "annotations.tsv"))
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.path(*CELL_ANNOTATIONS))
    assert list(stored.index) == list(matrix.index), "in the matrix's order"
    assert stored.loc["cell11", "cell_type"] == "B" and stored.loc["cell10", "cell_type"] == "T"
    before = stored_hashes(store)

    table.iloc[:-1].to_csv(tmp_path / "short.tsv", sep="\t", index=False)
    result = run(["expression_matrix"], {**local_resources(tmp_path / "store")}, new_instance(),
                 run_config={"ops": {"expression_matrix": {"config": {
                     "path": str(tmp_path / "cells.csv"),
                     "cell_annotations_path": str(tmp_path / "short.tsv")}}}})
    assert not result.success
    assert f"{tmp_path / 'short.tsv'}: no annotation row for 1 of the matrix's 12 samples " \
           "(e.g. 'cell0')" in failure_messages(result)
    assert stored_hashes(store) == before, "the stored matrix and annotations stay as they were"


def test_anndata_obs_labels_are_the_cells_annotations_and_numbers_are_not(tmp_path):
    matrix = cells_matrix()
    obs = pd.DataFrame({"bulk_labels": pd.Categorical(["CD14+ Monocyte", "CD19+ B"] * 6),
                        "n_counts": np.linspace(1000, 2000, 12),
                        "phase": ["G1"] * 12}, index=matrix.index)
    anndata.AnnData(matrix.to_numpy(), obs=obs, var=pd.DataFrame(index=matrix.columns)) \
        .write_h5ad(tmp_path / "cells.h5ad")
    result, store = materialize_expression(tmp_path / "store", path=str(tmp_path / "cells.h5ad"))
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.path(*CELL_ANNOTATIONS))
    assert list(stored.columns) == ["bulk_labels", "phase"]
    assert stored.bulk_labels.iloc[1] == "CD19+ B"
    metadata = result.asset_materializations_for_node("expression_matrix")[0].metadata
    assert metadata["cell_annotations"].value == "bulk_labels, phase"


def test_loom_column_attributes_are_the_cells_annotations(tmp_path):
    import loompy

    matrix = cells_matrix()
    loompy.create(str(tmp_path / "cells.loom"), matrix.to_numpy().T,
                  {"Gene": np.array(matrix.columns)},
                  {"CellID": np.array(matrix.index),
                   "ClusterName": np.array(["a", "b", "c"] * 4)})
    result, store = materialize_expression(tmp_path / "store", path=str(tmp_path / "cells.loom"))
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.path(*CELL_ANNOTATIONS))
    assert list(stored.columns) == ["ClusterName"]
    assert stored.ClusterName.tolist() == ["a", "b", "c"] * 4


@pytest.mark.parametrize("header, expected", [
    ("cell\t\tdonor", "column 2 of the header has no name"),
    ("cell", "a samples table needs a sample column and at least one annotation column"),
])
def test_a_bad_samples_table_is_refused_by_what_is_wrong(tmp_path, header, expected):
    matrix = cells_matrix()
    matrix.to_csv(tmp_path / "cells.csv")
    columns = header.count("\t")
    rows = "".join(f"{cell}{chr(9) + 'x' if columns else ''}{chr(9) + 'y' if columns > 1 else ''}"
                   "\n" for cell in matrix.index)
    (tmp_path / "table.tsv").write_text(header + "\n" + rows)
    result, store = materialize_expression(tmp_path / "store", path=str(tmp_path / "cells.csv"),
                                           cell_annotations_path=str(tmp_path / "table.tsv"))
    assert not result.success
    assert f"{tmp_path / 'table.tsv'}: {expected}" in failure_messages(result)
    assert not store.expression_dir().exists()
