"""Network exports users expect: arboreto/pySCENIC adjacency TSV (streamed from Spark), SIF and
GraphML for Cytoscape and Gephi (from the filtered network, small enough for one machine)."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from genie_assets.engine.correlation import RHO_COLUMN
from genie_assets.errors import ExportError
from genie_assets.files import atomic_path, final_path
from genie_assets.inputs.expression import UNWRITABLE_NAME

# SIF's interaction type: by the sign of the edge's Spearman rho; "regulates" without one.
SIF_INTERACTION = "regulates"
SIF_ACTIVATES = "activates"
SIF_REPRESSES = "represses"


def write_adjacency_tsv(network: DataFrame, output: Path) -> None:
    """`TF<TAB>target<TAB>importance<TAB>rho`, strongest first, as arboreto writes it and
    pySCENIC adds rho (the Spearman correlation its later steps read the sign from).

    Spark writes the sorted rows through one task into a single part file, which is then
    renamed into place; nothing is collected on the driver.
    """
    with atomic_path(output.with_suffix(".spark")) as folder:
        signed = [RHO_COLUMN] if RHO_COLUMN in network.columns else []
        (network.select(F.col("regulator").alias("TF"), "target", "importance", *signed)
         .repartition(1)
         .sortWithinPartitions(F.col("importance").desc(), "TF", "target")
         # RFC 4180 quoting (a quote in a name doubled, as pandas and csv read it), not
         # Spark's default backslash escape.
         .write.option("sep", "\t").option("header", True).option("escape", '"')
         .csv(str(folder)))
        part = next(folder.glob("part-*.csv"))
        with atomic_path(output) as temporary:
            shutil.move(str(part), temporary)
    shutil.rmtree(output.with_suffix(".spark"), ignore_errors=True)


def refuse_unwritable_names(edges: pd.DataFrame, what: str, output: Path) -> None:
    """Tab-separated and XML exports cannot hold every name: refuse, naming the gene, rather
    than write a file whose columns shift or that no parser reads."""
    for column in ("regulator", "target"):
        names = pd.Series(edges[column].unique(), dtype=object)
        bad = names[names.str.contains(UNWRITABLE_NAME, regex=True)]
        if len(bad):
            raise ExportError(
                f"{final_path(output)}: cannot write gene {bad.iloc[0]!r} ({len(bad)} such "
                f"names) to {what}: a tab, line break or control character in a name would "
                "break the format; rename those genes in the expression matrix")


def write_sif(network: pd.DataFrame, output: Path) -> None:
    """Simple Interaction Format (Cytoscape): `regulator<TAB>activates<TAB>target` per edge
    (`represses` where its rho is negative; `regulates` for a network without rho)."""
    refuse_unwritable_names(network, "SIF", output)
    if RHO_COLUMN in network.columns:
        interactions = np.where(network[RHO_COLUMN] < 0, SIF_REPRESSES, SIF_ACTIVATES)
    else:
        interactions = np.full(len(network), SIF_INTERACTION)
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for regulator, interaction, target in zip(network["regulator"], interactions,
                                                  network["target"]):
            handle.write(f"{regulator}\t{interaction}\t{target}\n")


GRAPHML_NODE_ATTRIBUTES = {"module": "int", "in_degree": "int", "out_degree": "int",
                           "degree": "int", "weighted_out_degree": "double"}


def write_graphml(network: pd.DataFrame, genes: pd.DataFrame, output: Path) -> None:
    """A directed GraphML graph (Cytoscape, Gephi) with typed attributes: `importance` (and
    `rho`, its sign) on each edge, and on each gene the columns of `genes` named in
    GRAPHML_NODE_ATTRIBUTES."""
    refuse_unwritable_names(network, "GraphML", output)
    attributes = {name: kind for name, kind in GRAPHML_NODE_ATTRIBUTES.items()
                  if name in genes.columns}
    by_gene = genes.set_index("gene")
    names = sorted(set(network["regulator"]) | set(network["target"]))
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
        for name, kind in attributes.items():
            handle.write(f'  <key id="{name}" for="node" attr.name="{name}" '
                         f'attr.type="{kind}"/>\n')
        edge_attributes = ["importance",
                           *([RHO_COLUMN] if RHO_COLUMN in network.columns else [])]
        for name in edge_attributes:
            handle.write(f'  <key id="{name}" for="edge" attr.name="{name}" '
                         'attr.type="double"/>\n')
        handle.write('  <graph id="genie3" edgedefault="directed">\n')
        for gene in names:
            data = ""
            if gene in by_gene.index:
                row = by_gene.loc[gene]
                data = "".join(f'<data key="{name}">{_graphml_value(row[name], kind)}</data>'
                               for name, kind in attributes.items() if pd.notna(row[name]))
            handle.write(f"    <node id={quoteattr(gene)}>{data}</node>\n")
        for row in network[["regulator", "target", *edge_attributes]].itertuples(index=False):
            data = "".join(f'<data key="{name}">{float(getattr(row, name))!r}</data>'
                           for name in edge_attributes)
            handle.write(f"    <edge source={quoteattr(row.regulator)} "
                         f"target={quoteattr(row.target)}>{data}</edge>\n")
        handle.write("  </graph>\n</graphml>\n")


def _graphml_value(value, kind: str) -> str:
    return str(int(value)) if kind == "int" else repr(float(value))
