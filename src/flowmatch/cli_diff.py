"""``flowmatch rulesets`` and ``flowmatch diff``: rule-sets side by side, and what changes between two.

Thin faces over :mod:`flowmatch.catalogue` and :mod:`flowmatch.diff`: parse, one library call, print.
"""

from __future__ import annotations

from typing import Any

import click

from .cli import _console, _emit, exit_with
from .errors import InputError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def rulesets(as_json: bool) -> None:
    """List the packaged rule-sets with their jurisdiction and the dates they are in force."""
    from .catalogue import catalogue_problems
    from .catalogue import rulesets as listed

    infos = listed()
    problems = catalogue_problems(infos)
    if as_json:
        _emit({"rulesets": [i.to_dict() for i in infos], "problems": problems})
        exit_with("findings" if problems else "ok")
    from rich.table import Table

    table = Table(title="规则集 / rule-sets")
    for col in ("名称 name", "规则集 title", "辖区 jurisdiction", "施行 from", "截止 to", "取代 supersedes"):
        table.add_column(col)
    for i in infos:
        table.add_row(
            i.name + (" [dim](默认 default)[/dim]" if i.default else ""),
            f"{i.title}\n[dim]{i.title_en}[/dim]",
            i.jurisdiction or "—",
            str(i.effective_from or "—"),
            str(i.effective_to or "—"),
            ", ".join(i.supersedes) or "—",
        )
    con = _console()
    con.print(table)
    for problem in problems:
        con.print(f"[red]problem[/]: {problem}")
    exit_with("findings" if problems else "ok")


def _pairs(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise InputError(f"--profile takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@click.option(
    "--profile",
    "profile",
    multiple=True,
    metavar="KEY=VALUE",
    help="Fix an answer or switch a flag (repeatable); profiles are enumerated over the rest.",
)
@click.option(
    "--start",
    default=None,
    metavar="YYYY-MM-DD",
    help="With --profile: also schedule that project under both rule-sets from this day.",
)
def diff(old: str, new: str, as_json: bool, profile: tuple[str, ...], start: str | None) -> None:
    """Compare rule-set OLD with NEW over every profile both can answer (names or directories).

    Profiles are grouped by what changes for them; every change must be explained by NEW's item
    map (itemmap.yaml) — exit 1 if one is not.  Comparing a rule-set with an edited copy of itself
    needs no map: every edit is reported, with exactly the profiles it moves.
    """
    from .catalogue import ruleset_path
    from .diff import diff_rulesets as run
    from .diff import under_each
    from .ruleset import load_ruleset

    a, b = load_ruleset(ruleset_path(old)), load_ruleset(ruleset_path(new))
    fixed = _pairs(profile)
    report = run(a, b, profile=fixed)
    projects = under_each([a, b], fixed, start=start) if (fixed or start) else None
    if as_json:
        data = report.to_dict()
        if projects is not None:
            data["project"] = projects
        _emit(data)
        exit_with("ok" if report.ok else "findings")
    _print(report.to_dict(), projects)
    exit_with("ok" if report.ok else "findings")


def _print(data: dict[str, Any], projects: list[dict[str, Any]] | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = _console()
    con.print(
        f"[bold]{data['old']} → {data['new']}[/]: {data['compared']}/{data['profiles']} profiles compared "
        f"({data['coverage']:.0%}); {data['changed']} changed in {len(data['groups'])} groups, "
        f"{data['unchanged']} unchanged; item map: {'yes' if data['item_map'] else 'none (every item same)'}"
    )
    summary = Table(title="汇总 summary (published-figure kind)")
    for col in ("指标 figure", data["old"], data["new"], "变化 change"):
        summary.add_column(col)
    for row in data["summary"]:
        summary.add_row(
            row["label"], str(row["old"]), str(row["new"]), "" if row["change"] is None else f"{row['change']:+g}"
        )
    con.print(summary)
    for n, g in enumerate(data["groups"], start=1):
        mark = "[red]✗ unexplained[/]" if g["unexplained"] else "[green]✓[/]"
        example = " ".join(f"{k}={v}" for k, v in g["example"].items())
        con.print(
            f"\n[bold]{n}. {g['flowchart']}[/] ({g['before']['rule']} → {g['after']['rule']}), "
            f"{g['profiles']} profiles {mark}\n  [dim]e.g. {escape(example)}[/dim]"
        )
        lines = [
            ("removed", ", ".join(f"{r['item']} ({r['how']})" for r in g["steps_removed"])),
            ("merged", ", ".join(f"{r['item']} → {r['into']}" for r in g["steps_merged"])),
            ("added", ", ".join(f"{r['item']} ({r['how']})" for r in g["steps_added"])),
            ("告知承诺 commitment", ", ".join(g["became_commitment"])),
            ("changed", "; ".join(f"{r['item']} {r['property']} {r['change']}" for r in g["items_changed"])),
            ("materials no longer asked", ", ".join(g["materials_no_longer_asked"])),
            ("materials newly asked", ", ".join(g["materials_newly_asked"])),
            ("counted working days", " → ".join(str(x) for x in g["working_days"])),
            ("elapsed working days", " → ".join(str(x) for x in g["elapsed_working_days"])),
            (
                "fees",
                " → ".join(str(x) for x in g["fees"])
                + "".join(f"; −{f}" for f in g["fees_removed"])
                + "".join(f"; +{f}" for f in g["fees_added"]),
            ),
            ("intermediaries", " → ".join(str(x) for x in g["intermediaries"])),
        ]
        for label, text in lines:
            if text:
                con.print(f"  {label}: {escape(text)}")
        for u in g["unexplained"]:
            con.print(f"  [red]unexplained[/]: {escape(u)}")
    for problem in data["problems"]:
        con.print(f"[red]problem[/]: {escape(problem)}")
    if projects:
        table = Table(title="本项目 this project: 按各规则集 under each rule-set")
        for col in (
            "规则集 rules",
            "情形",
            "流程图",
            "审批环节",
            "计时工作日",
            "含不计时",
            "受理 start",
            "办结 finish",
        ):
            table.add_column(col)
        for p in projects:
            s = p.get("schedule") or {}
            table.add_row(
                p["ruleset"],
                p.get("situation") or p["status"] + (f" ({', '.join(p['missing'])})" if p.get("missing") else ""),
                f"{p.get('flowchart', '—')} {p.get('flowchart_name', '')}",
                str(p.get("steps", "—")),
                str(s.get("working_days", "—")),
                str(s.get("elapsed_working_days", "—")),
                str(s.get("start") or "—"),
                str(s.get("finish") or "—"),
            )
        con.print(table)
    con.print(
        "[bold green]OK[/]: every change is explained by the item map"
        if data["ok"]
        else f"[bold red]{data['unexplained']} profiles have changes the item map does not explain[/]"
    )
