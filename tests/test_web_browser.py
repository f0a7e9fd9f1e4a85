"""The web page in a real browser: Debian's headless Chromium, driven by Selenium.

The server runs in a thread of this process; Selenium talks to the system's
chromedriver (an explicit path, so Selenium Manager never downloads a browser or
driver). The test drops a dirty page and a broken file on the page, waits for the
result, downloads it as a user would and checks it, and saves a screenshot
(``web-page.png`` in the test's temporary folder; the guide's picture comes from
it).
"""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from docdenoise.datasets import make_dirty_documents

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A page of the size of a small scan, with small print to zoom in on.
SHAPE = (560, 720)


@pytest.fixture
def server():
    """The web page served on a free port of 127.0.0.1, in a thread."""
    from docdenoise.web import _server, create_app

    local = _server.LocalServer(create_app(), "127.0.0.1", 0)
    thread = threading.Thread(target=local.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(local.url + "api/config", timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield local
    local.stop()
    thread.join(timeout=30)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (as root too) with a fresh profile, downloading into tmp_path."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1100",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    service = Service(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield driver
    driver.quit()


def _wait_for(condition, timeout=120, what="the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


def test_clean_a_page_in_the_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    noisy, clean = make_dirty_documents(1, shape=SHAPE, random_state=3)
    page = tmp_path / "letter.png"
    Image.fromarray(np.round(noisy[0] * 255).astype(np.uint8)).save(page)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a PDF")

    browser.get(server.url)
    limits = browser.find_element(By.ID, "limits")
    _wait_for(lambda: "MB" in limits.text, what="the limits")
    assert "100 MB and 200 pages per file" in limits.text
    browser.find_element(By.ID, "files").send_keys(f"{broken}\n{page}")

    cards = _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "article.job"), what="cards")
    assert [card.find_element(By.CSS_SELECTOR, "h2").text for card in cards] == [
        "broken.pdf",
        "letter.png",
    ]
    refused, jobs = cards[0], cards[1:]
    _wait_for(lambda: jobs[0].get_attribute("data-state") == "done", what="the cleaned page")
    assert refused.get_attribute("data-state") == "refused"
    assert "broken.pdf" in refused.find_element(By.CSS_SELECTOR, ".error").text
    assert jobs[0].find_element(By.CSS_SELECTOR, ".status").text == "cleaned (1 page)"
    assert jobs[0].find_element(By.CSS_SELECTOR, ".pages button").get_attribute("data-state") == (
        "done"
    )
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    for side in ("before", "after"):
        image = jobs[0].find_element(By.CSS_SELECTOR, f"img.{side}")
        assert _wait_for(lambda image=image: browser.execute_script(loaded, image)) == SHAPE[1]

    # zoom in to read the print, move the divider a little to the left
    jobs[0].find_element(By.CSS_SELECTOR, "[data-zoom='1']").click()
    browser.execute_script(
        "const s = arguments[0]; s.value = 38; s.dispatchEvent(new Event('input'));",
        jobs[0].find_element(By.CSS_SELECTOR, ".split"),
    )
    width = browser.execute_script("return arguments[0].getBoundingClientRect().width", image)
    assert width == pytest.approx(SHAPE[1], abs=1)
    browser.save_screenshot(str(tmp_path / "web-page.png"))

    link = jobs[0].find_element(By.CSS_SELECTOR, ".download-result")
    assert link.text == "Download letter-clean.png"
    link.click()
    result = _wait_for(lambda: list((tmp_path / "downloads").glob("*.png")), what="the download")
    assert [p.name for p in result] == ["letter-clean.png"]
    cleaned = np.asarray(Image.open(result[0])).astype(np.float64) / 255
    assert cleaned.shape == SHAPE
    assert _rmse(cleaned, clean[0]) < 0.8 * _rmse(noisy[0], clean[0])

    shot = Image.open(tmp_path / "web-page.png")
    assert shot.size == (1280, browser.execute_script("return window.innerHeight"))
