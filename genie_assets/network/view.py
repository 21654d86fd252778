"""Pictures of the network: the hub subnetwork as a PNG and as a self-contained interactive page.

The hub subnetwork is the top regulators by out-degree in the filtered network and their
strongest targets, with every filtered edge among those genes. Both pictures share one layout
(hubs on an inner ring, their targets around them: the same network gives the same picture),
colour genes by module and size them by degree. The page draws with vis-network, the JavaScript
library that `pyvis` ships; its script is copied into the page, so it opens from a folder with
no network access.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from genie_assets.network.plots import png_bytes, pyplot

DEFAULT_N_HUBS = 10
DEFAULT_TARGETS_PER_HUB = 8
# Radius of the hubs' ring; other genes sit on the unit circle.
HUB_RING = 0.45
# A gene's list of regulators or targets in the page stops here ("and N more").
MAX_LISTED_NEIGHBOURS = 500
NO_MODULE_COLOUR = "#b0b0b0"
HUB_EDGE_COLOUR = "#555555"


@dataclasses.dataclass(frozen=True)
class Subnetwork:
    """Genes drawn (gene, module, degree, in_degree, out_degree, is_hub) and edges among them."""

    genes: pd.DataFrame
    edges: pd.DataFrame
    hubs: list[str]


def hub_subnetwork(network: pd.DataFrame, genes: pd.DataFrame, n_hubs: int = DEFAULT_N_HUBS,
                   targets_per_hub: int = DEFAULT_TARGETS_PER_HUB) -> Subnetwork:
    """The `n_hubs` top regulators (out-degree, then weighted out-degree, then name, as
    `hub_genes` ranks them) with their `targets_per_hub` strongest targets each; `genes` holds
    every gene's degrees and module."""
    ranked = genes[genes.out_degree > 0].sort_values(
        ["out_degree", "weighted_out_degree", "gene"], ascending=[False, False, True])
    hubs = ranked["gene"].head(n_hubs).tolist()
    strongest = (network[network.regulator.isin(hubs)]
                 .sort_values(["regulator", "importance", "target"],
                              ascending=[True, False, True])
                 .groupby("regulator").head(targets_per_hub))
    drawn = set(hubs) | set(strongest.target)
    edges = network[network.regulator.isin(drawn) & network.target.isin(drawn)]
    edges = edges.sort_values(["regulator", "target"]).reset_index(drop=True)
    drawn_genes = (pd.DataFrame({"gene": sorted(drawn)})
                   .merge(genes[["gene", "degree", "in_degree", "out_degree", "module"]],
                          on="gene", how="left"))
    drawn_genes["is_hub"] = drawn_genes.gene.isin(hubs)
    return Subnetwork(drawn_genes, edges[["regulator", "target", "importance"]], hubs)


def module_colours(modules: pd.Series) -> dict[int, str]:
    """One colour per module number, the same in the PNG and the page."""
    import matplotlib

    # tab10's ten distinct colours first, then tab20's lighter halves.
    palette = matplotlib.colormaps["tab10"].colors + matplotlib.colormaps["tab20"].colors[1::2]
    numbers = sorted(int(m) for m in modules.dropna().unique())
    return {m: matplotlib.colors.to_hex(palette[(m - 1) % len(palette)]) for m in numbers}


def layout(sub: Subnetwork) -> dict[str, tuple[float, float]]:
    """Hubs on an inner ring, grouped by module; every other gene on the outer ring beside the
    hub that regulates it most strongly. No two hubs can overlap, and the picture depends on
    the network alone (no random start)."""
    genes = sub.genes.set_index("gene")
    hubs = sorted(sub.hubs, key=lambda g: (_module_order(genes.module.get(g)), g))
    angle = {hub: 2 * np.pi * i / max(1, len(hubs)) for i, hub in enumerate(hubs)}
    positions = {hub: (HUB_RING * np.cos(a), HUB_RING * np.sin(a)) for hub, a in angle.items()}
    from_hubs = sub.edges[sub.edges.regulator.isin(hubs) & ~sub.edges.target.isin(hubs)]
    strongest = (from_hubs.sort_values(["target", "importance", "regulator"],
                                       ascending=[True, False, True])
                 .drop_duplicates("target").set_index("target")["regulator"])
    others = sorted((g for g in genes.index if g not in angle),
                    key=lambda g: (angle.get(strongest.get(g), 7.0),
                                   _module_order(genes.module.get(g)), g))
    # The ring turns so that the first hub's targets sit centred on it.
    step = 2 * np.pi / max(1, len(others))
    first_group = sum(1 for g in others if hubs and strongest.get(g) == hubs[0])
    for i, gene in enumerate(others):
        a = (i - (first_group - 1) / 2) * step
        positions[gene] = (np.cos(a), np.sin(a))
    return {gene: (float(x), float(y)) for gene, (x, y) in positions.items()}


