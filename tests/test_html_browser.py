"""The HTML report in a real headless browser: it opens, shows every sentence, and logs no errors.

Needs Chromium and chromedriver (Debian: chromium, chromium-driver) and selenium; skipped without them.
"""

import shutil
from pathlib import Path

import pytest

from conftest import RAW
from propclf.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromedriver are not installed")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_report_renders_every_sentence_without_errors(browser, tmp_path: Path, capsys):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    report = tmp_path / "report.html"
    seeds = [str(RAW / "000_c312eb8dd21f1c61.txt"), str(RAW / "003_da91d92bb086c2ce.txt")]
    assert main(["predict", "--format", "html", "-o", str(report), *seeds]) == 0
    capsys.readouterr()
    browser.get(report.as_uri())
    sentences = browser.find_elements(By.CSS_SELECTOR, "span.s")
    assert len(sentences) == 57 + 35
    assert all(s.is_displayed() and s.text.strip() for s in sentences)
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.doc")) == 2
    # Hovering a sentence fills the side panel with its probabilities and the words behind it.
    target = next(s for s in sentences if s.get_attribute("data-label") == "critique")
    ActionChains(browser).move_to_element(target).perform()
    panel = browser.find_element(By.ID, "detail").text
    assert panel.startswith("critique") and "slogan" in panel and "Words that drove it" in panel
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_report_of_a_tagged_pdf_shows_the_page_of_each_sentence(browser, tmp_path: Path, capsys):
    pytest.importorskip("pypdf")
    pytest.importorskip("fpdf")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from test_formats import make_pdf

    pdf = make_pdf(tmp_path / "report.pdf")
    report = tmp_path / "report.html"
    assert main(["predict", "--format", "html", "-o", str(report), str(pdf)]) == 0
    capsys.readouterr()
    browser.get(report.as_uri())
    markers = browser.find_elements(By.CSS_SELECTOR, "span.page")
    assert [m.text for m in markers] == ["p. 1", "p. 2", "p. 3"] and all(m.is_displayed() for m in markers)
    sentences = browser.find_elements(By.CSS_SELECTOR, "span.s")
    assert sentences and all(s.get_attribute("data-page") in ("1", "2", "3") for s in sentences)
    target = next(s for s in sentences if s.text == "Long live the great leader!")
    ActionChains(browser).move_to_element(target).perform()
    assert "Page 2 of the PDF" in browser.find_element(By.ID, "detail").text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
