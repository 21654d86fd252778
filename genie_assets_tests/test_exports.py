"""SIF and GraphML exports of the toy network, re-read by independent parsers."""

import csv

import networkx as nx
import pandas as pd
import pytest

from genie_assets.network.exports import SIF_ACTIVATES, SIF_REPRESSES
from genie_assets.pipeline.layout import FILTERED_NETWORK, GENE_DEGREES, GENE_MODULES, GRAPHML, SIF


def test_graphml_holds_the_network_with_typed_attributes(toy_run):
    store, metadata, _ = toy_run
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    degrees = pd.read_parquet(store.path(*GENE_DEGREES)).set_index("gene")
    modules = pd.read_parquet(store.path(*GENE_MODULES)).set_index("gene")
    graph = nx.read_graphml(store.path(*GRAPHML))
    assert graph.is_directed()
    assert set(graph.nodes) == set(network.regulator) | set(network.target)
    assert graph.number_of_edges() == len(network) == metadata["network_exports"]["n_edges"].value
    for row in network.itertuples():
        assert graph.edges[row.regulator, row.target]["importance"] == pytest.approx(
            row.importance)
        assert graph.edges[row.regulator, row.target]["rho"] == pytest.approx(row.rho)
    for gene, attributes in graph.nodes(data=True):
        # networkx types the values from the file's declared attr.type.
        assert attributes["module"] == modules.loc[gene, "module"]
        assert type(attributes["module"]) is int and type(attributes["out_degree"]) is int
        assert attributes["in_degree"] == degrees.loc[gene, "in_degree"]
        assert attributes["out_degree"] == degrees.loc[gene, "out_degree"]
        assert attributes["degree"] == degrees.loc[gene, "degree"]


def test_sif_holds_every_edge_of_the_network(toy_run):
    store, _, _ = toy_run
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    with open(store.path(*SIF), newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    assert {len(row) for row in rows} == {3}
    # Each edge's interaction says its sign, read from rho independently here.
    expected = {(r, "represses" if rho < 0 else "activates", t)
                for r, t, rho in network[["regulator", "target", "rho"]].itertuples(index=False)}
    assert {tuple(row) for row in rows} == expected
    assert {row[1] for row in rows} == {SIF_ACTIVATES, SIF_REPRESSES}, "the toy has both"
