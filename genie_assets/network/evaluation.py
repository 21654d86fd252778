"""Scoring a network against a gold standard, as the DREAM challenges do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads


def score_network(edges: pd.DataFrame, gold: pd.DataFrame) -> dict[str, float]:
    """AUPR (average precision) and AUROC of edge importances over the gold standard's pairs.

    A pair the network lacks scores 0, so a filtered network is scored on the same pairs.
    """
    # Imported here: scikit-learn's metrics bring scipy.stats, a second of every run
    # process's start where nothing is scored.
    from sklearn.metrics import average_precision_score, roc_auc_score

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


def gold_scores_from_parquet(path: str | Path, gold: pd.DataFrame) -> pd.DataFrame:
    """The gold standard's pairs with their importance in an edge table on disk (0 if absent),
    streamed batch by batch: memory follows the gold standard, not the edge table."""
    found = []
    # A file (the edge table) or a folder of part files (Spark's filtered network).
    for batch in pads.dataset(str(path), format="parquet").to_batches(batch_size=1 << 20):
        found.append(batch.to_pandas().merge(gold[["regulator", "target"]],
                                             on=["regulator", "target"]))
    edges = pd.concat(found) if found else pd.DataFrame(columns=["regulator", "target",
                                                                  "importance"])
    scored = gold.merge(edges, on=["regulator", "target"], how="left")
    scored["importance"] = scored["importance"].fillna(0.0)
    return scored


def precision_recall(scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(scored["label"], scored["importance"])
    return precision, recall