def _module_order(module) -> int:
    return int(module) if pd.notna(module) else 1 << 30


def _node_sizes(degree: pd.Series, low: float, high: float) -> np.ndarray:
    values = np.sqrt(degree.fillna(0).to_numpy(dtype=float))
    span = values.max() - values.min() if len(values) else 0.0
    scaled = (values - values.min()) / span if span > 0 else np.full(len(values), 0.5)
    return low + scaled * (high - low)


def _edge_widths(importance: pd.Series, low: float, high: float) -> np.ndarray:
    values = importance.to_numpy(dtype=float)
    top = values.max() if len(values) else 0.0
    return low + (values / top if top > 0 else values) * (high - low)


def subnetwork_png(sub: Subnetwork, positions: dict[str, tuple[float, float]],
                   title: str = "Hub subnetwork") -> bytes:
    """Genes coloured by module and sized by degree, edges as wide as their importance, hubs
    labelled in bold."""
    from matplotlib.lines import Line2D

    colours = module_colours(sub.genes.module)
    figure, axis = pyplot().subplots(figsize=(9, 7.5))
    sizes = dict(zip(sub.genes.gene, _node_sizes(sub.genes.degree, 60, 900)))
    # A marker of area s points² has radius √s / 2 points: arrows and labels start beyond it.
    radius = {gene: size ** 0.5 / 2 for gene, size in sizes.items()}
    widths = _edge_widths(sub.edges.importance, 0.4, 3.5)
    for row, width in zip(sub.edges.itertuples(index=False), widths):
        (x0, y0), (x1, y1) = positions[row.regulator], positions[row.target]
        axis.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                      arrowprops={"arrowstyle": "-|>", "color": HUB_EDGE_COLOUR, "lw": width,
                                  "alpha": 0.5, "shrinkA": radius[row.regulator],
                                  "shrinkB": radius[row.target] + 1,
                                  "mutation_scale": 8 + 2 * width})
    genes = sub.genes.gene.tolist()
    xs = [positions[g][0] for g in genes]
    ys = [positions[g][1] for g in genes]
    fill = [colours.get(int(m), NO_MODULE_COLOUR) if pd.notna(m) else NO_MODULE_COLOUR
            for m in sub.genes.module]
    axis.scatter(xs, ys, s=[sizes[g] for g in genes], c=fill,
                 edgecolors=np.where(sub.genes.is_hub, "black", "white"),
                 linewidths=np.where(sub.genes.is_hub, 1.6, 0.8), zorder=2)
    for gene, x, y, hub in zip(genes, xs, ys, sub.genes.is_hub):
        axis.annotate(gene, (x, y), xytext=(0, radius[gene] + 2), textcoords="offset points",
                      ha="center", va="bottom", zorder=3, fontsize=9 if hub else 7,
                      fontweight="bold" if hub else "normal",
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75,
                            "edgecolor": "none"})
    legend = [Line2D([], [], marker="o", linestyle="", markersize=8, color=colour,
                     label=f"module {module}") for module, colour in colours.items()][:12]
    if legend:
        axis.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                    frameon=False, title="Leiden modules")
    axis.set_title(f"{title}: {len(sub.hubs)} hub regulators (bold), their strongest targets\n"
                   "size = degree in the network, edge width = importance", fontsize=10)
    axis.set_axis_off()
    axis.margins(0.08)
    return png_bytes(figure)


def neighbour_lists(network: pd.DataFrame, genes: list[str]) -> dict[str, dict]:
    """For each gene: its regulators and its targets in the filtered network, strongest first."""
    lists: dict[str, dict] = {}
    for role, own, other in (("regulators", "target", "regulator"),
                             ("targets", "regulator", "target")):
        chosen = network[network[own].isin(genes)].sort_values(
            [own, "importance", other], ascending=[True, False, True])
        for gene, group in chosen.groupby(own, sort=False):
            entry = lists.setdefault(gene, {"regulators": [], "targets": [],
                                            "more_regulators": 0, "more_targets": 0})
            entry[role] = [[name, round(float(w), 6)] for name, w in
                           zip(group[other].head(MAX_LISTED_NEIGHBOURS),
                               group.importance.head(MAX_LISTED_NEIGHBOURS))]
            entry[f"more_{role}"] = max(0, len(group) - MAX_LISTED_NEIGHBOURS)
    return lists


