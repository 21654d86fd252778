"""The network's pictures: the PNG on the asset, and the interactive page in a real browser
with the network cut off."""

import io
from pathlib import Path

import pandas as pd
import pytest

from genie_assets.pipeline.layout import (
    FILTERED_NETWORK,
    GENE_MODULES,
    HUB_GENES,
    NETWORK_PAGE,
    NETWORK_PICTURE,
    REGULON_ACTIVITY_BY_GROUP,
)
from genie_assets_tests.helpers import CHROMIUM, CHROMIUM_FLAGS, requires_chromium

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-output" / "network-view"


def test_picture_and_page_are_on_the_asset(toy_run):
    store, metadata, _ = toy_run
    view = metadata["network_view"]
    assert store.path(*NETWORK_PICTURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert view["network_picture"].value.startswith("![hub subnetwork](data:image/png;base64,")
    assert view["interactive_view"].value == str(store.path(*NETWORK_PAGE))
    hubs = pd.read_parquet(store.path(*HUB_GENES))
    # Every toy regulator is a hub; each brings its 8 strongest targets.
    assert view["hubs"].value == ", ".join(hubs.gene)
    assert view["n_genes_drawn"].value >= len(hubs) + 8


def test_page_loads_nothing_from_elsewhere(toy_run):
    import re

    store, _, _ = toy_run
    page = store.path(*NETWORK_PAGE).read_text()
    assert "vis.Network" in page
    # Scripts and styles are inline (no src, no stylesheet link), and the page's own policy
    # forbids any fetch: the browser test below checks what it really requests.
    assert not re.findall(r"<script[^>]*\bsrc\s*=", page)
    assert "<link" not in page and "default-src 'none'" in page


@pytest.fixture(scope="module")
def offline_page():
    """Chromium with the network cut off; every request the page makes is recorded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
        requests, errors = [], []

        def only_the_file(route):
            requests.append(route.request.url)
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", only_the_file)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, requests, errors
        browser.close()


def pixel(page, x: float, y: float) -> tuple[int, int, int]:
    from PIL import Image

    shot = page.screenshot(clip={"x": round(x) - 1, "y": round(y) - 1, "width": 3, "height": 3})
    return Image.open(io.BytesIO(shot)).convert("RGB").getpixel((1, 1))


def hex_colour(text: str) -> tuple[int, int, int]:
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


@requires_chromium
def test_page_draws_the_hubs_and_lists_a_clicked_hubs_targets(toy_run, offline_page):
    store, _, _ = toy_run
    page, requests, errors = offline_page
    url = store.path(*NETWORK_PAGE).as_uri()
    page.goto(url)
    page.wait_for_function("() => window.genieNetworkDrawn === true")
    hubs = pd.read_parquet(store.path(*HUB_GENES)).gene.tolist()
    canvas = page.locator("#network canvas").bounding_box()
    drawn = page.evaluate("""(hubs) => {
        const network = window.genieNetwork, positions = network.getPositions(hubs);
        return hubs.map((id) => {
            const p = network.canvasToDOM(positions[id]);
            const node = network.body.nodes[id];
            return {id, x: p.x, y: p.y, radius: node.options.size * network.getScale(),
                    colour: node.options.color.background};
        });
    }""", hubs)
    assert [d["id"] for d in drawn] == hubs
    for node in drawn:
        x, y = canvas["x"] + node["x"], canvas["y"] + node["y"]
        assert 0 < node["x"] < canvas["width"] and 0 < node["y"] < canvas["height"], node
        # Most of the disc shows the node's colour (an arrowhead or label may cross a point).
        reach = 0.4 * node["radius"]
        seen = [pixel(page, x + dx * reach, y + dy * reach)
                for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        wanted = hex_colour(node["colour"])
        matching = [p for p in seen if max(abs(a - b) for a, b in zip(p, wanted)) < 40]
        assert len(matching) >= 5, (node, seen)

    hub = drawn[0]
    page.mouse.click(canvas["x"] + hub["x"], canvas["y"] + hub["y"])
    page.locator("#selected-gene").wait_for(timeout=10_000)
    assert page.locator("#selected-gene").text_content() == hub["id"]
    network = pd.read_parquet(store.path(*FILTERED_NETWORK))
    expected = (network[network.regulator == hub["id"]]
                .sort_values(["importance", "target"], ascending=[False, True]).target.tolist())
    listed = [item.split()[0] for item in page.locator("#targets li").all_text_contents()]
    assert listed == expected
    module = pd.read_parquet(store.path(*GENE_MODULES)).set_index("gene").module[hub["id"]]
    assert f"module {module}" in page.locator("#details").text_content()
    # The hub's regulons' mean activity per toy cell type, as regulon_activity stored it.
    means = pd.read_parquet(store.path(*REGULON_ACTIVITY_BY_GROUP))
    own = [name for name in (f"{hub['id']}(+)", f"{hub['id']}(-)") if name in means.columns]
    assert own, "every toy hub has a regulon of at least one sign"
    rows = page.locator("#activity tr").all_text_contents()
    assert len(rows) == 1 + len(means)
    for row, (group, values) in zip(rows[1:], means[own].iterrows()):
        assert row == group + "".join(f"{value:.3f}" for value in values)
    heatmap = page.locator("#activity-picture")
    assert heatmap.evaluate("image => image.complete && image.naturalWidth") > 300
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "clicked-hub.png"))
    # The docs' picture of the page, drawn afresh by every run of this test.
    page.screenshot(path=str(REPO / "docs" / "network-view-interactive.png"))

    # Search a gene by name (any case): it is selected and its lists shown.
    target = expected[0]
    page.fill("#search", target.lower())
    page.press("#search", "Enter")
    assert page.locator("#selected-gene").text_content() == target
    assert page.locator("#regulators li").count() >= 1
    page.fill("#search", "NOT_A_GENE")
    page.press("#search", "Enter")
    assert "not in this view" in page.locator("#search-result").text_content()

    assert requests == [url], f"the page asked for more than itself: {requests}"
    assert not errors, f"console errors: {errors}"
