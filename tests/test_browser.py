"""A real headless Chromium (Debian's, driven by Selenium) browsing the served site: the
index, a tag page with Chinese titles, and a feed rendered by feed.xsl."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.site_server import CHINESE_TAG, Site, build_site, running

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (.ci/run installs them)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 - only once the browser is known to be there
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("browser")
    seeds = root / "seeds"
    seeds.mkdir()
    for article in (Path(__file__).parent.parent / "seeds").iterdir():
        (seeds / article.name).write_bytes(article.read_bytes())
    with running(build_site(root, seeds)) as served:
        yield served


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_index_to_a_tag_page_with_chinese_titles(browser: WebDriver, site: Site) -> None:
    browser.get(site.url + "/")
    assert browser.title == site.settings.title
    names = {link.text: link for link in browser.find_elements(By.CSS_SELECTOR, "a.name")}
    assert {"All entries", "qq", CHINESE_TAG} <= set(names)
    names[CHINESE_TAG].click()
    expected = f"{site.url}/tags/{quote(CHINESE_TAG)}/"
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url == expected)
    titles = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".title")]
    assert titles == ["中文标题：订阅测试"]
    assert browser.find_element(By.TAG_NAME, "h1").text == CHINESE_TAG


def test_the_qq_tag_page_lists_its_entries_newest_first(browser: WebDriver, site: Site) -> None:
    browser.get(site.url + "/")
    browser.find_element(By.LINK_TEXT, "qq").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url.endswith("/tags/qq/"))
    spec = next(s for s in site.feeds if s.kind == "tag" and s.term == "qq")
    titles = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".title")]
    assert titles == [entry.title for entry in spec.entries]
    assert "AI竞赛，欧洲为什么暂时“落后”？" in titles
    feeds = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".formats a")]
    assert feeds == [f"{site.url}/tags/qq/{name}" for name in ("atom.xml", "rss.xml", "feed.json")]


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_a_feed_opened_in_the_browser_explains_how_to_subscribe(
    browser: WebDriver, site: Site, name: str
) -> None:
    browser.get(f"{site.url}/tags/qq/{name}")
    WebDriverWait(browser, 10).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "aside.subscribe")
    )
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "This is a web feed." in text
    assert "Copy its URL into your feed reader to subscribe" in text
    assert browser.find_element(By.CSS_SELECTOR, "aside.subscribe code").text == (
        f"{site.url}/tags/qq/{name}"
    )
    spec = next(s for s in site.feeds if s.kind == "tag" and s.term == "qq")
    links = browser.find_elements(By.CSS_SELECTOR, "ol li > a")
    assert [link.text for link in links] == [entry.title for entry in spec.entries]


def test_pages_fit_a_phone_screen_without_sideways_scrolling(
    browser: WebDriver, site: Site
) -> None:
    browser.set_window_size(360, 740)
    try:
        for path in ("/", "/tags/qq/", f"/tags/{quote(CHINESE_TAG)}/"):
            browser.get(site.url + path)
            width, scrolled = browser.execute_script(
                "return [document.documentElement.clientWidth,"
                " document.documentElement.scrollWidth];"
            )
            assert width <= 400, "the window did not shrink to a phone's width"
            assert scrolled <= width, path
    finally:
        browser.set_window_size(1200, 900)
