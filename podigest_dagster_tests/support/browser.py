"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium, for page tests.

Selenium never goes to the network here: the driver path is given to `Service`, which makes Selenium
skip Selenium Manager altogether, and `SE_OFFLINE=true` is set as well in case anything calls it.

    with headless_chrome() as driver:
        driver.get(url)
        assert console_errors(driver) == []
        save_screenshot(driver, tmp_path / "page.png")
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("PODIGEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PODIGEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_LOAD_TIMEOUT_S = 30


def chromium_available() -> str | None:
    """None when a headless Chromium can be driven here, else why not (for `pytest.skip(reason)`)."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install selenium)"
    for what, path, package in (
        ("chromium", CHROMIUM, "chromium"),
        ("chromedriver", CHROMEDRIVER, "chromium-driver"),
    ):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{what} not found at {path} (apt-get install -y {package})"
    return None


def chrome_options(width: int = 1280, height: int = 900, user_data_dir: str | None = None) -> Any:
    """The Chromium options `headless_chrome` uses: headless, root-in-a-container safe, console logged."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",  # root in a container: the setuid/namespace sandbox cannot start
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-gpu",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    if user_data_dir:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@contextmanager
def headless_chrome(width: int = 1280, height: int = 900) -> Iterator[WebDriver]:
    """A headless Chromium WebDriver with a fresh temp profile; always quit and its profile removed."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = chromium_available()
    if reason:
        raise RuntimeError(reason)
    profile = tempfile.mkdtemp(prefix="podigest-chromium-")
    driver = None
    try:
        # An explicit driver path: Selenium Manager is not run at all (no download, no network).
        service = Service(executable_path=CHROMEDRIVER)
        driver = webdriver.Chrome(service=service, options=chrome_options(width, height, profile))
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        driver.set_script_timeout(PAGE_LOAD_TIMEOUT_S)
        set_viewport(driver, width, height)
        yield driver
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass  # the browser may already be gone; its profile is removed all the same
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """Make the page's viewport (innerWidth x innerHeight, screenshot size) exactly width x height.

    Through Chromium's device-metrics override: `--window-size` and `set_window_size` size the outer
    window, which in new headless mode is taller than the viewport (1280x900 gives 1280x757), and a
    small window (400x120) is reported as resized while the viewport does not change.
    """
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def console_logs(driver: WebDriver) -> list[dict[str, Any]]:
    """Browser console entries since the last call (Chromium hands each entry out once)."""
    return list(driver.get_log("browser"))


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """SEVERE browser console entries since the last call: JS errors, failed loads, console.error."""
    return [entry for entry in console_logs(driver) if entry.get("level") == "SEVERE"]


def save_screenshot(
    driver: WebDriver, path: str | os.PathLike[str], width: int = 1280, height: int = 900
) -> Path:
    """A PNG of the viewport at exactly width x height CSS pixels; returns the path.

    The viewport is set first and stays at that size for the pages loaded after.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    set_viewport(driver, width, height)
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"screenshot failed: {path}")
    return path
