"""Regulons: each regulator with its targets in the filtered network, as gene sets.

A regulon is what enrichment tools test (GSEA, decoupler, fgsea read GMT) and what pySCENIC's
later steps start from (its adjacencies: TF, target, importance, rho). A regulator's targets in
the filtered network at `importance ≥ min_importance` are split by the sign of their Spearman
rho, as pySCENIC names them: `TF(+)`, the targets that rise with it (rho > 0.03), and `TF(-)`,
those that fall (rho < -0.03); an edge nearer 0 has no clear direction and is in neither. A set
with fewer than `min_targets` targets is left out (a set of two genes tests nothing). A network
without rho (from elsewhere) gives one unsigned regulon per regulator, named after it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from genie_assets.engine.correlation import RHO_COLUMN
from genie_assets.files import atomic_path
from genie_assets.network.exports import refuse_unwritable_names

DEFAULT_MIN_TARGETS = 10
DEFAULT_MIN_IMPORTANCE = 0.0
# pySCENIC's rho_threshold: an edge of smaller |rho| activates or represses too weakly to say.
RHO_THRESHOLD = 0.03
SIGN_NAMES = {"+": "activating", "-": "repressing"}


@dataclasses.dataclass(frozen=True)
class RegulonRule:
    """Which edges of the filtered network make regulons."""

    min_targets: int = DEFAULT_MIN_TARGETS
    min_importance: float = DEFAULT_MIN_IMPORTANCE

    def describe(self) -> str:
        return f"targets at importance >= {self.min_importance:g}, at least {self.min_targets}"


def regulon_edges(network: pd.DataFrame, rule: RegulonRule) -> pd.DataFrame:
    """The edges of every regulon: regulon (`TF(+)`, `TF(-)`, or the regulator's name where the
    network has no rho), regulator, target, importance[, rho], by regulon then strongest target
    first (ties by target name)."""
    if rule.min_targets < 1:
        raise ValueError(f"a regulon needs at least one target, got min_targets={rule.min_targets}")
    kept = network[(network["importance"] >= rule.min_importance)
                   & (network["regulator"] != network["target"])]
    columns = ["regulator", "target", "importance"]
    if RHO_COLUMN in kept.columns:
        sign = np.where(kept[RHO_COLUMN] > RHO_THRESHOLD, "+",
                        np.where(kept[RHO_COLUMN] < -RHO_THRESHOLD, "-", ""))
        signed = sign != ""
        kept = kept[signed].assign(regulon=kept["regulator"][signed] + "(" + sign[signed] + ")")
        columns.append(RHO_COLUMN)
    else:
        kept = kept.assign(regulon=kept["regulator"])
    counts = kept.groupby("regulon")["target"].transform("size")
    kept = kept[counts >= rule.min_targets]
    return (kept[["regulon", *columns]]
            .sort_values(["regulon", "importance", "target"], ascending=[True, False, True],
                         kind="mergesort")
            .reset_index(drop=True))


def regulon_sets(edges: pd.DataFrame) -> dict[str, list[str]]:
    """Regulon → its targets, strongest first, from `regulon_edges`."""
    return {regulon: group["target"].tolist()
            for regulon, group in edges.groupby("regulon", sort=True)}


def regulon_kind(name: str) -> str:
    """'activating', 'repressing' or '' (unsigned), from a regulon's name."""
    return SIGN_NAMES.get(name[-2], "") if name.endswith(("(+)", "(-)")) else ""


def write_gmt(edges: pd.DataFrame, output: Path, rule: RegulonRule) -> int:
    """One line per regulon: name, description, then its targets, tab-separated. Returns the
    number of regulons written."""
    refuse_unwritable_names(edges, "GMT", output)
    sets = regulon_sets(edges)
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for regulon, targets in sets.items():
            kind = regulon_kind(regulon)
            description = (f"genie-assets GENIE3 {kind + ' ' if kind else ''}regulon of "
                           f"{regulon.removesuffix('(+)').removesuffix('(-)')}: {len(targets)} "
                           f"{rule.describe()}")
            handle.write("\t".join([regulon, description, *targets]) + "\n")
    return len(sets)


def write_adjacencies(edges: pd.DataFrame, output: Path) -> None:
    """pySCENIC-style adjacencies of the regulons: `TF<TAB>target<TAB>importance[<TAB>rho]`."""
    refuse_unwritable_names(edges, "adjacency TSV", output)
    with atomic_path(output) as temporary:
        (edges.drop(columns="regulon").rename(columns={"regulator": "TF"})
         .to_csv(temporary, sep="\t", index=False))
