"""The Dagster UI in a real browser: launch the toy pipeline, watch it succeed, read the assets.

Starts `dagster dev` (webserver and daemon) on a free loopback port and drives Debian's headless
Chromium with Playwright (no browser download). Screenshots go to test-output/ui/.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus

from genie_assets.partitions import shard_partitions

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-output" / "ui"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
DOWNSTREAM = ["edge_table", "filtered_network", "gene_degrees", "hub_genes",
              "network_evaluation", "benchmark_report"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Chromium not installed (apt-get install chromium); CI installs it",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui_home")
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
        yield page, errors
        browser.close()


def instance_at(home: Path) -> DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        return DagsterInstance.get()
    finally:
        del os.environ["DAGSTER_HOME"]


def shot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def materialize_from_asset_page(page, url: str, asset: str):
    page.goto(f"{url}/assets/{asset}")
    page.get_by_role("button", name=re.compile(r"^Materialize")).first.click()


def test_pipeline_runs_from_the_ui_and_shows_its_results(dagster_ui, browser_page):
    url, home = dagster_ui
    page, errors = browser_page
    instance = instance_at(home)

    page.goto(f"{url}/asset-groups")
    page.wait_for_load_state("networkidle")
    page.get_by_text("importance_shards").first.wait_for(timeout=60_000)
    shot(page, "asset-graph")

    materialize_from_asset_page(page, url, "expression_matrix")
    wait_until(lambda: instance.get_latest_materialization_event(
        AssetKey("expression_matrix")), 180, "expression_matrix")

    materialize_from_asset_page(page, url, "importance_shards")
    page.get_by_role("button", name=re.compile(r"Launch")).last.click()
    keys = set(shard_partitions.get_partition_keys())
    wait_until(lambda: instance.get_materialized_partitions(
        AssetKey("importance_shards")) == keys, 400, "every shard partition")
    page.goto(f"{url}/assets/importance_shards?view=partitions")
    page.get_by_text("shard-0000").first.wait_for(timeout=60_000)
    shot(page, "shard-partitions")

    page.goto(f"{url}/locations/genie_assets/jobs/network_job")
    page.get_by_role("button", name=re.compile(r"Materialize all")).first.click()
    wait_until(lambda: all(instance.get_latest_materialization_event(AssetKey(a))
                           for a in DOWNSTREAM), 400, "the network assets")

    runs = instance.get_runs()
    assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [
        (r.job_name, r.status) for r in runs]

    page.goto(f"{url}/assets/hub_genes")
    page.get_by_text("top_hub").first.wait_for(timeout=60_000)
    page.get_by_text("TF0").first.wait_for(timeout=10_000)
    shot(page, "hub-genes")
    page.goto(f"{url}/assets/network_evaluation")
    page.get_by_text("aupr").first.wait_for(timeout=60_000)
    shot(page, "network-evaluation")

    assert not errors, f"console errors on the UI page: {errors}"
