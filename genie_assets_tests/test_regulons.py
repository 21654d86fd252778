"""Regulons of the toy network against its known regulator → target sets, and the GMT file."""

import csv
import re
import shutil

import pandas as pd
import pytest
from dagster import materialize

from genie_assets.errors import ExportError
from genie_assets.inputs.toy import toy_network
from genie_assets.network.regulons import (
    RHO_THRESHOLD,
    RegulonRule,
    regulon_edges,
    write_gmt,
)
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


def test_thresholded_regulons_are_the_toy_networks_known_signed_target_sets(toy_run, tmp_path):
    """The toy's targets respond to each regulator with a sign drawn at random: the regulons
    are its activated targets as TF(+) and its repressed ones as TF(-), exactly."""
    store, metadata = materialize_regulons(toy_run, tmp_path, min_targets=1,
                                           min_importance=KNOWN_ANSWER_THRESHOLD)
    _, regulators, _, signs = toy_network()
    found = pd.read_parquet(store.path(*REGULONS))
    # The toy's regulators are themselves unregulated: edges into them are noise near 1/7,
    # which no threshold separates from weak true edges, so they are compared apart.
    into_targets = found[~found.target.isin(regulators)]
    expected: dict[str, set] = {}
    for (regulator, target), sign in signs.items():
        expected.setdefault(f"{regulator}({'+' if sign > 0 else '-'})", set()).add(target)
    assert {r: set(g.target) for r, g in into_targets.groupby("regulon")} == expected
    assert {"+", "-"} == {name[-2] for name in expected}, "the toy has both kinds"
    assert (found.rho[found.regulon.str.endswith("(+)")] > RHO_THRESHOLD).all()
    assert (found.rho[found.regulon.str.endswith("(-)")] < -RHO_THRESHOLD).all()
    assert metadata["n_regulons"].value == found.regulon.nunique()
    assert metadata["n_activating_regulons"].value == len(
        {name for name in found.regulon if name.endswith("(+)")})
    assert metadata["n_repressing_regulons"].value == len(
        {name for name in found.regulon if name.endswith("(-)")})
    assert metadata["n_edges"].value == len(found)


def test_gmt_and_adjacencies_reread_give_the_regulons(toy_run, tmp_path):
    store, metadata = materialize_regulons(toy_run, tmp_path, min_targets=12)
    found = pd.read_parquet(store.path(*REGULONS))
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    signed = network[network.rho.abs() > RHO_THRESHOLD]
    names = signed.regulator + "(" + (signed.rho > 0).map({True: "+", False: "-"}) + ")"
    sizes = names.value_counts()
    assert set(found.regulon) == set(sizes[sizes >= 12].index)
    assert 0 < found.regulon.nunique() < names.nunique(), "the rule must bite"
    gmt = read_gmt(store.path(*REGULONS_GMT))
    assert set(gmt) == set(found.regulon)
    for regulon, group in found.groupby("regulon"):
        description, genes = gmt[regulon]
        strongest_first = group.sort_values(["importance", "target"], ascending=[False, True])
        assert genes == strongest_first.target.tolist()
        assert f"{len(genes)} targets" in description
        kind = "activating" if regulon.endswith("(+)") else "repressing"
        assert f"{kind} regulon of {group.regulator.iloc[0]}:" in description
    adjacencies = pd.read_csv(store.path(*REGULON_ADJACENCIES), sep="\t")
    assert list(adjacencies.columns) == ["TF", "target", "importance", "rho"]
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
