"""Finding the system browser for the Playwright tests (no browser downloads on CI machines)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def find_chromium() -> str | None:
    """The system browser: ``$FLOWMATCH_CHROMIUM`` when set, else the first Chromium/Chrome on PATH."""
    named = os.environ.get("FLOWMATCH_CHROMIUM")
    if named:
        return named if Path(named).exists() else shutil.which(named)
    for name in ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None
