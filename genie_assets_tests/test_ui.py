"""The Dagster UI in a real browser: launch the toy pipeline, watch it succeed, read the assets.

Starts `dagster dev` (webserver and daemon) on a free loopback port and drives Debian's headless
Chromium with Playwright (no browser download). Screenshots go to test-output/ui/; the two the
docs show are redrawn in docs/.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus

from genie_assets.pipeline.partitions import shard_partitions
from genie_assets_tests.helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    DOWNSTREAM,
    free_port,
    requires_chromium,
)

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-output" / "ui"
pytestmark = requires_chromium


def wait_until(condition, timeout: float, what: str, interval: float = 1.0, instance=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if instance is not None:
            failed = [r for r in instance.get_runs()
                      if r.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)]
            assert not failed, f"runs failed while waiting for {what}: " + ", ".join(
                f"{r.job_name} {r.run_id}" for r in failed)
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui_home")
    # The instance settings `make ui` serves (telemetry off: the UI would otherwise load a
    # script from dagster.io, unreachable here, and log a console error).
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster.yaml").read_text())
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "GENIE_ARTIFACTS_DIR": str(tmp_path_factory.mktemp("ui_artifacts")),
           "GENIE_N_TREES": "100", "GENIE_SHARD_CORES": "1"}
    log = open(home / "dagster-dev.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-h", "127.0.0.1", "-p",
         str(port), "-w", str(REPO / "workspace.yaml")],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{url}/server_info", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_until(up, 180, "dagster dev to answer")
        yield url, home
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


@pytest.fixture(scope="module")
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # A fresh instance asks to join the Dagster community a second after the first page
        # loads, over whatever is being clicked then; a newcomer skips it whenever it shows.
        page.add_locator_handler(
            page.get_by_text("Join the Dagster community"),
            lambda _dialog: page.get_by_role("button", name="Skip", exact=True).click())
        yield page, errors
        browser.close()


def instance_at(home: Path) -> DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        return DagsterInstance.get()
    finally:
        del os.environ["DAGSTER_HOME"]


def shot(page, name: str, in_docs: bool = False):
    """A screenshot in test-output/ui/ and, for the pictures the docs show, in docs/ too
    (ui-NAME.png): every run of this test draws them afresh, so they cannot go stale."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    if in_docs:
        page.screenshot(path=str(REPO / "docs" / f"ui-{name}.png"), full_page=False)


def visit(page, url: str):
    page.goto(url)
    page.wait_for_load_state("networkidle")


def materialize_from_asset_page(page, url: str, asset: str):
    visit(page, f"{url}/assets/{asset}")
    button = page.get_by_role("button", name=re.compile(r"Materialize"))
    try:
        button.first.wait_for(timeout=60_000)
    finally:
        shot(page, f"asset-{asset}")
    button.first.click()


def show_picture(page, url: str, asset: str, row: str, alt: str, name: str,
                 after: str | None = None):
    """Open a picture from an asset's metadata as a user does (*[Show Markdown]* in its row,
    once `after` shows) and check that it is drawn; then close it."""
    visit(page, f"{url}/assets/{asset}")
    if after:
        page.get_by_text(after).first.wait_for(timeout=60_000)
    page.locator("tr", has_text=row).first.get_by_text("[Show Markdown]").click()
    picture = page.locator(f'img[alt="{alt}"]')
    picture.wait_for(timeout=30_000)
    assert picture.evaluate("image => image.complete && image.naturalWidth") > 300
    shot(page, name)
    page.keyboard.press("Escape")


