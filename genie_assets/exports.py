"""Network exports users expect: arboreto/pySCENIC adjacency TSV and GraphML, streamed."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from genie_assets.files import atomic_path


def write_adjacency_tsv(network: DataFrame, output: Path) -> None:
    """`TF<TAB>target<TAB>importance`, strongest first, as arboreto and pySCENIC write it.

    Spark writes the sorted rows through one task into a single part file, which is then
    renamed into place; nothing is collected on the driver.
    """
    with atomic_path(output.with_suffix(".spark")) as folder:
        (network.select(F.col("regulator").alias("TF"), "target", "importance")
         .repartition(1)
         .sortWithinPartitions(F.col("importance").desc(), "TF", "target")
         .write.option("sep", "\t").option("header", True).csv(str(folder)))
        part = next(folder.glob("part-*.csv"))
        with atomic_path(output) as temporary:
            shutil.move(str(part), temporary)
    shutil.rmtree(output.with_suffix(".spark"), ignore_errors=True)


def write_graphml(network: DataFrame, output: Path) -> None:
    """A directed GraphML graph (Cytoscape, Gephi) with `importance` on each edge, streamed
    row by row from Spark."""
    genes = network.select(F.col("regulator").alias("gene")).union(
        network.select(F.col("target").alias("gene"))).distinct().orderBy("gene")
    with atomic_path(output) as temporary, open(temporary, "w") as handle:
        handle.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
            '  <key id="importance" for="edge" attr.name="importance" attr.type="double"/>\n'
            '  <graph id="genie3" edgedefault="directed">\n')
        for row in genes.toLocalIterator():
            handle.write(f"    <node id={quoteattr(row.gene)}/>\n")
        for row in network.toLocalIterator():
            handle.write(
                f"    <edge source={quoteattr(row.regulator)} target={quoteattr(row.target)}>"
                f'<data key="importance">{row.importance!r}</data></edge>\n')
        handle.write("  </graph>\n</graphml>\n")
