"""Shared fixtures: the packaged rule-set and writable copies of it for breaking."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from chromium_support import find_chromium
from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset

CASES = Path(__file__).parent / "cases"

# CI runs a fixed-seed profile (HYPOTHESIS_PROFILE=ci, set by .ci/run) so a run is reproducible;
# developers get fresh random examples each run, which is how the matcher bug of issue 11 was found.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_ruleset(cache=False)


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged rule-set directory."""
    target = tmp_path / "harbin-2014"
    shutil.copytree(default_rules_path(), target)
    return target


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMATCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the system Chromium for Playwright; the test skips (with the reason) when there is none."""
    found = find_chromium()
    if found is None:
        pytest.skip("no system Chromium: install Debian's chromium or set FLOWMATCH_CHROMIUM to the browser")
    return found
