"""Real blood cells: scanpy's pbmc68k_reduced (700 PBMCs, ten annotated cell types) through the
pipeline as a user runs it, with pySCENIC's human TF list (allTFs_hg38.txt, 59 of its names are
genes here); known lineage regulators' regulons must be most active in the cell types the
literature puts them in.

The checks, and why (each a textbook lineage factor whose regulon should mark its lineage):
- SPI1 (PU.1), the myeloid master regulator (Scott et al. 1994, Science 265:1573): its
  activating regulon is most active in CD14+ monocytes.
- SPIB, a B-cell (and plasmacytoid DC) ETS factor (Su et al. 1997, EMBO J 16:7118): in CD19+
  B cells.
- GATA2, which keeps haematopoietic stem and progenitor cells (Tsai et al. 1994, Nature
  371:221): in CD34+ progenitors.
- IRF8, required for monocyte and dendritic-cell development (Tamura et al. 2005, J Immunol
  174:2573): in the myeloid groups, dendritic cells or CD14+ monocytes.
- GATA3, the T-cell factor that NK cells also need to mature (Ting et al. 1996, Nature
  384:474; Samson et al. 2003, Immunity 19:701): in a T or NK group.
"""

import pandas as pd
import pytest

from genie_assets.pipeline.layout import CELL_ANNOTATIONS, REGULON_ACTIVITY_BY_GROUP, REGULONS
from genie_assets.pipeline.resources import Genie3Settings
from genie_assets_tests.helpers import (
    SHARD_KEYS,
    failure_messages,
    local_resources,
    new_instance,
    run,
)
from genie_assets_tests.real_data import human_tfs, pbmc68k_reduced

LINEAGE = {
    "SPI1(+)": {"CD14+ Monocyte"},
    "SPIB(+)": {"CD19+ B"},
    "GATA2(+)": {"CD34+"},
    "IRF8(+)": {"Dendritic", "CD14+ Monocyte"},
    "GATA3(+)": {"CD4+/CD25 T Reg", "CD4+/CD45RA+/CD25- Naive T", "CD4+/CD45RO+ Memory",
                 "CD8+ Cytotoxic T", "CD8+/CD45RA+ Naive Cytotoxic", "CD56+ NK"},
}


@pytest.fixture(scope="module")
def pbmc_run(tmp_path_factory, spark):
    try:
        path, regulators = pbmc68k_reduced(), human_tfs()
    except OSError as error:
        pytest.skip(str(error))
    resources = {**local_resources(tmp_path_factory.mktemp("pbmc")),
                 "genie3": Genie3Settings(method="GBM")}
    instance = new_instance()
    config = {"ops": {"expression_matrix": {"config": {
        "path": str(path), "use_raw": True, "regulators_path": str(regulators)}}}}
    result = run(["expression_matrix"], resources, instance, run_config=config)
    assert result.success, failure_messages(result)
    for key in SHARD_KEYS:
        result = run(["importance_shards"], resources, instance, partition_key=key)
        assert result.success, failure_messages(result)
    result = run(["edge_table", "filtered_network", "regulons", "regulon_activity"], resources,
                 instance, run_config={"ops": {"regulon_activity": {
                     "config": {"cell_groups": "bulk_labels"}}}})
    assert result.success, failure_messages(result)
    return resources["store"], result


def test_the_cells_types_come_from_the_files_own_annotations(pbmc_run):
    store, _ = pbmc_run
    annotations = pd.read_parquet(store.path(*CELL_ANNOTATIONS))
    assert len(annotations) == 700
    assert {"bulk_labels", "louvain", "phase"} <= set(annotations.columns)
    assert "n_counts" not in annotations.columns, "a measurement, not a label"
    assert annotations.bulk_labels.nunique() == 10


def test_lineage_regulators_regulons_are_most_active_in_their_lineages(pbmc_run):
    store, result = pbmc_run
    means = pd.read_parquet(store.path(*REGULON_ACTIVITY_BY_GROUP))
    regulons = pd.read_parquet(store.path(*REGULONS))
    assert means.index.name == "bulk_labels" and len(means) == 10
    for regulon, lineage in LINEAGE.items():
        assert regulon in means.columns, f"{regulon} has too few targets to be a regulon"
        assert means[regulon].idxmax() in lineage, (regulon, means[regulon].sort_values())
        assert (regulons.regulon == regulon).sum() >= 10
    metadata = result.asset_materializations_for_node("regulon_activity")[0].metadata
    assert metadata["n_groups"].value == 10
    assert "GATA2(+)" in metadata["top_regulons_per_group"].value  # CD34+ progenitors
