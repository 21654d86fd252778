"""Gene names users really have, through the whole pipeline and back out of every export.

The rule (docs/inputs.md, "Gene names"): any text but a tab, line break or control character is a
gene name, kept exactly as written; each export is read back here the way its consumers read
it (pandas and the csv module for TSV, an XML parser for GraphML, the format's own rules for
GMT and SIF).
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ElementTree

import numpy as np
import pandas as pd
import pytest

from genie_assets.network.regulons import RHO_THRESHOLD
from genie_assets.pipeline.layout import (
    ADJACENCY_TSV,
    EDGE_TABLE,
    FILTERED_NETWORK,
    GENE_DEGREES,
    GRAPHML,
    HUB_GENES,
    HUB_GENES_TSV,
    REGULONS_GMT,
    SIF,
)
from genie_assets_tests.helpers import (
    DOWNSTREAM,
    SHARD_KEYS,
    failure_messages,
    local_resources,
    new_instance,
    run,
)

REGULATORS = ["GENE A", "Ünïcode-β", "SEPT2", "0042", "1e5", 'Q"T', "A,B", "A&B<x>"]
TARGETS = ["sept2", "42", "1.0", "1", "NA", "nan", "it's", "日本", "ß-straße", "TRUE",
           "#HASH", "x;y"]
NAMES = REGULATORS + TARGETS


def awkward_matrix(n_samples: int = 60) -> pd.DataFrame:
    """Each target follows one regulator, so the network has edges between these names."""
    rng = np.random.default_rng(7)
    data = {name: rng.normal(5, 1, n_samples) for name in REGULATORS}
    for index, target in enumerate(TARGETS):
        source = REGULATORS[index % len(REGULATORS)]
        data[target] = 2 * data[source] + rng.normal(0, 0.3, n_samples)
    return pd.DataFrame(data, index=[f"S{i}" for i in range(n_samples)])


@pytest.fixture(scope="module")
def awkward_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    matrix = root / "matrix.tsv"
    awkward_matrix().to_csv(matrix, sep="\t")
    regulators = root / "regulators.txt"
    regulators.write_text("".join(f"{name}\n" for name in REGULATORS), encoding="utf-8")
    resources = local_resources(root / "store", n_trees=50)
    instance = new_instance()
    expression = {"path": str(matrix), "regulators_path": str(regulators)}
    result = run(["expression_matrix"], resources, instance,
                 run_config={"ops": {"expression_matrix": {"config": expression}}})
    assert result.success, failure_messages(result)
    for key in SHARD_KEYS:
        result = run(["importance_shards"], resources, instance, partition_key=key)
        assert result.success, failure_messages(result)
    result = run(DOWNSTREAM, resources, instance, run_config={"ops": {
        "regulons": {"config": {"min_targets": 1, "min_importance": 0.0}}}})
    assert result.success, failure_messages(result)
    return resources["store"]


def test_the_edge_table_and_the_network_keep_every_name(awkward_run):
    edges = pd.read_parquet(awkward_run.path(*EDGE_TABLE))
    assert set(edges.regulator) == set(REGULATORS)
    assert set(edges.target) == set(NAMES)
    network = pd.read_parquet(awkward_run.path(*FILTERED_NETWORK))
    assert set(network.target) == set(NAMES)
    strongest = network.sort_values("importance").groupby("target").regulator.last()
    for index, target in enumerate(TARGETS):
        assert strongest[target] == REGULATORS[index % len(REGULATORS)], target
    degrees = pd.read_parquet(awkward_run.path(*GENE_DEGREES))
    assert set(degrees.gene) == set(NAMES)


def read_tsv_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def test_the_adjacency_tsv_reads_back_with_pandas_and_csv(awkward_run):
    network = pd.read_parquet(awkward_run.path(*FILTERED_NETWORK))
    expected = set(zip(network.regulator, network.target))
    rows = read_tsv_rows(awkward_run.path(*ADJACENCY_TSV))
    assert rows[0] == ["TF", "target", "importance", "rho"]
    assert {(tf, target) for tf, target, _, _ in rows[1:]} == expected
    frame = pd.read_csv(awkward_run.path(*ADJACENCY_TSV), sep="\t", dtype=str,
                        keep_default_na=False)
    assert set(zip(frame.TF, frame.target)) == expected


def test_hubs_gmt_and_sif_hold_the_names_as_written(awkward_run):
    hubs = read_tsv_rows(awkward_run.path(*HUB_GENES_TSV))
    gene_column = hubs[0].index("gene")
    assert {row[gene_column] for row in hubs[1:]} <= set(REGULATORS)
    assert set(pd.read_parquet(awkward_run.path(*HUB_GENES)).gene) <= set(REGULATORS)
    network = pd.read_parquet(awkward_run.path(*FILTERED_NETWORK))
    sif = [line.split("\t") for line in
           awkward_run.path(*SIF).read_text(encoding="utf-8").splitlines()]
    assert {(source, target) for source, _, target in sif} == \
        set(zip(network.regulator, network.target))
    gmt = [line.split("\t") for line in
           awkward_run.path(*REGULONS_GMT).read_text(encoding="utf-8").splitlines()]
    assert gmt, "every regulator with a target is a regulon here"
    for fields in gmt:
        regulator, sign = fields[0][:-3], fields[0][-3:]
        assert regulator in REGULATORS and sign in ("(+)", "(-)")
        signed = network.rho > RHO_THRESHOLD if sign == "(+)" else network.rho < -RHO_THRESHOLD
        assert set(fields[2:]) == set(network.target[(network.regulator == regulator) & signed])


def test_graphml_parses_to_the_network_with_its_names(awkward_run):
    namespace = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = ElementTree.parse(awkward_run.path(*GRAPHML)).getroot().find("g:graph", namespace)
    nodes = {node.get("id") for node in graph.findall("g:node", namespace)}
    edges = {(edge.get("source"), edge.get("target"))
             for edge in graph.findall("g:edge", namespace)}
    network = pd.read_parquet(awkward_run.path(*FILTERED_NETWORK))
    assert nodes == set(network.regulator) | set(network.target)
    assert edges == set(zip(network.regulator, network.target))
