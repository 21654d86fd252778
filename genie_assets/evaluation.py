"""Scoring a network against a gold standard, as the DREAM challenges do."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def read_gold_standard(path: str | Path) -> pd.DataFrame:
    """DREAM format: `regulator<TAB>target<TAB>0|1`, no header."""
    gold = pd.read_csv(path, sep="\t", header=None, names=["regulator", "target", "label"],
                       dtype={"regulator": str, "target": str, "label": int})
    return gold[gold.regulator != gold.target]


def score_network(edges: pd.DataFrame, gold: pd.DataFrame) -> dict[str, float]:
    """AUPR (average precision) and AUROC of edge importances over the gold standard's pairs.

    A pair the network lacks scores 0, so a filtered network is scored on the same pairs.
    """
    scored = gold.merge(edges[["regulator", "target", "importance"]],
                        on=["regulator", "target"], how="left")
    scores = scored["importance"].fillna(0.0).to_numpy()
    labels = scored["label"].to_numpy()
    return {
        "aupr": float(average_precision_score(labels, scores)),
        "auroc": float(roc_auc_score(labels, scores)),
        "n_pairs": int(len(scored)),
        "n_positives": int(labels.sum()),
    }
