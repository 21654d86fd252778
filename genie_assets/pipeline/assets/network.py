"""From shards to a network: the merged edge table, its Spark filtering, degrees and hubs."""


import time
from typing import Optional

import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from genie_assets.network.edges import merge_shards
from genie_assets.network.exports import write_adjacency_tsv
from genie_assets.network.graph import (
    GRAPHFRAMES,
    SPARK_SQL,
    NetworkFilter,
    filter_network,
    graphframes_available,
    pagerank_and_components,
)
from genie_assets.network.graph import (
    gene_degrees as compute_gene_degrees,
)
from genie_assets.network.graph import (
    hub_genes as compute_hub_genes,
)
from genie_assets.network.plots import degree_distribution_png, hub_bar_png, markdown_image
from genie_assets.pipeline.automation import FOLLOWS_UPSTREAM
from genie_assets.pipeline.layout import (
    ADJACENCY_TSV,
    DEGREE_PICTURE,
    EDGE_TABLE,
    FILTERED_NETWORK,
    GENE_DEGREES,
    HUB_GENES,
    HUB_GENES_TSV,
    HUB_PICTURE,
    SPARK_CHECKPOINTS,
)
from genie_assets.pipeline.partitions import shard_partitions
from genie_assets.pipeline.resources import (
    ArtifactStore,
    Genie3Settings,
    SparkResource,
    driver_loss_explained,
)


@asset(group_name="network", deps=["importance_shards"], kinds={"pyarrow"},
       automation_condition=FOLLOWS_UPSTREAM)
def edge_table(context: AssetExecutionContext, store: ArtifactStore, genie3: Genie3Settings
               ) -> MaterializeResult:
    """Every shard's edges merged by streaming into one Parquet table (regulator, target,
    importance)."""
    started = time.perf_counter()
    with store.writing(*EDGE_TABLE) as output:
        summary = merge_shards(store.shard_files_local_copies(),
                               shard_partitions.get_partition_keys(), output,
                               input_fingerprint=store.expression_manifest()["fingerprint"],
                               params=genie3.params().as_dict())
    seconds = [r["compute_seconds"] for r in summary.shard_reports]
    return MaterializeResult(metadata={
        "n_edges": summary.n_edges,
        "n_targets": summary.n_targets,
        "n_regulators": summary.n_regulators,
        "n_shards": summary.n_shards,
        "importance_min": summary.importance_min,
        "importance_max": summary.importance_max,
        "importance_mean": summary.importance_mean,
        "shard_compute_seconds_total": round(sum(seconds), 3),
        "shard_compute_seconds_max": round(max(seconds), 3),
        "shard_compile_seconds_total": round(
            sum(r.get("compile_seconds", 0.0) for r in summary.shard_reports), 3),
        "input_fingerprint": summary.input_fingerprint,
        "genie3_parameters": MetadataValue.json(summary.params),
        "merge_seconds": round(time.perf_counter() - started, 3),
        "path": MetadataValue.path(store.location(*EDGE_TABLE)),
    })


class FilterConfig(Config):
    """Which edges make the network (applied in this order; leave a rule unset to skip it)."""

    regulators_only: Optional[list[str]] = None
    min_importance: Optional[float] = None
    top_k_per_target: Optional[int] = 5
    top_n: Optional[int] = None


@asset(group_name="network", deps=[edge_table], kinds={"spark"},
       automation_condition=FOLLOWS_UPSTREAM)
def filtered_network(
    context: AssetExecutionContext,
    config: FilterConfig,
    store: ArtifactStore,
    spark: SparkResource,
) -> MaterializeResult:
    """The network: the edge table filtered on Spark (top-k per target, threshold, top-N)."""
    with driver_loss_explained("filtered_network"):
        session = spark.spark_session
        rule = NetworkFilter(config.top_k_per_target, config.top_n, config.min_importance,
                             config.regulators_only)
        edges = session.read.parquet(store.spark_path(*EDGE_TABLE))
        network = filter_network(edges, rule).cache()
        with store.writing(*FILTERED_NETWORK) as temporary:
            network.write.parquet(str(temporary))
        with store.writing(*ADJACENCY_TSV) as temporary:
            write_adjacency_tsv(network, temporary)
        stats = network.agg({"importance": "min", "target": "count"}).collect()[0]
        n_edges = int(stats["count(target)"])
        network.unpersist()
        return MaterializeResult(metadata={
            "n_edges": n_edges,
            "n_edges_in_edge_table": int(edges.count()),
            "min_importance_kept": float(stats["min(importance)"] or 0.0),
            "rule": MetadataValue.json({k: v for k, v in vars(config).items()}),
            "path": MetadataValue.path(store.location(*FILTERED_NETWORK)),
            "adjacency_tsv": MetadataValue.path(store.location(*ADJACENCY_TSV)),
            **spark.where_it_runs(),
        })


