"""Network biology on the filtered network: gene modules, regulons, pictures, Cytoscape exports.

The filtered network is small (top-k regulators per target: about 250,000 edges at 49,000 genes),
so these assets read it whole on one machine; the edge table itself never leaves Spark.
"""

from typing import Optional

import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from genie_assets.network.activity import (
    aucell,
    choose_group_column,
    group_means,
    heatmap_png,
    top_regulons,
    write_h5ad,
)
from genie_assets.network.exports import write_graphml, write_sif
from genie_assets.network.graph import graphframes_available
from genie_assets.network.modules import (
    DEFAULT_RESOLUTION,
    DEFAULT_SEED,
    GRAPHFRAMES_LABEL_PROPAGATION,
    LEIDEN,
    label_propagation_modules,
    leiden_modules,
    module_hubs,
)
from genie_assets.network.plots import markdown_image
from genie_assets.network.regulons import (
    DEFAULT_MIN_IMPORTANCE,
    DEFAULT_MIN_TARGETS,
    RegulonRule,
    regulon_edges,
    regulon_kind,
    write_adjacencies,
    write_gmt,
)
from genie_assets.network.view import (
    DEFAULT_N_HUBS,
    DEFAULT_TARGETS_PER_HUB,
    hub_subnetwork,
    layout,
    subnetwork_html,
    subnetwork_png,
)
from genie_assets.pipeline.assets.expression import expression_matrix
from genie_assets.pipeline.assets.network import filtered_network, gene_degrees
from genie_assets.pipeline.automation import FOLLOWS_UPSTREAM
from genie_assets.pipeline.layout import (
    CELL_ANNOTATIONS,
    EXPRESSION_MATRIX,
    FILTERED_NETWORK,
    GENE_DEGREES,
    GENE_MODULES,
    GENE_MODULES_LABEL_PROPAGATION,
    GRAPHML,
    NETWORK_PAGE,
    NETWORK_PICTURE,
    REGULON_ACTIVITY,
    REGULON_ACTIVITY_BY_GROUP,
    REGULON_ACTIVITY_H5AD,
    REGULON_ACTIVITY_PICTURE,
    REGULON_ADJACENCIES,
    REGULONS,
    REGULONS_GMT,
    SIF,
)
from genie_assets.pipeline.resources import ArtifactStore, SparkResource, driver_loss_explained


def read_network(store: ArtifactStore) -> pd.DataFrame:
    """The filtered network (Spark's part files) as one frame, in a fixed row order."""
    network = pd.read_parquet(store.local_copy(*FILTERED_NETWORK))
    return network.sort_values(["regulator", "target"]).reset_index(drop=True)


class ModuleConfig(Config):
    """Leiden community detection on the filtered network, taken as undirected and weighted."""

    resolution: float = DEFAULT_RESOLUTION
    seed: int = DEFAULT_SEED


@asset(group_name="network", deps=[filtered_network], kinds={"python", "igraph"},
       automation_condition=FOLLOWS_UPSTREAM)
def gene_modules(context: AssetExecutionContext, config: ModuleConfig, store: ArtifactStore,
                 spark: SparkResource) -> MaterializeResult:
    """Gene modules: Leiden communities of the filtered network (gene, module; 1 is the largest)."""
    network = read_network(store)
    found = leiden_modules(network, resolution=config.resolution, seed=config.seed)
    with store.writing(*GENE_MODULES) as temporary:
        found.assignments.to_parquet(temporary, index=False)
    sizes = found.sizes
    metadata = {
        "n_modules": len(sizes),
        "n_genes": len(found.assignments),
        "modularity": found.modularity,
        "largest_module_size": int(sizes.max()) if len(sizes) else 0,
        "module_sizes": MetadataValue.json({str(m): int(n) for m, n in sizes.items()}),
        "largest_modules": MetadataValue.md(module_hubs(network, found.assignments)
                                            .to_markdown(index=False)),
        "resolution": config.resolution,
        "seed": config.seed,
        "path": MetadataValue.path(store.location(*GENE_MODULES)),
    }
    engines = [LEIDEN]
    with driver_loss_explained("gene_modules"):
        # No JVM is started where no jar is configured: GraphFrames cannot be there.
        if spark.may_have_graphframes() and graphframes_available(spark.spark_session):
            propagated = label_propagation_modules(
                spark.spark_session.read.parquet(store.spark_path(*FILTERED_NETWORK)))
            with store.writing(*GENE_MODULES_LABEL_PROPAGATION) as temporary:
                propagated.to_parquet(temporary, index=False)
            engines.append(GRAPHFRAMES_LABEL_PROPAGATION)
            metadata["n_modules_label_propagation"] = int(propagated.module.nunique())
            metadata["label_propagation_path"] = MetadataValue.path(
                store.location(*GENE_MODULES_LABEL_PROPAGATION))
        else:
            context.log.info("GraphFrames jar not configured: label propagation skipped")
    metadata["engines"] = ", ".join(engines)
    return MaterializeResult(metadata=metadata)


