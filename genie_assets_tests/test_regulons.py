"""Regulons of the toy network against its known regulator → target sets, and the GMT file."""

import csv
import re
import shutil

import pandas as pd
import pytest
from dagster import materialize

from genie_assets.errors import ExportError
from genie_assets.inputs.toy import toy_dataset
from genie_assets.network.regulons import RegulonRule, regulon_edges, write_gmt
from genie_assets.pipeline.assets.exploration import regulons
from genie_assets.pipeline.layout import (
    FILTERED_NETWORK,
    REGULON_ADJACENCIES,
    REGULONS,
    REGULONS_GMT,
)
from genie_assets.pipeline.resources import ArtifactStore

# Importances of the toy network's true edges into its non-regulator targets are ≥ 0.13 and
# of its false ones ≤ 0.10 (measured at 100, 300 and 1,000 trees).
KNOWN_ANSWER_THRESHOLD = 0.12


def read_gmt(path) -> dict[str, tuple[str, list[str]]]:
    """GMT as the format defines it, read independently of the writer: name, description, genes."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {row[0]: (row[1], row[2:]) for row in csv.reader(handle, delimiter="\t")}


def materialize_regulons(toy_run, tmp_path, **config):
    """The regulons asset on a copy of the toy run's filtered network, with `config`."""
    toy_store, _, _ = toy_run
    store = ArtifactStore(root=str(tmp_path))
    shutil.copytree(toy_store.path(*FILTERED_NETWORK), store.path(*FILTERED_NETWORK))
    result = materialize([regulons], resources={"store": store},
                         run_config={"ops": {"regulons": {"config": config}}})
    assert result.success
    return store, result.asset_materializations_for_node("regulons")[0].metadata


def test_thresholded_regulons_are_the_toy_networks_known_target_sets(toy_run, tmp_path):
    store, metadata = materialize_regulons(toy_run, tmp_path, min_targets=1,
                                           min_importance=KNOWN_ANSWER_THRESHOLD)
    _, regulators, gold = toy_dataset()
    true = gold[gold.label == 1]
    found = pd.read_parquet(store.path(*REGULONS))
    # The toy's regulators are themselves unregulated: edges into them are noise near 1/7,
    # which no threshold separates from weak true edges, so they are compared apart.
    into_targets = found[~found.target.isin(regulators)]
    assert {r: set(g.target) for r, g in into_targets.groupby("regulator")} == {
        r: set(g.target) for r, g in true.groupby("regulator")}
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    into_regulators = network[network.target.isin(regulators)
                              & (network.importance >= KNOWN_ANSWER_THRESHOLD)]
    assert set(map(tuple, found[found.target.isin(regulators)][["regulator", "target"]]
                   .to_numpy())) == set(map(tuple, into_regulators[["regulator", "target"]]
                                            .to_numpy()))
    assert metadata["n_regulons"].value == found.regulator.nunique() == len(regulators)
    assert metadata["n_edges"].value == len(found)


def test_gmt_and_adjacencies_reread_give_the_regulons(toy_run, tmp_path):
    store, metadata = materialize_regulons(toy_run, tmp_path, min_targets=20)
    found = pd.read_parquet(store.path(*REGULONS))
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    sizes = network.groupby("regulator").size()
    assert set(found.regulator) == set(sizes[sizes >= 20].index)
    assert 0 < found.regulator.nunique() < network.regulator.nunique(), "the rule must bite"
    gmt = read_gmt(store.path(*REGULONS_GMT))
    assert set(gmt) == set(found.regulator)
    for regulator, group in found.groupby("regulator"):
        description, genes = gmt[regulator]
        strongest_first = group.sort_values(["importance", "target"], ascending=[False, True])
        assert genes == strongest_first.target.tolist()
        assert f"{len(genes)} targets" in description
    adjacencies = pd.read_csv(store.path(*REGULON_ADJACENCIES), sep="\t")
    assert list(adjacencies.columns) == ["TF", "target", "importance"]
    assert len(adjacencies) == len(found) == metadata["n_edges"].value


def test_a_gene_name_the_gmt_cannot_hold_is_refused_by_name(tmp_path):
    edges = pd.DataFrame({"regulator": ["TF\tA"] * 2, "target": ["G1", "G2"],
                          "importance": [0.5, 0.4]})
    rule = RegulonRule(min_targets=1)
    with pytest.raises(ExportError, match=r"'TF\\tA'"):
        write_gmt(regulon_edges(edges, rule), tmp_path / "r.gmt", rule)
    assert not list(tmp_path.iterdir()), "nothing half-written"


def test_a_refused_export_names_the_file_the_user_would_have_got(tmp_path):
    edges = pd.DataFrame({"regulator": ["TF\tA"], "target": ["G1"], "importance": [0.5]})
    rule = RegulonRule(min_targets=1)
    store = ArtifactStore(root=str(tmp_path))
    with pytest.raises(ExportError, match=rf"^{re.escape(str(tmp_path))}/exports/r\.gmt: "):
        with store.writing("exports", "r.gmt") as temporary:
            write_gmt(regulon_edges(edges, rule), temporary, rule)
    assert not list((tmp_path / "exports").iterdir()), "nothing half-written"
