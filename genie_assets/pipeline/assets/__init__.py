"""Thin asset declarations; the work lives in the engine, the shard program and resources."""

from genie_assets.pipeline.assets.checks import ALL_CHECKS
from genie_assets.pipeline.assets.conditions import (
              condition_networks,
              condition_shards,
              differential_network,
)
from genie_assets.pipeline.assets.exploration import (
              gene_modules,
              network_exports,
              network_view,
              regulon_activity,
              regulons,
)
from genie_assets.pipeline.assets.expression import expression_matrix
from genie_assets.pipeline.assets.network import (
              edge_table,
              filtered_network,
              gene_degrees,
              hub_genes,
)
from genie_assets.pipeline.assets.reports import benchmark_report, network_evaluation
from genie_assets.pipeline.assets.shards import importance_shards

ALL_ASSETS = [expression_matrix, importance_shards, edge_table, filtered_network,
              gene_degrees, hub_genes, gene_modules, regulons, regulon_activity, network_view,
              network_exports, network_evaluation, benchmark_report, condition_shards,
              condition_networks, differential_network]

__all__ = ["ALL_ASSETS", "ALL_CHECKS", "benchmark_report", "condition_networks",
           "condition_shards", "differential_network", "edge_table", "expression_matrix",
           "filtered_network", "gene_degrees", "gene_modules", "hub_genes", "importance_shards",
           "network_evaluation", "network_exports", "network_view", "regulon_activity",
           "regulons"]