@asset(group_name="network", deps=[filtered_network], kinds={"spark", "graphframes"},
       automation_condition=FOLLOWS_UPSTREAM)
def gene_degrees(
    context: AssetExecutionContext, store: ArtifactStore, spark: SparkResource
) -> MaterializeResult:
    """In-, out- and importance-weighted degrees of every gene of the network."""
    with driver_loss_explained("gene_degrees"):
        session = spark.spark_session
        engine = GRAPHFRAMES if graphframes_available(session) else SPARK_SQL
        if engine == SPARK_SQL:
            context.log.info("GraphFrames jar not configured: degrees computed with Spark SQL")
        network = session.read.parquet(store.spark_path(*FILTERED_NETWORK))
        degrees = compute_gene_degrees(network, engine)
        if engine == GRAPHFRAMES:
            structure = pagerank_and_components(network, str(store.path(*SPARK_CHECKPOINTS)))
            degrees = degrees.join(structure, "gene", "left")
        with store.writing(*GENE_DEGREES) as temporary:
            degrees.write.parquet(str(temporary))
        # One row per gene (tens of thousands at most): small enough to summarise on the driver.
        table = pd.read_parquet(store.path(*GENE_DEGREES))
        picture = store.path(*DEGREE_PICTURE)
        with store.writing(*DEGREE_PICTURE) as temporary:
            temporary.write_bytes(degree_distribution_png(table))
        metadata = {
            "engine": engine,
            "n_genes": len(table),
            "max_out_degree": int(table.out_degree.max()) if len(table) else 0,
            "max_in_degree": int(table.in_degree.max()) if len(table) else 0,
            "mean_out_degree_of_regulators": float(table.out_degree[table.out_degree > 0].mean())
            if (table.out_degree > 0).any() else 0.0,
            "degree_distribution": MetadataValue.md(
                markdown_image(picture.read_bytes(), "degree distribution (log-log)")),
            "degree_distribution_png": MetadataValue.path(store.location(*DEGREE_PICTURE)),
            "path": MetadataValue.path(store.location(*GENE_DEGREES)),
            **spark.where_it_runs(),
        }
        if engine == GRAPHFRAMES:
            metadata["n_components"] = int(table.component.nunique())
            metadata["top_pagerank_gene"] = str(table.sort_values("pagerank").gene.iloc[-1])
        else:
            metadata["pagerank_and_components"] = "skipped: needs the GraphFrames jar"
        return MaterializeResult(metadata=metadata)


class HubConfig(Config):
    n_hubs: int = 10


@asset(group_name="network", deps=[gene_degrees], kinds={"spark"},
       automation_condition=FOLLOWS_UPSTREAM)
def hub_genes(
    context: AssetExecutionContext,
    config: HubConfig,
    store: ArtifactStore,
    spark: SparkResource,
) -> MaterializeResult:
    """The top regulators by out-degree in the network: its hub genes."""
    with driver_loss_explained("hub_genes"):
        session = spark.spark_session
        degrees = session.read.parquet(store.spark_path(*GENE_DEGREES))
        hubs: pd.DataFrame = compute_hub_genes(degrees, config.n_hubs).toPandas()
        # Spark Connect puts its query metrics in attrs, which to_parquet cannot store.
        hubs.attrs.clear()
        with store.writing(*HUB_GENES) as temporary:
            hubs.to_parquet(temporary, index=False)
        with store.writing(*HUB_GENES_TSV) as temporary:
            hubs.to_csv(temporary, sep="\t", index=False)
        picture = store.path(*HUB_PICTURE)
        with store.writing(*HUB_PICTURE) as temporary:
            temporary.write_bytes(hub_bar_png(hubs))
        return MaterializeResult(metadata={
            "n_hubs": len(hubs),
            "top_hub": hubs["gene"].iloc[0] if len(hubs) else "",
            "top_hub_out_degree": int(hubs["out_degree"].iloc[0]) if len(hubs) else 0,
            "hubs": MetadataValue.md(hubs.to_markdown(index=False)),
            "hub_chart": MetadataValue.md(markdown_image(picture.read_bytes(), "hub genes")),
            "path": MetadataValue.path(store.location(*HUB_GENES)),
            **spark.where_it_runs(),
        })
