"""Issue 20, cases 7 and 11: a user template cannot change what later notices print, and cannot
read files outside its template directory through a symbolic link."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

import pytest

import flowmatch
from flowmatch import render
from flowmatch.errors import RenderError
from flowmatch.flows import for_situation
from flowmatch.matcher import matcher_for
from flowmatch.ruleset import load_ruleset
from flowmatch.scheduler import schedule

from ._support import BASE

RS = load_ruleset(BASE, cache=False)
START = dt.date(2026, 3, 2)


def _notice(fmt: str = "html", templates: Path | None = None) -> Any:
    result = matcher_for(RS).match({"kind": "road"})
    plan = schedule(for_situation(RS, result.situation or "", flags=result.flags), START, ruleset=RS)
    return render.render_guide(result, plan, fmt, ruleset=RS, templates=templates, generated=START)


def _template(tmp_path: Path, body: str, name: str = "notice.html.j2") -> Path:
    directory = tmp_path / "templates"
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")
    render._ENVIRONMENTS.clear()
    return directory


# --- 7. no template can poison later notices -------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "{{ stages.update({1: 'CANCELLED'}) }}",
        "{% set _ = stages.__setitem__(1, 'CANCELLED') %}",
        "{{ stages.clear() }}",
        "{{ header.answers.append({}) }}",
        "{{ fees.pop() if fees else steps.__class__ }}",
    ],
)
def test_a_user_template_cannot_change_what_later_notices_print(tmp_path: Path, body: str) -> None:
    before = _notice("md")
    stages = dict(render.STAGES)
    templates = _template(tmp_path, "ok\n" + body + "\n")
    with pytest.raises(RenderError, match=r"^template notice\.html\.j2, line 2: "):
        _notice("html", templates)
    assert dict(render.STAGES) == stages
    assert _notice("md") == before
    assert "CANCELLED" not in _notice("html")


def _module_mutables() -> dict[int, str]:
    """Every dict, list, set or bytearray held at module level by a flowmatch module."""
    found: dict[int, str] = {}
    for info in pkgutil.walk_packages(flowmatch.__path__, "flowmatch."):
        if info.name.startswith("flowmatch.web") and "starlette" not in sys.modules:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        for name, value in vars(module).items():
            if isinstance(value, (dict, list, set, bytearray)) and not name.startswith("__"):
                found[id(value)] = f"{info.name}.{name}"
    return found


def test_no_module_level_mutable_state_reaches_a_template() -> None:
    result = matcher_for(RS).match({"kind": "road"})
    plan = schedule(for_situation(RS, result.situation or "", flags=result.flags), START, ruleset=RS)
    context = render.build_context(result, plan, ruleset=RS, generated=START)
    mutables = _module_mutables()
    seen: set[int] = set()
    shared: list[str] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if id(value) in seen or depth > 6:
            return
        seen.add(id(value))
        if id(value) in mutables:
            shared.append(f"{path} is {mutables[id(value)]}")
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}", depth + 1)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", depth + 1)

    for key, value in context.items():
        walk(value, key, 0)
    assert shared == []


# --- 11. template paths stay inside the template directory ------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links")
@pytest.mark.parametrize("how", ["include", "top"])
def test_a_symlinked_template_cannot_leave_the_directory(tmp_path: Path, how: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    templates = _template(tmp_path, "{% include 'passwd.j2' %}\n")
    if how == "include":
        (templates / "passwd.j2").symlink_to(secret)
    else:
        (templates / "notice.html.j2").unlink()
        (templates / "notice.html.j2").symlink_to(secret)
    with pytest.raises(RenderError, match="leads outside the template directory") as err:
        _notice("html", templates)
    assert "TOP-SECRET" not in str(err.value)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links")
def test_a_symlink_inside_the_directory_still_works(tmp_path: Path) -> None:
    templates = _template(tmp_path, "自定义 {{ header.flowchart.id }}\n", name="real.j2")
    (templates / "notice.md.j2").symlink_to(templates / "real.j2")
    assert _notice("md", templates) == "自定义 F02\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_template_is_refused_at_once(tmp_path: Path) -> None:
    templates = _template(tmp_path, "x", name="unused.j2")
    os.mkfifo(templates / "notice.md.j2")
    with pytest.raises(RenderError, match="a FIFO"):
        _notice("md", templates)
