"""Issue 20, case 9: user and rule data reach the terminal escaped for rich and without control
characters — ``[/]`` cannot crash the output, ``[bold]x[/bold]`` cannot restyle it, ESC and NUL
never reach the terminal raw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowmatch.cli import main
from flowmatch.terminal import clean, esc

from ._support import BASE, apply_edits, copy_base

MARKUP = ["[/]", "[bold]x[/bold]", "[link=http://evil.example]y[/link]", ":smiley:", "trailing\\"]
CONTROLS = ["\x1b[31m", "\x00", "\x07", "\x08", "\x9b", "\u202e"]


def _invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), color=True)  # color: click would strip ANSI codes itself
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def _no_controls(text: str) -> None:
    for ch in ("\x1b", "\x00", "\x07", "\x08", "\x9b", "\u202e"):
        assert ch not in text, repr(text)


@pytest.mark.parametrize("key", ["[/]", "[bold]x[/bold]", "[red]", ":smiley:"])
def test_match_shows_markup_in_answers_literally(key: str) -> None:
    result = _invoke("match", "--rules", str(BASE), f"{key}=x")
    assert result.exit_code == 2
    assert key in result.output


def test_match_strips_control_characters() -> None:
    result = _invoke("match", "--rules", str(BASE), "\x1b[31mred\x00\x07\u202e=x", "kind=\x1b[2J")
    assert result.exit_code == 2
    _no_controls(result.output)
    assert "[31mred" in result.output


def test_rule_data_with_markup_is_listed_literally(tmp_path: Path) -> None:
    root = copy_base(tmp_path)
    situations = (root / "situations.yaml").read_text(encoding="utf-8")
    name = next(line for line in situations.splitlines() if line.strip().startswith("name:"))
    apply_edits(
        root,
        [
            {
                "file": "situations.yaml",
                "old": name + "\n",
                "new": name.split("name:")[0] + 'name: "[/] [bold]粗体[/bold] \\e[31m"\n',
            }
        ],
    )
    for command in (["list"], ["match", "kind=road"], ["match", "kind=building", "investor=government"]):
        result = _invoke(command[0], "--rules", str(root), *command[1:])
        assert result.exit_code in (0, 1, 2), result.output
        _no_controls(result.output)
    listed = _invoke("list", "--rules", str(root))
    assert "[/] [bold]粗体[/bold]" in listed.output


def test_a_batch_report_shows_hostile_ids_literally(tmp_path: Path) -> None:
    batch = tmp_path / "b.csv"
    batch.write_text('id,kind\n[/],road\n"[bold]x[/bold]",road\n"a\x1bb",road\n', encoding="utf-8")
    result = _invoke("guide", "--rules", str(BASE), "--batch", str(batch), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "[/]" in result.stderr and "[bold]x[/bold]" in result.stderr
    _no_controls(result.stderr)


def test_error_messages_strip_control_characters(tmp_path: Path) -> None:
    result = _invoke("guide", "--rules", str(BASE), "kind=road", "-o", str(tmp_path / "no\x1b[2J" / "x.html"))
    assert result.exit_code == 2
    _no_controls(result.stderr)


@pytest.mark.parametrize("text", [*MARKUP, *CONTROLS, "正常"])
def test_esc_round_trips_through_rich(text: str) -> None:
    from rich.console import Console

    console = Console(width=200, highlight=False, emoji=False, color_system=None, record=True)
    console.print(f"[bold]{esc(text)}[/bold]")
    shown = console.export_text().rstrip("\n")
    assert shown == clean(text)
    _no_controls(shown)


def test_a_notice_on_standard_output_carries_no_control_characters() -> None:
    result = _invoke(
        "guide",
        "--rules",
        str(BASE),
        "kind=road",
        "--start",
        "2026-03-02",
        "--format",
        "md",
        "--name",
        "项目\x1b[2J\x00",
        "--applicant",
        "\u202e公司",
    )
    assert result.exit_code == 0, result.output
    _no_controls(result.stdout)
    assert "项目\ufffd[2J\ufffd" in result.stdout
