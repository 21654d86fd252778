"""Spark filtering, degrees and hubs on small graphs whose answers are known."""

import os

import pandas as pd
import pytest

from genie_assets.network.graph import (
    GRAPHFRAMES,
    SPARK_SQL,
    NetworkFilter,
    filter_network,
    gene_degrees,
    graphframes_available,
    hub_genes,
)

EDGES = [
    ("A", "X", 0.9), ("B", "X", 0.5), ("C", "X", 0.5), ("D", "X", 0.1),
    ("A", "Y", 0.2), ("B", "Y", 0.7),
    ("A", "B", 0.4),
    ("C", "Z", 0.3),
]


@pytest.fixture
def edges(spark):
    return spark.createDataFrame(pd.DataFrame(EDGES, columns=["regulator", "target", "importance"]))


def rows(frame):
    return sorted(map(tuple, frame.toPandas()[["regulator", "target"]].to_numpy()))


def test_top_k_breaks_ties_by_regulator_name(edges):
    kept = rows(filter_network(edges, NetworkFilter(top_k_per_target=2)))
    # B and C tie at 0.5 for X: B wins on name, so X keeps exactly two edges.
    assert kept == sorted([("A", "X"), ("B", "X"), ("B", "Y"), ("A", "Y"), ("A", "B"),
                           ("C", "Z")])


def test_top_k_larger_than_the_regulator_count_keeps_every_edge(edges):
    assert len(rows(filter_network(edges, NetworkFilter(top_k_per_target=50)))) == len(EDGES)


def test_threshold_top_n_and_regulator_list_combine(edges):
    assert rows(filter_network(edges, NetworkFilter(min_importance=0.5))) == sorted(
        [("A", "X"), ("B", "X"), ("C", "X"), ("B", "Y")])
    assert rows(filter_network(edges, NetworkFilter(top_n=3))) == sorted(
        [("A", "X"), ("B", "Y"), ("B", "X")])
    only_a = filter_network(edges, NetworkFilter(regulators_only=["A"], top_k_per_target=1))
    assert rows(only_a) == [("A", "B"), ("A", "X"), ("A", "Y")]


def test_degrees_match_pandas(edges):
    degrees = gene_degrees(edges, SPARK_SQL).toPandas().set_index("gene")
    frame = pd.DataFrame(EDGES, columns=["regulator", "target", "importance"])
    genes = set(frame.regulator) | set(frame.target)
    assert set(degrees.index) == genes
    for gene in genes:
        out_edges = frame[frame.regulator == gene]
        in_edges = frame[frame.target == gene]
        assert degrees.loc[gene, "out_degree"] == len(out_edges)
        assert degrees.loc[gene, "in_degree"] == len(in_edges)
        assert degrees.loc[gene, "degree"] == len(out_edges) + len(in_edges)
        assert degrees.loc[gene, "weighted_out_degree"] == pytest.approx(out_edges.importance.sum())
        assert degrees.loc[gene, "weighted_in_degree"] == pytest.approx(in_edges.importance.sum())


def test_hubs_rank_by_out_degree_then_weight(edges):
    hubs = hub_genes(gene_degrees(edges, SPARK_SQL), 3).toPandas()
    # A: 3 out-edges; B: 2 (weight 1.2); C: 2 (weight 0.8); D: 1.
    assert list(hubs.gene) == ["A", "B", "C"]
    assert list(hubs.out_degree) == [3, 2, 2]


def test_graphframes_gives_the_spark_sql_figures(spark, edges):
    if not graphframes_available(spark):
        pytest.skip("GraphFrames jar not configured (GENIE_GRAPHFRAMES_JAR or "
                    "GENIE_GRAPHFRAMES_PACKAGE): Maven, its only source, is unreachable here")
    by_graphframes = gene_degrees(edges, GRAPHFRAMES).toPandas().sort_values("gene")
    by_sql = gene_degrees(edges, SPARK_SQL).toPandas().sort_values("gene")
    pd.testing.assert_frame_equal(by_graphframes.reset_index(drop=True),
                                  by_sql.reset_index(drop=True))


def test_graphframes_is_detected_as_absent_without_its_jar(spark):
    configured = os.environ.get("GENIE_GRAPHFRAMES_JAR") or os.environ.get(
        "GENIE_GRAPHFRAMES_PACKAGE")
    if configured:
        pytest.skip("a GraphFrames jar is configured in this environment")
    assert graphframes_available(spark) is False


@pytest.mark.parametrize("key,entry", [
    ("spark.jars.packages", "io.graphframes:graphframes-spark4_2.13:0.10.0"),
    ("spark.jars", "/opt/jars/graphframes-spark4_2.13-0.11.0.jar"),
])
def test_a_graphframes_jar_of_another_release_stops_the_session_naming_both(key, entry):
    from importlib.metadata import version

    from genie_assets.pipeline.resources import SparkResource
    from genie_assets.pipeline.resources.spark import GraphFramesMismatchError

    installed = version("graphframes-py")
    with pytest.raises(GraphFramesMismatchError) as refused:
        SparkResource(spark_config={"spark.master": "local[1]", key: entry}).spark_session
    assert entry in str(refused.value) and f"graphframes-py is {installed}" in str(refused.value)


def test_the_readme_names_a_graphframes_jar_of_the_installed_release():
    import re
    from pathlib import Path

    from genie_assets.pipeline.resources.spark import require_matching_graphframes

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    coordinate = re.search(r"GENIE_GRAPHFRAMES_PACKAGE=([^`\s]+)", readme).group(1)
    require_matching_graphframes({"spark.jars.packages": coordinate})
    require_matching_graphframes({"spark.jars": f"/jars/{coordinate.split(':')[1]}-"
                                                f"{coordinate.split(':')[2]}.jar"})