def vis_network_script() -> str:
    """vis-network's standalone build as pyvis bundles it."""
    import pyvis

    folder = Path(pyvis.__file__).parent / "templates" / "lib"
    candidates = sorted(folder.glob("vis-*/vis-network.min.js"))
    if not candidates:
        raise FileNotFoundError(f"{folder}: pyvis ships no vis-network.min.js here; "
                                "reinstall pyvis (`make setup`)")
    return candidates[-1].read_text(encoding="utf-8")


def subnetwork_html(sub: Subnetwork, positions: dict[str, tuple[float, float]],
                    network: pd.DataFrame, title: str = "genie-assets network",
                    activity_by_group: Optional[pd.DataFrame] = None,
                    activity_picture: Optional[bytes] = None) -> str:
    """A single HTML page drawing the subnetwork: pan, zoom, search a gene, click a gene to list
    its regulators and targets and, where cells are grouped (`activity_by_group`: groups ×
    regulons, its index named after the annotation), its regulons' mean activity per group,
    with the groups' heatmap below. Needs nothing outside the file."""
    from pyvis.network import Network

    colours = module_colours(sub.genes.module)
    view = Network(directed=True, cdn_resources="in_line")
    sizes = _node_sizes(sub.genes.degree, 8, 40)
    for row, size in zip(sub.genes.itertuples(index=False), sizes):
        module = int(row.module) if pd.notna(row.module) else None
        x, y = positions[row.gene]
        view.add_node(
            row.gene, label=row.gene, size=float(size), x=x * 450, y=-y * 450,
            color=colours.get(module, NO_MODULE_COLOUR) if module else NO_MODULE_COLOUR,
            title=(f"{row.gene}: module {module if module else '-'}, "
                   f"{int(row.out_degree or 0)} targets, {int(row.in_degree or 0)} regulators"),
            borderWidth=3 if row.is_hub else 1, font={"size": 16 if row.is_hub else 11},
            module=module, hub=bool(row.is_hub))
    for row, width in zip(sub.edges.itertuples(index=False),
                          _edge_widths(sub.edges.importance, 0.5, 6.0)):
        view.add_edge(row.regulator, row.target, width=float(width),
                      title=f"{row.regulator} → {row.target}: {row.importance:.4f}")
    nodes, edges, *_ = view.get_network_data()
    options = {
        "physics": {"enabled": False},  # positions are the PNG's layout
        "interaction": {"hover": True, "keyboard": True},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "smooth": False,
                  "color": {"color": "#8a8a8a", "highlight": "#d62728"}},
    }
    data = {"nodes": nodes, "edges": edges, "options": options, "hubs": sub.hubs,
            "neighbours": neighbour_lists(network, sub.genes.gene.tolist()),
            "legend": {str(m): c for m, c in colours.items()},
            "activity": _activity_of_drawn_regulators(activity_by_group, sub),
            "activity_picture": (base64.b64encode(activity_picture).decode()
                                 if activity_picture else "")}
    return PAGE.format(title=html.escape(title), policy=CONTENT_POLICY,
                       library=vis_network_script(), data=_script_json(data),
                       viewer=VIEWER_SCRIPT)


def _activity_of_drawn_regulators(means: Optional[pd.DataFrame], sub: Subnetwork) -> dict:
    """{column, groups, regulons: {regulon: [mean per group]}} for the regulons of the genes
    drawn; empty where the cells are not grouped."""
    if means is None or means.empty:
        return {}
    drawn = set(sub.genes.gene)
    kept = [regulon for regulon in means.columns
            if regulon in drawn or regulon.removesuffix("(+)").removesuffix("(-)") in drawn]
    return {"column": str(means.index.name or "group"),
            "groups": [str(group) for group in means.index],
            "regulons": {regulon: [round(float(v), 4) for v in means[regulon]]
                         for regulon in kept}}


def _script_json(value) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/")


# The page may run its own inline scripts and styles and show data: images, and fetch nothing.
CONTENT_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                  "img-src data:")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>{title}</title>
<style>
  body {{ margin: 0; font-family: system-ui, sans-serif; display: flex; height: 100vh; }}
  #network {{ flex: 1; border-right: 1px solid #ddd; }}
  #side {{ width: 320px; padding: 12px; overflow-y: auto; font-size: 14px; }}
  #side h2 {{ font-size: 16px; margin: 8px 0; }}
  #side ol {{ padding-left: 22px; margin: 4px 0 12px; }}
  #search-row {{ display: flex; gap: 6px; }}
  #search {{ flex: 1; padding: 4px; }}
  .swatch {{ display: inline-block; width: 10px; height: 10px; border-radius: 5px;
             margin-right: 4px; }}
  .muted {{ color: #777; }}
  #activity {{ border-collapse: collapse; font-size: 12px; }}
  #activity td, #activity th {{ padding: 2px 6px; border-bottom: 1px solid #eee;
                                text-align: right; }}
  #activity-picture {{ width: 100%; margin-top: 8px; }}
