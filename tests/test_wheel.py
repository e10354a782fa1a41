"""The installed wheel (not the source tree) carries and finds the rule-set and the guide templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling (pip install '.[test]')")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    (found,) = out.glob("flowmatch-*.whl")
    return found


def test_wheel_contains_rules_and_guides(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "flowmatch/rules/harbin-2014/ruleset.yaml" in names
    assert "flowmatch/rules/harbin-2014/flowcharts/F10.yaml" in names
    assert "flowmatch/rules/harbin-2019/itemmap.yaml" in names
    assert "flowmatch/rules/harbin-2019/flowcharts/F28.yaml" in names
    assert any(n.startswith("flowmatch/guides/") for n in names)
    # the Typst templates of the PDF notice (flowmatch.typeset), Chinese and English
    for name in ("notice.typ.j2", "style.typ", "partials/step.typ.j2", "en/notice.typ.j2", "en/partials/step.typ.j2"):
        assert f"flowmatch/guides/typst/{name}" in names
    # case tracking migrates its database on first use: the Alembic scripts must ship
    assert "flowmatch/tracking/migrations/env.py" in names
    assert "flowmatch/tracking/migrations/versions/0001_initial.py" in names


def test_wheel_is_typed_and_carries_the_notice_schema(wheel: Path) -> None:
    """PEP 561: type checkers read the installed package only with ``py.typed`` beside it."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "flowmatch/py.typed" in names
    assert "flowmatch/schemas/notice.schema.json" in names


def test_installed_wheel_finds_its_rules_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True
    )
    code = (
        "import flowmatch, flowmatch.ruleset as r; p = r.default_rules_path(); "
        "print(flowmatch.__file__); print(p); rs = flowmatch.load_ruleset(cache=False); print(len(rs.flowcharts))"
    )
    env = {k: v for k, v in os.environ.items() if k != "FLOWMATCH_RULES"}
    env["PYTHONPATH"] = str(target)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, check=True
    )
    module, rules, count = result.stdout.split("\n")[:3]
    assert module.startswith(str(target))
    assert rules == str(target / "flowmatch" / "rules" / "harbin-2014")
    assert count == "27"
