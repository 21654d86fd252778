"""Spark filtering, degrees and hubs on small graphs whose answers are known."""

import json
import os
import subprocess

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance

from genie_assets.network.graph import (
    GRAPHFRAMES,
    SPARK_SQL,
    NetworkFilter,
    filter_network,
    gene_degrees,
    graphframes_available,
    hub_genes,
)
from genie_assets.pipeline.layout import GENE_DEGREES
from genie_assets_tests.helpers import DAGSTER, GRAPHFRAMES_MISSING, REPO

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
        pytest.skip(GRAPHFRAMES_MISSING)
    by_graphframes = gene_degrees(edges, GRAPHFRAMES).toPandas().sort_values("gene")
    by_sql = gene_degrees(edges, SPARK_SQL).toPandas().sort_values("gene")
    pd.testing.assert_frame_equal(by_graphframes.reset_index(drop=True),
                                  by_sql.reset_index(drop=True))


def test_the_session_takes_graphframes_from_the_jar_cache_of_its_release(tmp_path):
    from importlib.metadata import version

    from genie_assets.pipeline.resources.spark import local_spark_config
    from genie_assets.pipeline.spark_jars import graphframes_set

    jar_set = graphframes_set(version("graphframes-py"))
    folder = tmp_path / jar_set.folder_name
    folder.mkdir()
    names = [f"{coordinate.split(':')[1]}-{jar_set.version}.jar"
             for coordinate in jar_set.coordinates]
    for name in names:
        (folder / name).write_bytes(b"PK")
    (folder / "manifest.json").write_text(json.dumps(
        {"coordinates": list(jar_set.coordinates), "jars": names}))
    config = local_spark_config(graphframes=(None, None), jars_dir=str(tmp_path))
    assert config["spark.jars"].split(",") == [str(folder / name) for name in names]
    # Another release's cache, or none, gives no jar: Spark SQL computes the degrees.
    (folder / "manifest.json").write_text(json.dumps(
        {"coordinates": [c.replace(jar_set.version, "0.11.0") for c in jar_set.coordinates],
         "jars": names}))
    assert "spark.jars" not in local_spark_config(graphframes=(None, None),
                                                  jars_dir=str(tmp_path))
    # A jar of the user's own replaces the cache.
    assert local_spark_config(graphframes=(None, "/mine/gf.jar"),
                              jars_dir=str(folder))["spark.jars"] == "/mine/gf.jar"


def test_without_graphframes_jars_the_degrees_come_from_spark_sql(toy_run, tmp_path):
    """The jars hidden (an empty jar cache, none configured): gene_degrees, run through the
    CLI, computes with Spark SQL, says so, and gives the same degrees."""
    from genie_assets_tests.test_spark_cluster import sorted_table, without_the_spark_tables

    local_store, _, _ = toy_run
    artifacts = without_the_spark_tables(local_store, tmp_path / "artifacts")
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("GENIE_GRAPHFRAMES_JAR", "GENIE_GRAPHFRAMES_PACKAGE")}
    env.update(DAGSTER_HOME=str(home), GENIE_ARTIFACTS_DIR=str(artifacts),
               GENIE_JARS_DIR=str(tmp_path / "no-jars"))
    done = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "genie_assets.definitions",
         "--select", "filtered_network,gene_degrees"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    metadata = DagsterInstance.from_config(str(home)).get_latest_materialization_event(
        AssetKey("gene_degrees")).asset_materialization.metadata
    assert metadata["engine"].value == SPARK_SQL
    assert metadata["pagerank_and_components"].value == "skipped: needs the GraphFrames jar"
    by_sql = sorted_table(artifacts.joinpath(*GENE_DEGREES))
    expected = sorted_table(local_store.path(*GENE_DEGREES))[list(by_sql.columns)]
    pd.testing.assert_frame_equal(by_sql, expected, check_exact=False, rtol=1e-9)


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


def test_the_docs_name_a_graphframes_jar_of_the_installed_release():
    import re
    from pathlib import Path

    from genie_assets.pipeline.resources.spark import require_matching_graphframes

    readme = (Path(__file__).resolve().parents[1] / "docs" / "spark.md").read_text()
    coordinate = re.search(r"GENIE_GRAPHFRAMES_PACKAGE=([^`\s]+)", readme).group(1)
    require_matching_graphframes({"spark.jars.packages": coordinate})
    require_matching_graphframes({"spark.jars": f"/jars/{coordinate.split(':')[1]}-"
                                                f"{coordinate.split(':')[2]}.jar"})