class RegulonConfig(Config):
    """Which of a regulator's targets in the filtered network make its regulon."""

    min_targets: int = DEFAULT_MIN_TARGETS
    min_importance: float = DEFAULT_MIN_IMPORTANCE


@asset(group_name="network", deps=[filtered_network], kinds={"python", "pandas"},
       automation_condition=FOLLOWS_UPSTREAM)
def regulons(context: AssetExecutionContext, config: RegulonConfig, store: ArtifactStore
             ) -> MaterializeResult:
    """Regulons: each regulator's activated (TF(+)) and repressed (TF(-)) targets, as GMT sets."""
    rule = RegulonRule(min_targets=config.min_targets, min_importance=config.min_importance)
    edges = regulon_edges(read_network(store), rule)
    with store.writing(*REGULONS) as temporary:
        edges.to_parquet(temporary, index=False)
    with store.writing(*REGULONS_GMT) as temporary:
        n_regulons = write_gmt(edges, temporary, rule)
    with store.writing(*REGULON_ADJACENCIES) as temporary:
        write_adjacencies(edges, temporary)
    sizes = edges.groupby("regulon").size().sort_values(ascending=False, kind="mergesort")
    largest = sizes.head(10).rename("targets").reset_index()
    kinds = pd.Series([regulon_kind(name) for name in sizes.index], dtype=object)
    return MaterializeResult(metadata={
        "n_regulons": n_regulons,
        "n_activating_regulons": int((kinds == "activating").sum()),
        "n_repressing_regulons": int((kinds == "repressing").sum()),
        "n_edges": len(edges),
        "median_regulon_size": float(sizes.median()) if len(sizes) else 0.0,
        "largest_regulons": MetadataValue.md(largest.to_markdown(index=False)),
        "rule": rule.describe(),
        "gmt": MetadataValue.path(store.location(*REGULONS_GMT)),
        "adjacencies": MetadataValue.path(store.location(*REGULON_ADJACENCIES)),
        "path": MetadataValue.path(store.location(*REGULONS)),
    })


class RegulonActivityConfig(Config):
    """Which cell annotation groups the cells for the per-group picture: a column of the
    input's cell annotations (an AnnData .obs column, a loom column attribute, a samples
    table's column). With none named, `cell_type` where there is one, else the only
    annotation there is."""

    cell_groups: Optional[str] = None


@asset(group_name="network", deps=[expression_matrix, regulons], kinds={"python", "decoupler"},
       automation_condition=FOLLOWS_UPSTREAM)
def regulon_activity(context: AssetExecutionContext, config: RegulonActivityConfig,
                     store: ArtifactStore) -> MaterializeResult:
    """Regulon activity per cell (AUCell, decoupler's), with each cell group's mean activity
    and its most specific regulons."""
    # The expression folder is one artifact (in S3, a version and its pointer): read within it.
    folder = store.expression_dir()
    matrix = pd.read_parquet(folder / EXPRESSION_MATRIX[-1])
    annotations = pd.read_parquet(folder / CELL_ANNOTATIONS[-1])
    edges = pd.read_parquet(store.local_copy(*REGULONS))
    activity = aucell(matrix, edges)
    with store.writing(*REGULON_ACTIVITY) as temporary:
        activity.rename_axis("cell").to_parquet(temporary)
    described = (edges.groupby("regulon").agg(regulator=("regulator", "first"),
                                             n_targets=("target", "size")).reset_index()
                 .assign(kind=lambda frame: frame.regulon.map(regulon_kind)))
    with store.writing(*REGULON_ACTIVITY_H5AD) as temporary:
        write_h5ad(activity, annotations, described, temporary)
    metadata = {
        "n_cells": activity.shape[0],
        "n_regulons": activity.shape[1],
        "cell_annotations": ", ".join(annotations.columns) or "none",
        "h5ad": MetadataValue.path(store.location(*REGULON_ACTIVITY_H5AD)),
        "path": MetadataValue.path(store.location(*REGULON_ACTIVITY)),
    }
    column = choose_group_column(annotations, config.cell_groups)
    means = (group_means(activity, annotations[column]) if column and not activity.empty
             else pd.DataFrame(columns=activity.columns, dtype=float))
    # Written either way: the page and a later reader see this run's grouping, or none.
    with store.writing(*REGULON_ACTIVITY_BY_GROUP) as temporary:
        means.rename_axis(column or "group").to_parquet(temporary)
    if means.empty:
        context.log.info(
            "no per-group picture: " + ("no regulons" if activity.empty else
                                        "no cell annotations" if annotations.empty else
                                        f"name one of {list(annotations.columns)} as cell_groups"))
        return MaterializeResult(metadata=metadata)
    png = heatmap_png(means, f"Regulon activity (AUCell) by {column}")
    with store.writing(*REGULON_ACTIVITY_PICTURE) as temporary:
        temporary.write_bytes(png)
    top = top_regulons(means)
    metadata.update({
        "cell_groups": column,
        "n_groups": len(means),
        "activity_by_group": MetadataValue.md(markdown_image(png, "regulon activity by group")),
        "top_regulons_per_group": MetadataValue.md(
            top.pivot(index="rank", columns="group", values="regulon").to_markdown()),
        "picture_png": MetadataValue.path(store.location(*REGULON_ACTIVITY_PICTURE)),
    })
    return MaterializeResult(metadata=metadata)


