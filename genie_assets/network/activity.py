"""Regulon activity per cell: AUCell scores, and which regulons mark which cell groups.

AUCell (Aibar et al. 2017, pySCENIC's third step) ranks each cell's genes by expression and
scores a regulon by the area under its recovery curve within the top 5 % of that ranking: how
many of the regulon's targets are among the cell's most expressed genes. The scores come from
decoupler's implementation (`decoupler.mt.aucell`), not a copy of it here.

A group (a cell type, a cluster) is marked by a regulon when the group's mean activity stands
out from the other groups': its specificity is that mean's z-score across the groups' means.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from genie_assets.files import atomic_path
from genie_assets.network.plots import png_bytes, pyplot

# AUCell's cut: a regulon is scored within each cell's top 5 % of genes (pySCENIC's
# auc_threshold, decoupler's default), but at least 20 genes: on a small panel 5 % is a handful
# of genes, and a regulon's score then takes only a few values.
TOP_FRACTION = 0.05
MIN_TOP_GENES = 20
# A heatmap row per regulon stops being readable beyond this: the most variable are drawn.
MAX_HEATMAP_REGULONS = 40
TOP_REGULONS_PER_GROUP = 5
NO_GROUP = "(none)"


def top_genes(n_genes: int) -> int:
    """How many of a cell's most expressed genes AUCell's recovery curve covers."""
    return max(int(np.ceil(TOP_FRACTION * n_genes)), min(n_genes, MIN_TOP_GENES), 2)


def aucell(matrix: pd.DataFrame, regulon_edges: pd.DataFrame,
           n_top_genes: Optional[int] = None) -> pd.DataFrame:
    """Cells × regulons AUCell scores in [0, 1], regulons in name order. `matrix` is cells ×
    genes; `regulon_edges` has columns regulon and target (as `regulons.regulon_edges` gives);
    `n_top_genes` defaults to `top_genes` of the matrix's genes."""
    import decoupler

    if regulon_edges.empty:
        return pd.DataFrame(index=matrix.index, dtype=np.float64)
    net = pd.DataFrame({"source": regulon_edges["regulon"].to_numpy(),
                        "target": regulon_edges["target"].to_numpy()})
    # Every regulon was already held to its rule's minimum size; decoupler's own minimum
    # (tmin) would drop regulons the GMT lists.
    scores, _ = decoupler.mt.aucell(matrix.astype(np.float64), net, tmin=1, empty=False,
                                    n_up=n_top_genes or top_genes(matrix.shape[1]))
    scores = scores.reindex(index=matrix.index)
    return scores[sorted(scores.columns)].astype(np.float64)


def compile_aucell() -> float:
    """Has decoupler compile (or load) its AUCell kernel, on a matrix of two cells; the seconds
    it took. decoupler caches the kernel beside its own code, so an install's first call pays
    the compile (18 s on a 2-core laptop): `make setup` and the demo call this ahead, so that
    `regulon_activity` does not."""
    started = time.perf_counter()
    genes = [f"g{i}" for i in range(4)]
    matrix = pd.DataFrame(np.arange(8.0).reshape(2, 4), index=["c0", "c1"], columns=genes)
    aucell(matrix, pd.DataFrame({"regulon": ["r", "r"], "target": genes[:2]}), n_top_genes=2)
    return time.perf_counter() - started


