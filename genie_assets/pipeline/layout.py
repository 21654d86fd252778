"""Where every stored artifact lives, relative to the artifacts' root (a local folder, or
s3://bucket/prefix/ in the same layout): the one module of the pipeline that spells a file name.

An artifact is a tuple of path parts, as `ArtifactStore.path(*parts)` takes it. The names of
the expression channel and of a shard's output are the shard contract's
(`genie_assets.shard.contract`), which the shard program shares with the pipeline.
"""

from __future__ import annotations

from genie_assets.shard.contract import (
    EXPRESSION_FILE,
    MANIFEST_FILE,
    REGULATORS_FILE,
    edges_file,
    report_file,
)

Artifact = tuple[str, ...]

# The validated input, as the shards' expression channel reads it.
EXPRESSION: Artifact = ("expression",)
EXPRESSION_MATRIX: Artifact = (*EXPRESSION, EXPRESSION_FILE)
EXPRESSION_REGULATORS: Artifact = (*EXPRESSION, REGULATORS_FILE)
EXPRESSION_MANIFEST: Artifact = (*EXPRESSION, MANIFEST_FILE)
GOLD_STANDARD_FILE = "gold_standard.tsv"
GOLD_STANDARD: Artifact = (*EXPRESSION, GOLD_STANDARD_FILE)
# What each sample (cell) is: cell type, condition, ... (no shard reads it).
CELL_ANNOTATIONS_FILE = "cell_annotations.parquet"
CELL_ANNOTATIONS: Artifact = (*EXPRESSION, CELL_ANNOTATIONS_FILE)

# Which samples make each condition (expression_matrix's `conditions`), when there are any.
CONDITIONS_FILE = "conditions.json"
CONDITION_SAMPLES: Artifact = (*EXPRESSION, CONDITIONS_FILE)


def condition_root(condition: str) -> Artifact:
    """Where a condition's own artifacts live, in this same layout: its expression channel,
    shards, edge table and filtered network."""
    return ("conditions", condition)


DIFFERENTIAL_NETWORK: Artifact = ("differential", "differential_network.parquet")
REWIRING: Artifact = ("differential", "rewiring.parquet")
REWIRING_PICTURE: Artifact = ("differential", "rewiring.png")

# One edges file and one report per shard partition, named by its key.
SHARDS: Artifact = ("shards",)
SHARD_NAME_PREFIX = "shard-"
SHARD_EDGES_SUFFIX = edges_file("")
SHARD_REPORT_SUFFIX = report_file("")


def shard_edges(partition_key: str) -> Artifact:
    return (*SHARDS, edges_file(partition_key))


def shard_report(partition_key: str) -> Artifact:
    return (*SHARDS, report_file(partition_key))


EDGE_TABLE: Artifact = ("edges", "edge_table.parquet")

FILTERED_NETWORK: Artifact = ("network", "filtered_network.parquet")
ADJACENCY_TSV: Artifact = ("exports", "adjacency.tsv")
GENE_DEGREES: Artifact = ("network", "gene_degrees.parquet")
DEGREE_PICTURE: Artifact = ("network", "degree_distribution.png")
SPARK_CHECKPOINTS: Artifact = ("spark-checkpoints",)
HUB_GENES: Artifact = ("network", "hub_genes.parquet")
HUB_GENES_TSV: Artifact = ("network", "hub_genes.tsv")
HUB_PICTURE: Artifact = ("network", "hub_genes.png")

GENE_MODULES: Artifact = ("network", "gene_modules.parquet")
GENE_MODULES_LABEL_PROPAGATION: Artifact = ("network", "gene_modules_label_propagation.parquet")
REGULONS: Artifact = ("regulons", "regulons.parquet")
REGULONS_GMT: Artifact = ("exports", "regulons.gmt")
REGULON_ADJACENCIES: Artifact = ("exports", "regulons_adjacencies.tsv")
REGULON_ACTIVITY: Artifact = ("regulons", "regulon_activity.parquet")
REGULON_ACTIVITY_BY_GROUP: Artifact = ("regulons", "regulon_activity_by_group.parquet")
REGULON_ACTIVITY_PICTURE: Artifact = ("regulons", "regulon_activity_by_group.png")
REGULON_ACTIVITY_H5AD: Artifact = ("exports", "regulon_activity.h5ad")
NETWORK_PICTURE: Artifact = ("network", "hub_subnetwork.png")
NETWORK_PAGE: Artifact = ("exports", "network_view.html")
SIF: Artifact = ("exports", "filtered_network.sif")
GRAPHML: Artifact = ("exports", "filtered_network.graphml")

PRECISION_RECALL_PICTURE: Artifact = ("reports", "precision_recall.png")

# Beside the artifacts: a shard run's scratch folder names its Dagster owner here.
SCRATCH_OWNER_FILE = "owner.json"
# In the jar cache (not an artifact): what one set of jars holds.
JAR_SET_MANIFEST = "manifest.json"
