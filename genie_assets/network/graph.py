"""Network analysis on Spark: filtering the edge table, degrees and hub genes.

Degrees come from GraphFrames when its JVM jar is on the session's classpath, otherwise from
Spark SQL with GraphFrames' definitions (inDegree = edges into a gene, outDegree = edges out of
it); both give the same figures and the caller records which engine ran.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

GRAPHFRAMES = "graphframes"
SPARK_SQL = "spark-sql"


@dataclasses.dataclass(frozen=True)
class NetworkFilter:
    """Which edges of the full table make the network.

    Applied in this order: regulators_only, min_importance, top_k_per_target, top_n. Ties are
    broken by regulator then target name, so exactly k edges are kept per target (fewer when the
    target has fewer regulators).
    """

    top_k_per_target: Optional[int] = None
    top_n: Optional[int] = None
    min_importance: Optional[float] = None
    regulators_only: Optional[Sequence[str]] = None


def filter_network(edges: DataFrame, rule: NetworkFilter) -> DataFrame:
    selected = edges
    if rule.regulators_only is not None:
        selected = selected.where(F.col("regulator").isin(list(rule.regulators_only)))
    if rule.min_importance is not None:
        selected = selected.where(F.col("importance") >= F.lit(rule.min_importance))
    if rule.top_k_per_target is not None:
        by_target = Window.partitionBy("target").orderBy(
            F.col("importance").desc(), F.col("regulator").asc()
        )
        selected = (
            selected.withColumn("_rank", F.row_number().over(by_target))
            .where(F.col("_rank") <= rule.top_k_per_target)
            .drop("_rank")
        )
    if rule.top_n is not None:
        selected = selected.orderBy(
            F.col("importance").desc(), F.col("regulator").asc(), F.col("target").asc()
        ).limit(rule.top_n)
    return selected


def graphframes_available(spark: SparkSession) -> bool:
    """Whether GraphFrames' JVM classes are on this session's classpath."""
    try:
        spark.sparkContext._jvm.java.lang.Class.forName(  # noqa: SLF001 - py4j gateway
            "org.graphframes.GraphFrame", False,
            spark.sparkContext._jvm.Thread.currentThread().getContextClassLoader(),
        )
        return True
    except Exception:  # py4j raises its own error types for a missing class
        return False


def gene_degrees(edges: DataFrame, engine: str) -> DataFrame:
    """Per gene: in_degree, out_degree, degree and importance-weighted in/out degrees."""
    if engine == GRAPHFRAMES:
        from graphframes import GraphFrame

        vertices = (edges.select(F.col("regulator").alias("id"))
                    .union(edges.select(F.col("target").alias("id"))).distinct())
        graph = GraphFrame(vertices, edges.withColumnRenamed("regulator", "src")
                           .withColumnRenamed("target", "dst"))
        in_degrees = graph.inDegrees.withColumnRenamed("inDegree", "in_degree")
        out_degrees = graph.outDegrees.withColumnRenamed("outDegree", "out_degree")
    else:
        vertices = (edges.select(F.col("regulator").alias("id"))
                    .union(edges.select(F.col("target").alias("id"))).distinct())
        in_degrees = edges.groupBy(F.col("target").alias("id")).agg(F.count("*").alias("in_degree"))
        out_degrees = edges.groupBy(F.col("regulator").alias("id")).agg(
            F.count("*").alias("out_degree"))
    weighted_in = edges.groupBy(F.col("target").alias("id")).agg(
        F.sum("importance").alias("weighted_in_degree"))
    weighted_out = edges.groupBy(F.col("regulator").alias("id")).agg(
        F.sum("importance").alias("weighted_out_degree"))
    degrees = (
        vertices.join(in_degrees, "id", "left")
        .join(out_degrees, "id", "left")
        .join(weighted_in, "id", "left")
        .join(weighted_out, "id", "left")
        .fillna(0, subset=["in_degree", "out_degree"])
        .fillna(0.0, subset=["weighted_in_degree", "weighted_out_degree"])
        .withColumnRenamed("id", "gene")
    )
    return degrees.select(
        "gene",
        F.col("in_degree").cast("long"),
        F.col("out_degree").cast("long"),
        (F.col("in_degree") + F.col("out_degree")).cast("long").alias("degree"),
        F.col("weighted_in_degree").cast("double"),
        F.col("weighted_out_degree").cast("double"),
    )


def hub_genes(degrees: DataFrame, n_hubs: int) -> DataFrame:
    """The top regulators by out-degree (then weighted out-degree, then name)."""
    ranked = degrees.where(F.col("out_degree") > 0).orderBy(
        F.col("out_degree").desc(), F.col("weighted_out_degree").desc(), F.col("gene").asc()
    )
    return ranked.limit(n_hubs).select(
        "gene", "out_degree", "weighted_out_degree", "in_degree", "degree"
    )


def pagerank_and_components(edges: DataFrame, checkpoint_dir: str) -> DataFrame:
    """GraphFrames only: PageRank (reset probability 0.15, 10 iterations) and weakly connected
    component of each gene, as columns gene, pagerank, component."""
    from graphframes import GraphFrame

    edges.sparkSession.sparkContext.setCheckpointDir(checkpoint_dir)
    vertices = (edges.select(F.col("regulator").alias("id"))
                .union(edges.select(F.col("target").alias("id"))).distinct())
    graph = GraphFrame(vertices, edges.withColumnRenamed("regulator", "src")
                       .withColumnRenamed("target", "dst"))
    ranks = graph.pageRank(resetProbability=0.15, maxIter=10).vertices
    components = graph.connectedComponents()
    return (ranks.join(components, "id")
            .select(F.col("id").alias("gene"), "pagerank", "component"))
