"""Shared fixtures: the packaged rule-set and writable copies of it for breaking."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset

CASES = Path(__file__).parent / "cases"


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
