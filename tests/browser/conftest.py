"""A real browser for the pages the platform serves: Debian's Chromium driven by
Playwright (installed by the project's set-up; nothing downloads a browser build).

Every test gets a fresh context (no cookies, no storage) at 1280 px; `phone` gives a
phone-sized one. `shot(page, name)` writes a full-page screenshot under
PAYLOOPS_ARTIFACTS_DIR (default test-artifacts/screenshots) as a test artifact."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.shop import running_shop

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PAYLOOPS_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("no Chromium on PATH: the README's set-up installs Debian's chromium package")
    return path


# Per module, not per session: while Playwright's sync driver runs, the main thread has a
# running event loop, which the suite's asyncio tests (run later) must not find.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
    yield launched
    launched.close()


def new_context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(30_000)
    return context


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    """The merchant's own site (success and cancel URLs)."""
    with running_shop() as url:
        yield url


@pytest.fixture(scope="session")
def shot() -> Callable[[Page, str], Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