def read_genes(store: ArtifactStore) -> pd.DataFrame:
    """Every gene of the network with its degrees and module."""
    degrees = pd.read_parquet(store.local_copy(*GENE_DEGREES))
    modules = pd.read_parquet(store.local_copy(*GENE_MODULES))
    return degrees.merge(modules, on="gene", how="left").sort_values("gene").reset_index(drop=True)


class NetworkViewConfig(Config):
    """How much of the network the pictures show."""

    n_hubs: int = DEFAULT_N_HUBS
    targets_per_hub: int = DEFAULT_TARGETS_PER_HUB
    title: Optional[str] = None


@asset(group_name="network", deps=[filtered_network, gene_degrees, gene_modules,
                                  regulon_activity],
       kinds={"python", "matplotlib"},
       automation_condition=FOLLOWS_UPSTREAM)
def network_view(context: AssetExecutionContext, config: NetworkViewConfig, store: ArtifactStore
                 ) -> MaterializeResult:
    """The hub subnetwork as a picture and as an interactive page that works offline (with the
    regulons' activity per cell group, where the cells are grouped)."""
    network = read_network(store)
    genes = read_genes(store)
    sub = hub_subnetwork(network, genes, config.n_hubs, config.targets_per_hub)
    positions = layout(sub)
    title = config.title or "genie-assets GENIE3 network"
    png = subnetwork_png(sub, positions, title)
    activity = pd.read_parquet(store.local_copy(*REGULON_ACTIVITY_BY_GROUP))
    # regulon_activity draws its picture in the same run as it writes non-empty means.
    heatmap = (store.local_copy(*REGULON_ACTIVITY_PICTURE).read_bytes()
               if not activity.empty else None)
    with store.writing(*NETWORK_PICTURE) as temporary:
        temporary.write_bytes(png)
    with store.writing(*NETWORK_PAGE) as temporary:
        temporary.write_text(subnetwork_html(sub, positions, network, title, activity, heatmap),
                             encoding="utf-8")
    return MaterializeResult(metadata={
        "network_picture": MetadataValue.md(markdown_image(png, "hub subnetwork")),
        "n_genes_drawn": len(sub.genes),
        "n_edges_drawn": len(sub.edges),
        "hubs": ", ".join(sub.hubs),
        "interactive_view": MetadataValue.path(store.location(*NETWORK_PAGE)),
        "picture_png": MetadataValue.path(store.location(*NETWORK_PICTURE)),
    })


@asset(group_name="network", deps=[filtered_network, gene_degrees, gene_modules],
       kinds={"python"},
       automation_condition=FOLLOWS_UPSTREAM)
def network_exports(context: AssetExecutionContext, store: ArtifactStore) -> MaterializeResult:
    """The filtered network for Cytoscape and Gephi: SIF, and GraphML with typed attributes."""
    network = read_network(store)
    genes = read_genes(store)
    with store.writing(*SIF) as temporary:
        write_sif(network, temporary)
    with store.writing(*GRAPHML) as temporary:
        write_graphml(network, genes, temporary)
    return MaterializeResult(metadata={
        "n_edges": len(network),
        "n_genes": len(genes),
        "sif": MetadataValue.path(store.location(*SIF)),
        "graphml": MetadataValue.path(store.location(*GRAPHML)),
    })
