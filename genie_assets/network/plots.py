"""Pictures for the Dagster UI: PNG bytes and Markdown that embeds them."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd


def pyplot():
    """matplotlib's pyplot, drawing off-screen; imported when a picture is drawn, not when the
    code location loads (it took 0.4 s of every run process's start)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(figure)
    return buffer.getvalue()


def markdown_image(png: bytes, title: str) -> str:
    """Markdown the Dagster UI renders as the picture itself."""
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"


def degree_distribution_png(degrees: pd.DataFrame) -> bytes:
    """Out- and in-degree distributions on log-log axes (how many genes have degree k)."""
    figure, axis = pyplot().subplots(figsize=(5.5, 4))
    for column, label in (("out_degree", "out-degree"), ("in_degree", "in-degree")):
        counts = degrees[column][degrees[column] > 0].value_counts().sort_index()
        if len(counts):
            axis.loglog(counts.index, counts.to_numpy(), "o", alpha=0.7, label=label)
    axis.set_xlabel("degree k")
    axis.set_ylabel("genes with degree k")
    axis.set_title("Degree distribution")
    axis.legend()
    return png_bytes(figure)


def hub_bar_png(hubs: pd.DataFrame) -> bytes:
    """Hub genes by out-degree, with the importance-weighted out-degree alongside."""
    figure, axis = pyplot().subplots(figsize=(6, 0.35 * max(len(hubs), 3) + 1))
    order = hubs.iloc[::-1]
    axis.barh(order["gene"], order["out_degree"], color="#4f74b8")
    axis.set_xlabel("out-degree (targets regulated)")
    axis.set_title("Hub genes")
    for y, (degree, weight) in enumerate(zip(order["out_degree"], order["weighted_out_degree"])):
        axis.text(degree, y, f"  {weight:.2f}", va="center", fontsize=8)
    return png_bytes(figure)


def precision_recall_png(precision: np.ndarray, recall: np.ndarray, aupr: float,
                         label: str) -> bytes:
    figure, axis = pyplot().subplots(figsize=(5, 4))
    axis.plot(recall, precision, drawstyle="steps-post")
    axis.set_xlabel("recall")
    axis.set_ylabel("precision")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.set_title(f"{label}: AUPR {aupr:.3f}")
    return png_bytes(figure)