def group_means(activity: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Groups × regulons: each group's mean activity (cells with no group left out), groups in
    name order."""
    labelled = groups.reindex(activity.index)
    kept = labelled.notna()
    return activity[kept.to_numpy()].groupby(labelled[kept].to_numpy()).mean().sort_index()


def specificity(means: pd.DataFrame) -> pd.DataFrame:
    """Groups × regulons: each group's mean as a z-score over the groups' means of that regulon
    (0 where a regulon's means are all equal)."""
    spread = means.std(axis=0, ddof=0)
    return ((means - means.mean(axis=0)) / spread.where(spread > 0)).fillna(0.0)


def top_regulons(means: pd.DataFrame, n: int = TOP_REGULONS_PER_GROUP) -> pd.DataFrame:
    """group, rank, regulon, specificity, mean_activity: each group's `n` most specific
    regulons (ties by name)."""
    scores = specificity(means)
    rows = []
    for group in scores.index:
        ranked = (scores.loc[group].rename("specificity").rename_axis("regulon").reset_index()
                  .sort_values(["specificity", "regulon"], ascending=[False, True],
                               kind="mergesort").head(n))
        for rank, (regulon, value) in enumerate(zip(ranked.regulon, ranked.specificity), 1):
            rows.append((group, rank, regulon, float(value), float(means.loc[group, regulon])))
    return pd.DataFrame(rows, columns=["group", "rank", "regulon", "specificity",
                                       "mean_activity"])


def heatmap_png(means: pd.DataFrame, title: str,
                max_regulons: int = MAX_HEATMAP_REGULONS) -> bytes:
    """Regulons (rows) × groups (columns), coloured by specificity, the mean activity written
    in each cell; where there are more regulons than `max_regulons`, those whose means differ
    most between groups."""
    spread = means.std(axis=0, ddof=0).sort_values(ascending=False, kind="mergesort")
    shown = sorted(spread.index[:max_regulons])
    scores = specificity(means)[shown].T
    values = means[shown].T
    height = max(2.5, 0.28 * len(shown) + 1.5)
    width = max(4.0, 0.9 * len(means.index) + 3.0)
    figure, axes = pyplot().subplots(figsize=(width, height))
    limit = max(1.0, float(np.abs(scores.to_numpy()).max())) if scores.size else 1.0
    image = axes.imshow(scores.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit,
                        aspect="auto")
    axes.set_xticks(range(len(values.columns)), [str(c) for c in values.columns],
                    rotation=45, ha="right")
    axes.set_yticks(range(len(values.index)), list(values.index))
    if values.size <= 400:
        for (row, column), value in np.ndenumerate(values.to_numpy()):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=6)
    figure.colorbar(image, ax=axes, label="specificity (z-score of the group's mean)")
    axes.set_title(title, fontsize=10)
    return png_bytes(figure)


def write_h5ad(activity: pd.DataFrame, annotations: pd.DataFrame, regulons: pd.DataFrame,
               output: Path) -> None:
    """An AnnData file scanpy opens: cells × regulons AUCell scores in `.X`, the cells'
    annotations in `.obs`, each regulon's regulator, kind and size in `.var`."""
    import anndata

    obs = annotations.reindex(activity.index)
    obs = obs.astype({name: "category" for name in obs.columns})
    var = regulons.set_index("regulon").reindex(activity.columns)
    data = anndata.AnnData(X=activity.to_numpy(dtype=np.float32), obs=obs, var=var)
    with atomic_path(output) as temporary:
        data.write_h5ad(temporary)


# The column that names cell types in CELLxGENE's schema (and most annotated AnnData files).
CELL_TYPE_COLUMN = "cell_type"


def choose_group_column(annotations: pd.DataFrame, requested: Optional[str]) -> Optional[str]:
    """The annotation column that groups cells: the one asked for, else `cell_type` where
    there is one, else the only column there is; None otherwise. An unknown name is refused,
    naming those there are."""
    if requested is not None:
        if requested not in annotations.columns:
            raise ValueError(
                f"cell_groups: no cell annotation {requested!r}; the cells are annotated with "
                f"{sorted(annotations.columns) or 'nothing'}")
        return requested
    if CELL_TYPE_COLUMN in annotations.columns:
        return CELL_TYPE_COLUMN
    return annotations.columns[0] if annotations.shape[1] == 1 else None


if __name__ == "__main__":
    print(f"decoupler's AUCell compiled (or loaded) in {compile_aucell():.1f} s", flush=True)
