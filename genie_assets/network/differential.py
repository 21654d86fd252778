"""What changed between conditions: each condition's network against a reference condition's.

A condition's network is each target's top regulators (the same rule as the filtered network:
the k strongest, ties by name). An edge is **gained** in a condition where the regulator is
among the target's top k there and not in the reference, **lost** the other way round; ranks,
not raw importances, decide, since a forest's importances are on each fit's own scale. Only
genes of both networks are compared (a gene constant in one condition has no network there).
A regulator's **rewiring** is the Jaccard distance between its target sets in the two
networks: 0 where it regulates the same targets, 1 where it shares none.
"""

from __future__ import annotations

import pandas as pd

from genie_assets.engine.correlation import RHO_COLUMN
from genie_assets.network.plots import png_bytes, pyplot

GAINED, LOST = "gained", "lost"
STABILITY = "stability"
# Regulators drawn in the rewiring picture, the most rewired first.
PICTURE_REGULATORS = 15


def top_regulators(edges: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each target's `k` strongest regulators (self-edges left out; ties by regulator name),
    with their rank (1 the strongest)."""
    if k < 1:
        raise ValueError(f"top_k_per_target must be at least 1, got {k}")
    kept = edges[edges.regulator != edges.target]
    ranked = kept.sort_values(["target", "importance", "regulator"],
                              ascending=[True, False, True], kind="mergesort")
    ranked = ranked.assign(rank=ranked.groupby("target", sort=False).cumcount() + 1)
    return ranked[ranked["rank"] <= k].reset_index(drop=True)


def compare(network: pd.DataFrame, reference: pd.DataFrame, all_edges: pd.DataFrame,
            all_reference_edges: pd.DataFrame) -> pd.DataFrame:
    """The edges gained and lost in `network` against `reference` (each target's top
    regulators, as `top_regulators` keeps them, with or without their rank), each with its
    importance, rank, rho (and stability, where the edge tables carry it) in both conditions,
    looked up in the full edge tables. Sorted by change, then by the
    importance it has where it is present, strongest first."""
    genes = (set(all_edges.regulator) | set(all_edges.target)) & \
        (set(all_reference_edges.regulator) | set(all_reference_edges.target))
    columns = ["regulator", "target", "importance", "rank", RHO_COLUMN, STABILITY]

    def comparable(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame.regulator.isin(genes) & frame.target.isin(genes)]
        return frame[[c for c in columns if c in frame.columns]]

    ours, theirs = comparable(network), comparable(reference)
    both = ours.merge(theirs, on=["regulator", "target"], how="outer",
                      suffixes=("", "_reference"), indicator=True)
    changed = both[both["_merge"] != "both"].copy()
    changed["change"] = changed["_merge"].map({"left_only": GAINED, "right_only": LOST})
    every = max(1, len(genes))  # a rank for every edge, not only the top ones
    changed = _fill_from(changed, top_regulators(all_edges, every), "")
    changed = _fill_from(changed, top_regulators(all_reference_edges, every), "_reference")
    changed["present_importance"] = changed.importance.where(
        changed.change == GAINED, changed.importance_reference)
    ordered = changed.sort_values(["change", "present_importance", "regulator", "target"],
                                  ascending=[True, False, True, True], kind="mergesort")
    keep = ["regulator", "target", "change"] + [
        f"{c}{suffix}" for c in columns[2:] for suffix in ("", "_reference")
        if f"{c}{suffix}" in ordered.columns]
    return ordered[keep].reset_index(drop=True)


def _fill_from(changed: pd.DataFrame, edges: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """Importance, rank (and rho, stability) of each changed edge in the side where it is not
    among the top, from that side's full edge table, ranked."""
    values = [c for c in ("importance", "rank", RHO_COLUMN, STABILITY) if c in edges.columns]
    looked_up = changed[["regulator", "target"]].merge(
        edges[["regulator", "target", *values]], on=["regulator", "target"], how="left"
    ).set_axis(changed.index)
    for column in values:
        name = f"{column}{suffix}"
        if name in changed.columns:
            changed[name] = changed[name].fillna(looked_up[column])
        else:
            changed[name] = looked_up[column]
    return changed


def rewiring(network: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per regulator of either network: its targets in each, kept, gained, lost, and the
    rewiring score, the most rewired first (then the most changes, then by name)."""
    ours = network.groupby("regulator").target.agg(set)
    theirs = reference.groupby("regulator").target.agg(set)
    rows = []
    for regulator in sorted(set(ours.index) | set(theirs.index)):
        mine, other = ours.get(regulator, set()), theirs.get(regulator, set())
        kept, gained, lost = len(mine & other), len(mine - other), len(other - mine)
        rows.append((regulator, len(mine), len(other), kept, gained, lost,
                     (gained + lost) / (kept + gained + lost)))
    table = pd.DataFrame(rows, columns=["regulator", "n_targets", "n_targets_reference",
                                        "n_kept", "n_gained", "n_lost", "rewiring"])
    table["n_changed"] = table.n_gained + table.n_lost
    return (table.sort_values(["rewiring", "n_changed", "regulator"],
                              ascending=[False, False, True], kind="mergesort")
            .drop(columns="n_changed").reset_index(drop=True))


def rewiring_png(tables: dict[tuple[str, str], pd.DataFrame]) -> bytes:
    """One panel per comparison (condition vs reference): the most rewired regulators' gained
    and lost targets."""
    height = max(2.5, 0.3 * PICTURE_REGULATORS + 1.2)
    n_panels = max(1, len(tables))
    figure, axes = pyplot().subplots(1, n_panels, figsize=(5.5 * n_panels, height),
                                     squeeze=False)
    for axis, ((condition, reference), table) in zip(axes[0], tables.items()):
        shown = table[(table.n_gained + table.n_lost) > 0].head(PICTURE_REGULATORS)[::-1]
        positions = range(len(shown))
        axis.barh(positions, shown.n_gained, color="#2ca02c", label="gained")
        axis.barh(positions, -shown.n_lost, color="#d62728", label="lost")
        axis.set_yticks(list(positions), [f"{r}  ({s:.2f})" for r, s in
                                          zip(shown.regulator, shown.rewiring)])
        axis.axvline(0, color="#555", linewidth=0.8)
        axis.set_xlabel("targets lost ◄ ► gained")
        axis.set_title(f"{condition} vs {reference}: most rewired (score)", fontsize=10)
        axis.legend(loc="lower right", fontsize=8)
    return png_bytes(figure)
