"""`vanban serve` in a real browser: Debian's chromium driven headless by Playwright.

The test processes a seed text and the sample scan with the real pipeline, starts `vanban serve
--review` on a free port, searches without marks, opens the scanned document, sees a line's scan
crop, corrects a word, reloads and sees the correction kept; then stops the server. With
VANBAN_SCREENSHOTS=DIR it also saves the search, document and agency pages there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, needs_ocr, run_vanban

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLE = REPO / "examples" / "kh-sample.pdf"
CORRECTION = "HIỆUĐÍNH"

pytestmark = [pytest.mark.slow, needs_ocr]


def chromium_or_skip() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed (`apt-get install -y chromium`, in `make system`)"
        )
    pytest.importorskip("playwright.sync_api", reason="pip package playwright is not installed")


def seed_text() -> Path:
    """A seed document from ../shared, else the sample's own ground-truth text."""
    seeds = sorted((SHARED / "seeds").glob("002_*.txt"))
    return seeds[0] if seeds else REPO / "examples" / "kh-sample.gt.txt"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    chromium_or_skip()
    if not shutil.which("tesseract"):
        pytest.skip("needs tesseract")
    work = tmp_path_factory.mktemp("serve-browser")
    inputs = work / "inputs"
    inputs.mkdir()
    shutil.copy(SAMPLE, inputs / "kh-sample.pdf")
    shutil.copy(seed_text(), inputs / "seed.txt")
    out = work / "out"
    result = run_vanban("process", str(inputs), "-o", str(out), "-q", "--jobs", "2", timeout=900)
    assert result.returncode == 0, result.stderr
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(outdir: Path, tmp_path: Path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "vanban.cli",
        "serve",
        str(outdir),
        "--db",
        str(tmp_path / "corpus.sqlite"),
        "--port",
        str(port),
        "--review",
        "--reviewer",
        "browser-test",
        "--cache",
        str(tmp_path / "cache"),
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"vanban serve did not start: {output}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_search_open_see_scan_correct_reload(server: str, outdir: Path):
    from playwright.sync_api import sync_playwright

    shots = os.environ.get("VANBAN_SCREENSHOTS")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server + "/")
            page.fill("form.bigsearch input[name=q]", "cong an chu tri")
            page.click("form.bigsearch button[type=submit]")
            page.wait_for_selector("li.hit")
            assert "q=cong+an+chu+tri" in page.url  # a shareable URL
            assert page.locator("li.hit mark").count() > 0
            if shots:
                page.screenshot(path=f"{shots}/search.png")

            page.locator("li.hit .head a[href*='kh-sample']").first.click()
            page.wait_for_selector("ol.lines")
            marked = page.locator("ol.lines li:has(span.changed), ol.lines li:has(span.doubtful)")
            assert marked.count() > 0, "the restorer changed or doubted no word of the scan"
            line_id = marked.first.get_attribute("id")
            marked.first.locator("a.ln").click()
            page.wait_for_selector("img.crop")
            loaded = "img => img.complete && img.naturalWidth > 100 && img.naturalHeight > 10"
            page.wait_for_function(loaded, arg=page.locator("img.crop").element_handle())
            assert page.locator(f"li#{line_id}.selected").count() == 1
            assert page.locator("dd.ocr").inner_text().strip()
            if shots:
                page.screenshot(path=f"{shots}/document.png")

            form = page.locator("form[action='/review/word']").first
            before = form.locator("input[name=before]").get_attribute("value")
            form.locator("input[name=after]").fill(CORRECTION)
            form.locator("button[value=correct]").click()
            page.wait_for_selector(f"li#{line_id}.selected")
            page.reload()
            fixed = page.locator(f"li#{line_id} span.corrected")
            assert fixed.inner_text() == CORRECTION
            assert f"“{before}” → “{CORRECTION}”" in page.locator("ul.history").first.inner_text()

            page.locator("table.tasks a[href^='/agency']").first.click()
            page.wait_for_selector("h1")
            assert page.locator("table.tasks tr").count() >= 2
            if shots:
                page.screenshot(path=f"{shots}/agency.png")
        finally:
            browser.close()
    (record,) = [
        json.loads(x) for x in (outdir / "vanban-corrections.jsonl").read_text().splitlines()
    ]
    assert (record["who"], record["before"], record["after"]) == (
        "browser-test",
        before,
        CORRECTION,
    )