</style>
<script>{library}</script>
</head>
<body>
<div id="network" role="img" aria-label="hub subnetwork"></div>
<div id="side">
  <div id="search-row">
    <input id="search" type="search" placeholder="Find a gene" aria-label="Find a gene">
    <button id="search-button">Find</button>
  </div>
  <p id="search-result" class="muted"></p>
  <div id="details"><p class="muted">Click a gene to list its regulators and targets.</p></div>
  <h2>Modules</h2><div id="legend"></div>
  <div id="activity-panel"></div>
</div>
<script id="network-data" type="application/json">{data}</script>
<script>{viewer}</script>
</body>
</html>
"""

# The page's own behaviour: search, a gene's lists on click, the legend. The drawing is
# vis-network's.
VIEWER_SCRIPT = """
"use strict";
const data = JSON.parse(document.getElementById("network-data").textContent);
const nodes = new vis.DataSet(data.nodes);
const edges = new vis.DataSet(data.edges);
const network = new vis.Network(
  document.getElementById("network"), {nodes, edges}, data.options);
window.genieNetwork = network;
// Set once the first frame is on the canvas (the page's tests wait for it).
network.once("afterDrawing", () => { window.genieNetworkDrawn = true; });

function element(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function listOf(title, entries, more, id) {
  const box = document.createElement("div");
  box.appendChild(element("h2", title + " (" + (entries.length + more) + ")"));
  const list = element("ol", undefined, {id: id});
  entries.forEach(([gene, weight]) =>
    list.appendChild(element("li", gene + "  " + weight.toFixed(4))));
  box.appendChild(list);
  if (more > 0) box.appendChild(element("p", "and " + more + " more", {"class": "muted"}));
  return box;
}

function showGene(gene) {
  const details = document.getElementById("details");
  details.replaceChildren();
  const entry = data.neighbours[gene]
    || {regulators: [], targets: [], more_regulators: 0, more_targets: 0};
  const node = nodes.get(gene);
  details.appendChild(element("h2", gene, {id: "selected-gene"}));
  if (node && node.module) {
    const role = node.hub ? ", hub regulator" : "";
    details.appendChild(element("p", "module " + node.module + role));
  }
  const activity = data.activity.regulons || {};
  const own = [gene + "(+)", gene + "(-)", gene].filter((name) => name in activity);
  if (own.length) {
    details.appendChild(element("h2", "Regulon activity by " + data.activity.column));
    const table = element("table", undefined, {id: "activity"});
    const head = element("tr");
    head.appendChild(element("th", "group"));
    own.forEach((name) => head.appendChild(element("th", name)));
    table.appendChild(head);
    data.activity.groups.forEach((group, i) => {
      const row = element("tr");
      row.appendChild(element("td", group));
      own.forEach((name) => row.appendChild(element("td", activity[name][i].toFixed(3))));
      table.appendChild(row);
    });
    details.appendChild(table);
  }
  details.appendChild(listOf("Targets", entry.targets, entry.more_targets, "targets"));
  details.appendChild(listOf("Regulators", entry.regulators, entry.more_regulators, "regulators"));
}

network.on("click", (event) => { if (event.nodes.length) showGene(event.nodes[0]); });

function search() {
  const wanted = document.getElementById("search").value.trim();
  const result = document.getElementById("search-result");
  const found = nodes.get(wanted) ? wanted
    : nodes.getIds().find((id) => String(id).toLowerCase() === wanted.toLowerCase());
  if (!wanted) { result.textContent = ""; return; }
  if (found === undefined) { result.textContent = wanted + " is not in this view"; return; }
  result.textContent = "";
  network.selectNodes([found]);
  network.focus(found, {scale: 1.3, animation: false});
  showGene(found);
}
document.getElementById("search-button").addEventListener("click", search);
document.getElementById("search").addEventListener("keydown", (e) => {
  if (e.key === "Enter") search();
});

if (data.activity_picture) {
  const panel = document.getElementById("activity-panel");
  panel.appendChild(element("h2", "Regulon activity by " + data.activity.column));
  panel.appendChild(element("img", undefined, {
    id: "activity-picture", alt: "regulon activity by " + data.activity.column,
    src: "data:image/png;base64," + data.activity_picture}));
}

const legend = document.getElementById("legend");
Object.entries(data.legend).slice(0, 20).forEach(([module, colour]) => {
  const row = element("div");
  row.appendChild(element("span", undefined, {"class": "swatch", style: "background:" + colour}));
  row.appendChild(document.createTextNode("module " + module));
  legend.appendChild(row);
});
"""
