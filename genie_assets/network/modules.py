"""Gene modules: communities of the filtered network found by the Leiden algorithm.

The filtered network (top-k regulators per target) is small even at genome scale (49,000 genes ×
k = 5 is about 250,000 edges), so modules are found on one machine with `leidenalg` on igraph.
Edges are taken as undirected (a module is a group of co-regulated genes, whichever way an edge
points) and a pair with edges both ways weighs the sum of the two importances.

Leiden's result depends on the order in which it meets the vertices, so the graph is always built
in gene-name order and the modules are then numbered by size (largest first, ties by their first
gene's name): the same network and seed give the same modules whatever order its rows come in.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pandas as pd

LEIDEN = "leiden"
GRAPHFRAMES_LABEL_PROPAGATION = "graphframes-label-propagation"
DEFAULT_RESOLUTION = 1.0
DEFAULT_SEED = 0


@dataclasses.dataclass(frozen=True)
class ModuleResult:
    """Each gene's module (1 = the largest), and how good the partition is."""

    assignments: pd.DataFrame  # gene, module
    modularity: float
    resolution: float
    seed: int

    @property
    def sizes(self) -> pd.Series:
        """Genes per module, by module number."""
        return self.assignments.groupby("module").size()


def undirected_weights(network: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(genes in name order, edge endpoints as index pairs, summed weights), one row per
    unordered pair, sorted by the pair: an order-free description of the graph."""
    genes = sorted(set(network["regulator"]) | set(network["target"]))
    index = {gene: position for position, gene in enumerate(genes)}
    source = network["regulator"].map(index).to_numpy()
    target = network["target"].map(index).to_numpy()
    low, high = np.minimum(source, target), np.maximum(source, target)
    pairs = pd.DataFrame({"low": low, "high": high,
                          "weight": network["importance"].to_numpy(dtype=np.float64)})
    pairs = pairs[pairs.low != pairs.high]
    # Summed in a fixed order (sorted pairs, then weights) so float addition is order-free too.
    pairs = pairs.sort_values(["low", "high", "weight"], kind="mergesort")
    summed = pairs.groupby(["low", "high"], sort=True)["weight"].sum()
    endpoints = np.array(summed.index.to_list(), dtype=np.int64).reshape(-1, 2)
    return genes, endpoints, summed.to_numpy()


def leiden_modules(network: pd.DataFrame, *, resolution: float = DEFAULT_RESOLUTION,
                   seed: int = DEFAULT_SEED) -> ModuleResult:
    """Leiden communities (RB configuration model at `resolution`; 1.0 is modularity) of a
    regulator → target network with `importance` weights, iterated until stable."""
    import igraph as ig
    import leidenalg

    if resolution <= 0:
        raise ValueError(f"the Leiden resolution must be positive, got {resolution}")
    genes, endpoints, weights = undirected_weights(network)
    if not genes:
        return ModuleResult(pd.DataFrame({"gene": pd.Series([], dtype=str),
                                          "module": pd.Series([], dtype=np.int32)}),
                            0.0, resolution, seed)
    graph = ig.Graph(n=len(genes), edges=endpoints.tolist(), directed=False)
    graph.es["weight"] = weights.tolist()
    partition = leidenalg.find_partition(
        graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
        resolution_parameter=resolution, seed=seed, n_iterations=-1)
    membership = canonical_labels(genes, partition.membership)
    modularity = graph.modularity(membership, weights="weight") if len(weights) else 0.0
    assignments = pd.DataFrame({"gene": genes, "module": np.asarray(membership, dtype=np.int32)})
    return ModuleResult(assignments, float(modularity), resolution, seed)


def canonical_labels(genes: Sequence[str], membership: Sequence[int]) -> list[int]:
    """Renumber communities 1, 2, ... by size (largest first), ties by their first gene's name."""
    members: dict[int, list[str]] = {}
    for gene, community in zip(genes, membership):
        members.setdefault(community, []).append(gene)
    order = sorted(members, key=lambda c: (-len(members[c]), min(members[c])))
    number = {community: rank + 1 for rank, community in enumerate(order)}
    return [number[community] for community in membership]


def module_hubs(network: pd.DataFrame, assignments: pd.DataFrame, n_modules: int = 5,
                n_hubs: int = 3) -> pd.DataFrame:
    """The largest modules with their hub regulators: most targets inside the module (then
    summed importance, then name)."""
    module_of = assignments.set_index("gene")["module"]
    inside = network.assign(source_module=network["regulator"].map(module_of),
                            target_module=network["target"].map(module_of))
    inside = inside[inside.source_module == inside.target_module]
    sizes = assignments.groupby("module").size()
    rows = []
    for module in sorted(sizes.index)[:n_modules]:
        edges = inside[inside.source_module == module]
        ranked = (edges.groupby("regulator")
                  .agg(targets=("target", "size"), weight=("importance", "sum"))
                  .reset_index()
                  .sort_values(["targets", "weight", "regulator"],
                               ascending=[False, False, True]))
        hubs = ", ".join(f"{r.regulator} ({r.targets})" for r in ranked.head(n_hubs).itertuples())
        rows.append({"module": int(module), "genes": int(sizes[module]),
                     "hub_regulators": hubs or "none"})
    return pd.DataFrame(rows, columns=["module", "genes", "hub_regulators"])


def label_propagation_modules(network_spark, max_iter: int = 5) -> pd.DataFrame:
    """GraphFrames' label propagation on a Spark network: gene, module (numbered like
    Leiden's). Needs the GraphFrames jar on the session's classpath."""
    from graphframes import GraphFrame
    from pyspark.sql import functions as F

    vertices = (network_spark.select(F.col("regulator").alias("id"))
                .union(network_spark.select(F.col("target").alias("id"))).distinct())
    graph = GraphFrame(vertices, network_spark.withColumnRenamed("regulator", "src")
                       .withColumnRenamed("target", "dst"))
    labels = graph.labelPropagation(maxIter=max_iter).toPandas().sort_values("id")
    genes = labels["id"].astype(str).tolist()
    return pd.DataFrame({"gene": genes,
                         "module": np.asarray(canonical_labels(genes, labels["label"].tolist()),
                                              dtype=np.int32)})
