"""The browser tests' fixture: one headless Chromium (Debian's, through Playwright) for the
whole session. Everything in this folder is marked `browser` and `server` (tests/conftest.py),
and is not collected when a `-m` expression rules those out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium import ARGS, CHROMIUM
from playwright.sync_api import Browser, sync_playwright


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
