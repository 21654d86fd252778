"""Regulons: each regulator with its targets in the filtered network, as gene sets.

A regulon is what enrichment tools test (GSEA, decoupler, fgsea read GMT) and what pySCENIC's
later steps start from (its adjacencies: TF, target, importance). A regulator's regulon is every
target it has in the filtered network at `importance ≥ min_importance`; regulators with fewer
than `min_targets` such targets have none (a set of two genes tests nothing).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from genie_assets.files import atomic_path
from genie_assets.network.exports import refuse_unwritable_names

DEFAULT_MIN_TARGETS = 10
DEFAULT_MIN_IMPORTANCE = 0.0


@dataclasses.dataclass(frozen=True)
class RegulonRule:
    """Which edges of the filtered network make regulons."""

    min_targets: int = DEFAULT_MIN_TARGETS
    min_importance: float = DEFAULT_MIN_IMPORTANCE

    def describe(self) -> str:
        return f"targets at importance >= {self.min_importance:g}, at least {self.min_targets}"


def regulon_edges(network: pd.DataFrame, rule: RegulonRule) -> pd.DataFrame:
    """The edges of every regulon: regulator, target, importance, by regulator then strongest
    target first (ties by target name)."""
    if rule.min_targets < 1:
        raise ValueError(f"a regulon needs at least one target, got min_targets={rule.min_targets}")
    kept = network[network["importance"] >= rule.min_importance]
    kept = kept[kept["regulator"] != kept["target"]]
    counts = kept.groupby("regulator")["target"].transform("size")
    kept = kept[counts >= rule.min_targets]
    return (kept[["regulator", "target", "importance"]]
            .sort_values(["regulator", "importance", "target"], ascending=[True, False, True],
                         kind="mergesort")
            .reset_index(drop=True))


def regulon_sets(edges: pd.DataFrame) -> dict[str, list[str]]:
    """Regulator → its targets, strongest first, from `regulon_edges`."""
    return {regulator: group["target"].tolist()
            for regulator, group in edges.groupby("regulator", sort=True)}


def write_gmt(edges: pd.DataFrame, output: Path, rule: RegulonRule) -> int:
    """One line per regulon: name, description, then its targets, tab-separated. Returns the
    number of regulons written."""
    refuse_unwritable_names(edges, "GMT", output)
    sets = regulon_sets(edges)
    with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for regulator, targets in sets.items():
            description = (f"genie-assets GENIE3 regulon of {regulator}: {len(targets)} "
                           f"{rule.describe()}")
            handle.write("\t".join([regulator, description, *targets]) + "\n")
    return len(sets)


def write_adjacencies(edges: pd.DataFrame, output: Path) -> None:
    """pySCENIC-style adjacencies of the regulons: `TF<TAB>target<TAB>importance`."""
    refuse_unwritable_names(edges, "adjacency TSV", output)
    with atomic_path(output) as temporary:
        edges.rename(columns={"regulator": "TF"}).to_csv(temporary, sep="\t", index=False)