def test_pipeline_runs_from_the_ui_and_shows_its_results(dagster_ui, browser_page):
    url, home = dagster_ui
    page, errors = browser_page
    instance = instance_at(home)

    visit(page, f"{url}/asset-groups")
    for group in ("genie3", "network", "reports"):
        page.get_by_text(group, exact=True).first.dblclick()
    page.get_by_text("importance_shards").first.wait_for(timeout=60_000)
    page.get_by_text("benchmark_report").first.wait_for(timeout=30_000)
    shot(page, "asset-graph", in_docs=True)

    materialize_from_asset_page(page, url, "expression_matrix")
    wait_until(lambda: instance.get_latest_materialization_event(
        AssetKey("expression_matrix")), 180, "expression_matrix", instance=instance)

    materialize_from_asset_page(page, url, "importance_shards")
    # The backfill a user runs after a failure: every failed or missing partition.
    page.get_by_role("button", name="Failed and missing", exact=True).click()
    page.get_by_text(f"{len(shard_partitions.get_partition_keys())} partitions").first.wait_for(
        timeout=60_000)
    shot(page, "shard-backfill-dialog")
    page.get_by_role("button", name="Launch backfill").click()
    keys = set(shard_partitions.get_partition_keys())
    wait_until(lambda: instance.get_materialized_partitions(
        AssetKey("importance_shards")) == keys, 400, "every shard partition",
               instance=instance)
    visit(page, f"{url}/assets/importance_shards?view=partitions&partition=shard-0000")
    page.get_by_text("seconds_per_target", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("Latest materialization").first.wait_for(timeout=10_000)
    shot(page, "shard-partitions", in_docs=True)

    visit(page, f"{url}/locations/genie_assets/jobs/network_job")
    page.get_by_role("button", name=re.compile(r"Materialize all")).first.click()
    wait_until(lambda: all(instance.get_latest_materialization_event(AssetKey(a))
                           for a in DOWNSTREAM), 400, "the network assets",
               instance=instance)
    # The last materialization is stored a moment before its run is marked finished.
    wait_until(lambda: all(r.is_finished for r in instance.get_runs()), 120,
               "every run to finish", instance=instance)

    runs = instance.get_runs()
    assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [
        (r.job_name, r.status) for r in runs]

    visit(page, f"{url}/assets/hub_genes")
    page.get_by_text("top_hub").first.wait_for(timeout=60_000)
    page.get_by_text("TF0").first.wait_for(timeout=10_000)
    shot(page, "hub-genes")
    # The hub subnetwork's picture, as a user opens it from the asset's metadata.
    show_picture(page, url, "network_view", "network_picture", "hub subnetwork", "network-view")
    # Regulon activity by cell type: the heatmap and each type's most specific regulons.
    show_picture(page, url, "regulon_activity", "activity_by_group",
                 "regulon activity by group", "regulon-activity",
                 after="top_regulons_per_group")
    visit(page, f"{url}/assets/network_evaluation")
    page.get_by_text("aupr").first.wait_for(timeout=60_000)
    shot(page, "network-evaluation")

    # A network per condition: the toy's two, each condition × shard backfilled from the UI.
    materialize_from_asset_page(page, url, "condition_shards")
    every = page.get_by_role("button", name="All", exact=True)
    every.first.wait_for(timeout=60_000)
    for dimension in range(2):  # every condition, every shard
        every.nth(dimension).click()
    page.get_by_text("Backfill only failed and missing partitions within selection").click()
    page.get_by_text(f"{2 * len(keys)} partitions").first.wait_for(timeout=60_000)
    shot(page, "condition-backfill-dialog")
    page.get_by_role("button", name="Launch backfill").click()
    wait_until(lambda: len(instance.get_materialized_partitions(
        AssetKey("condition_shards"))) == 2 * len(keys), 400, "every condition's shards",
               instance=instance)
    for asset in ("condition_networks", "differential_network"):
        materialize_from_asset_page(page, url, asset)
        wait_until(lambda: instance.get_latest_materialization_event(AssetKey(asset)), 180,
                   asset, instance=instance)
    show_picture(page, url, "differential_network", "rewiring_picture", "rewiring",
                 "differential-network", after="edges_gained_and_lost")

    assert not errors, f"console errors on the UI page: {errors}"
