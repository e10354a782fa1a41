"""The ``flowmatch`` command. Each command parses, makes one library call, prints.

Exit codes (SPEC §8), decided in one place (:data:`EXIT_CODES`, :func:`exit_code`, :func:`exit_with`):
0 success; 1 findings or a failed operation; 2 bad usage or bad input; 130 interrupted (Ctrl-C).
Every command ends with ``exit_with(<outcome word>)`` or an error; none computes a number itself.
Heavy modules are imported inside the commands that need them so that ``flowmatch match`` starts fast.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .calendar import plain_days
from .errors import FlowmatchError, InputError, RuleSetError
from .terminal import clean, esc

if TYPE_CHECKING:
    from .matcher import MatchResult
    from .ruleset import RuleSet
    from .scheduler import Schedule

EXIT_CODES = {
    # what a command ends with -> its exit code (the one table)
    "ok": 0,
    "matched": 0,
    "findings": 1,
    "failed": 1,
    "not_found": 1,
    "incomplete": 1,
    "not_applicable": 1,
    "undetermined": 1,
    "invalid": 2,
    "usage": 2,
    "interrupted": 130,  # Ctrl-C: the shell's convention, 128 + SIGINT
}
STATUS_EXIT = {k: EXIT_CODES[k] for k in ("matched", "incomplete", "not_applicable", "invalid")}
INTERRUPTED = EXIT_CODES["interrupted"]


def exit_code(outcome: str | BaseException) -> int:
    """The exit code of an outcome word (:data:`EXIT_CODES`) or of an error: bad input or a bad
    rule-set 2 (``usage``), any other flowmatch error 1 (``failed``)."""
    if isinstance(outcome, BaseException):
        if isinstance(outcome, KeyboardInterrupt):
            return EXIT_CODES["interrupted"]
        bad = isinstance(outcome, (RuleSetError, InputError, click.UsageError))
        return EXIT_CODES["usage" if bad else "failed"]
    return EXIT_CODES[outcome]


def exit_with(outcome: str) -> NoReturn:
    """End the command with the exit code of ``outcome`` (a key of :data:`EXIT_CODES`)."""
    sys.exit(exit_code(outcome))


_exit_code = exit_code  # the name the tests and other faces used


# Commands that live in their own modules, imported only when used (fast start for the rest).
LAZY_COMMANDS = {
    "guide": "flowmatch.cli_guide:guide",
    "search": "flowmatch.cli_find:search",
    "ask": "flowmatch.cli_find:ask",
    "serve": "flowmatch.cli_find:serve",
    "diff": "flowmatch.cli_diff:diff",
    "rulesets": "flowmatch.cli_diff:rulesets",
    "case": "flowmatch.cli_case:case",
    "audit": "flowmatch.cli_case:audit",
    "users": "flowmatch.cli_users:users",
    "tokens": "flowmatch.cli_users:tokens",
    "certs": "flowmatch.cli_certs:certs",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if _lazy_available(n))})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is not None or name not in LAZY_COMMANDS or not _lazy_available(name):
            return found
        module, _, attr = LAZY_COMMANDS[name].partition(":")
        from importlib import import_module

        command: click.Command = getattr(import_module(module), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FlowmatchError as exc:
            click.echo(f"error: {clean(exc)}", err=True)
            ctx.exit(exit_code(exc))
        except KeyboardInterrupt:  # Ctrl-C: the shell's convention, 128 + SIGINT
            click.echo("interrupted", err=True)
            ctx.exit(INTERRUPTED)


def _lazy_available(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(LAZY_COMMANDS[name].partition(":")[0]) is not None


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _console() -> Any:
    from .terminal import console

    return console()


def _load(rules: Path | None) -> RuleSet:
    """The rule-set ``--rules`` (a directory or a packaged name) and ``--as-of`` pick."""
    from .ruleset import default_ruleset, load_ruleset

    ctx = click.get_current_context(silent=True)
    as_of = ctx.meta.get(AS_OF) if ctx is not None else None
    if rules is None and as_of is None:
        return default_ruleset()
    from .catalogue import select_rules

    path = select_rules(rules, as_of)
    return load_ruleset(path) if path is not None else default_ruleset()


AS_OF = "flowmatch.as_of"


def _remember_as_of(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[AS_OF] = value


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(func)
    func = click.option(
        "--as-of",
        metavar="YYYY-MM-DD",
        expose_value=False,
        callback=_remember_as_of,
        help="Use the rule-set in force on this date (see `flowmatch rulesets`).",
    )(func)
    func = click.option(
        "--rules",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Rule-set directory or packaged name, e.g. harbin-2019 (default: harbin-2014).",
    )(func)
    return func


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="flowmatch")
def main() -> None:
    """flowmatch — 建设项目审批流程智能适配 / construction-project approval flows as data.

    Answer a few questions about a project; get the one optimal approval flowchart, its schedule
    on the official working-day calendar and the one-time notice (一次性告知书).
    """


# --- attributes ----------------------------------------------------------------------------------
@main.command()
@common
def attributes(rules: Path | None, as_json: bool) -> None:
    """List the questions (attributes), their values and when each is asked."""
    from .conditions import to_data

    rs = _load(rules)
    data: list[dict[str, Any]] = [
        {
            "id": a.id,
            "label": a.label,
            "gloss": a.gloss,
            "help": a.help,
            "values": [{"id": vid, "label": v.label, "gloss": v.gloss} for vid, v in a.values.items()],
            "asked_when": to_data(a.asked_when) if a.asked_when is not None else None,
            "kind": "choice",
        }
        for a in rs.attributes.values()
    ] + [
        {
            "id": f.id,
            "label": f.label,
            "gloss": f.gloss,
            "help": f.help,
            "values": [{"id": "true", "label": "是"}, {"id": "false", "label": "否"}],
            "asked_when": None,
            "kind": "flag",
        }
        for f in rs.flags.values()
    ]
    if as_json:
        _emit(data)
        return
    from rich.table import Table

    table = Table(title=f"{esc(rs.name)} — 问题 / attributes", show_lines=True)
    for col in ("attribute", "问题 / question", "取值 / values", "何时询问 / asked when"):
        table.add_column(col)
    for row in data:
        values = "\n".join(f"{esc(v['id'])}  {esc(v['label'])}" for v in row["values"])
        table.add_row(
            esc(row["id"]),
            f"{esc(row['label'])}\n[dim]{esc(row['gloss'])}[/dim]",
            values,
            esc(_cond_text(rs, row["asked_when"]))
            if row["asked_when"]
            else ("可选开关 flag" if row["kind"] == "flag" else "总是 always"),
        )
    _console().print(table)


def _cond_text(rs: RuleSet, data: Any) -> str:
    ((op, arg),) = data.items()
    if op in ("all", "any"):
        joiner = " 且 " if op == "all" else " 或 "
        return "(" + joiner.join(_cond_text(rs, c) for c in arg) + ")"
    if op == "not":
        return "非 " + _cond_text(rs, arg)
    parts = []
    for attr, value in arg.items():
        values = value if isinstance(value, list) else [value]
        a = rs.attributes.get(attr)
        labels = "/".join(a.values[v].label if a and v in a.values else str(v) for v in values)
        parts.append(f"{a.label if a else attr}={labels}")
    return " 且 ".join(parts)


# --- match ---------------------------------------------------------------------------------------
@main.command()
@common
@click.argument("pairs", nargs=-1, metavar="ATTRIBUTE=VALUE... | -")
def match(rules: Path | None, as_json: bool, pairs: tuple[str, ...]) -> None:
    """Match a project to its situation and flowchart.

    Give answers as ATTRIBUTE=VALUE pairs (flags as FLAG=true), or '-' to read JSON Lines
    profiles on stdin and write one JSON result per line.
    """
    from .matcher import matcher_for, parse_pairs

    rs = _load(rules)
    matcher = matcher_for(rs)
    if pairs == ("-",):
        import gc

        # the rule-set and the matcher live as long as the process: the collector's full passes,
        # which a long batch triggers again and again, need not walk them each time
        gc.freeze()
        bad = _match_stream(matcher, sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin, sys.stdout)
        exit_with("invalid" if bad else "ok")
    if not pairs:
        raise InputError("give ATTRIBUTE=VALUE pairs or '-' for JSON Lines on stdin", allowed=list(rs.attributes))
    result = matcher.match(parse_pairs(list(pairs)))
    if as_json:
        _emit(result.to_dict())
    else:
        _print_match(rs, result)
    exit_with(result.status)


# JSON Lines batches (``match -``): bounded memory whatever comes in.
MAX_LINE = 1 << 20  # bytes in one input line; a longer line is answered with an error and skipped
MEMO_LINE = 4096  # only lines this short are remembered for repeats ...
MEMO_BYTES = 8 << 20  # ... and only this many bytes of them in all


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(f"number {shown} is out of range")
    return value


def _lines(source: Iterable[str | bytes]) -> Iterator[tuple[str | bytes, bool]]:
    """The lines of ``source``, each with whether it was longer than :data:`MAX_LINE` (such a line
    is read in pieces and dropped, never held whole)."""
    for block in _blocks(source):
        yield from block


def _blocks(source: Iterable[str | bytes]) -> Iterator[list[tuple[str | bytes, bool]]]:
    """The lines of ``source`` as :func:`_lines` gives them, a list at a time: what one read of a
    binary stream brings (``read1``: never waits for more than is there), else one line a list."""
    if not isinstance(source, io.BufferedIOBase):
        for item in _one_by_one(source):
            yield [item]
        return
    read1 = source.read1
    pending = b""  # the start of a line whose end has not come yet
    skipping = False  # inside a line already reported too long
    while True:
        chunk = read1(1 << 16)
        if not chunk:
            break
        pieces = chunk.split(b"\n")
        block: list[tuple[str | bytes, bool]] = []
        last = len(pieces) - 1
        for k, piece in enumerate(pieces):
            if k == last:  # no newline after it (yet)
                if not skipping:
                    pending += piece
                    if len(pending) > MAX_LINE:  # reported now, the rest of it skipped as it comes
                        block.append((b"", True))
                        pending, skipping = b"", True
                break
            if skipping:  # the end of a line already reported
                skipping = False
                continue
            line = pending + piece if pending else piece
            pending = b""
            block.append((b"", True) if len(line) > MAX_LINE else (line, False))
        if block:
            yield block
    if pending:
        yield [(pending, False)]


def _one_by_one(source: Iterable[str | bytes]) -> Iterator[tuple[str | bytes, bool]]:
    readline = getattr(source, "readline", None)
    if readline is None:
        for raw in source:
            yield raw, len(raw) > MAX_LINE + 2
        return
    while True:
        raw = readline(MAX_LINE + 1)
        if not raw:
            return
        newline = b"\n" if isinstance(raw, bytes) else "\n"
        if len(raw) > MAX_LINE and not raw.endswith(newline):
            while True:  # skip the rest of the line
                rest = readline(1 << 16)
                if not rest or rest.endswith(newline):
                    break
            yield raw[:0], True
        else:
            yield raw, False


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_RAW_DECODE = _DECODER.raw_decode


def _answer(matcher: Any, lines: Any, text: str) -> str:
    """One JSON Lines input line's output line, numbered 0 (the caller puts the number in).  A
    matched profile's line is joined from encoded parts (:class:`flowmatch.matcher.ResultLines`)."""
    try:
        # ``text`` is stripped, so no JSON whitespace is around it: raw_decode is decode without its
        # two whitespace scans; anything after the value is left to decode, which names the error
        profile, end = _RAW_DECODE(text)
        if end != len(text):
            profile = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return _dump({"line": 0, "status": "invalid", "error": f"line is not valid JSON: {detail}"})
    if type(profile) is not dict:
        return _dump(
            {
                "line": 0,
                "status": "invalid",
                "error": f"expected a JSON object of attribute to value, got {type(profile).__name__}",
            }
        )
    if "\\" in text:  # only an escape can make a lone surrogate out of valid UTF-8
        try:
            json.dumps(profile, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError, ValueError):
            problem = "line is not valid JSON: text with a lone surrogate (such as \\ud800) is not Unicode"
            return _dump({"line": 0, "status": "invalid", "error": problem})
    parts = matcher.leaf_parts(profile)  # most lines of a batch: a leaf reached before, no flags
    if parts is not None:
        return str(lines.derived_line(0, *parts))
    result = matcher.match(profile)
    if result.status == "invalid":
        return _dump({"line": 0, **result.to_dict()})
    return str(lines.line(0, result))


def _dump(out: dict[str, Any]) -> str:
    """``out`` as one line of strict JSON (RFC 8259) that encodes as UTF-8, whatever it holds."""
    try:
        text = json.dumps(out, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
        text = json.dumps({"line": 0, "status": "invalid", "error": "the result could not be written as JSON"})
    return text + "\n"


def _match_stream(matcher: Any, source: Iterable[str | bytes], sink: Any) -> int:
    """JSON Lines in, JSON Lines out; a bad line is reported in place and the rest go on.

    Exactly one output line per non-blank input line, always strict JSON in UTF-8.  Lines are read
    as bytes and decoded one by one, so a line that is not UTF-8, not JSON, nested too deeply, longer
    than :data:`MAX_LINE`, using NaN/Infinity or numbers out of range, or holding lone surrogates is
    reported with its number and never ends the batch.  Repeated short lines are answered from a
    cache of at most :data:`MEMO_BYTES` bytes.  A binary stream is read as it comes (what is there,
    up to 64 KiB at a time) and the answers to each read are written together."""
    from .matcher import ResultLines

    lines = ResultLines()
    memo: dict[str, tuple[str, bool]] = {}  # a line's answer after its number, and whether it is invalid
    memo_bytes = 0
    bad = 0
    target = getattr(sink, "buffer", None)
    start = len('{"line": 0')  # every answer begins so (numbered 0): the number goes in its place

    def write(text: str) -> None:
        if target is not None:
            target.write(text.encode("utf-8"))
        else:
            sink.write(text)

    number = 0
    for block in _blocks(source):
        out: list[str] = []  # the answers to what one read brought, written together
        try:
            for raw, too_long in block:
                number += 1
                if too_long:
                    bad += 1
                    out.append(
                        _dump(
                            {
                                "line": number,
                                "status": "invalid",
                                "error": f"line is longer than {MAX_LINE} bytes; one profile is a few hundred",
                            }
                        )
                    )
                    continue
                if isinstance(raw, bytes):
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        bad += 1
                        out.append(
                            _dump(
                                {
                                    "line": number,
                                    "status": "invalid",
                                    "error": f"line is not valid UTF-8 (byte {exc.start + 1})",
                                }
                            )
                        )
                        continue
                else:
                    line = raw
                text = line.strip()
                if not text:
                    continue
                cached = memo.get(text)
                if cached is None:
                    answer = _answer(matcher, lines, text)
                    cached = (answer[start:], answer.startswith('{"line": 0, "status": "invalid"'))
                    if len(text) <= MEMO_LINE and memo_bytes + len(text) + len(answer) <= MEMO_BYTES:
                        memo[text] = cached
                        memo_bytes += len(text) + len(answer)
                if cached[1]:
                    bad += 1
                out.append(f'{{"line": {number}{cached[0]}')
        finally:  # even when interrupted: every answer made is written
            if out:
                write("".join(out))
    if target is not None:
        target.flush()
    return bad


def _print_match(rs: RuleSet, result: MatchResult) -> None:
    con = _console()
    if result.status == "matched":
        assert result.situation and result.flowchart
        flow = rs.flowcharts[result.flowchart]
        cat = rs.manifest.categories[flow.category or ""]
        con.print(f"[bold green]{esc(result.situation)}[/] {esc(result.name)}")
        con.print(f"流程图 flowchart [bold]{esc(result.flowchart)}[/] {esc(flow.name)}（{esc(flow.name_en)}）")
        con.print(f"类别 category: {esc(cat.label)}（{esc(result.category)}）\n")
        for line in result.explanation[1:]:
            con.print("  " + esc(line))
    elif result.status == "not_applicable":
        con.print(f"[bold yellow]不适用 not applicable[/]（{esc(result.rule)}）：{esc(result.reason)}")
        if result.legal_basis:
            con.print(f"  依据 legal basis：{esc(result.legal_basis)}")
        if result.consider:
            con.print(f"  可考虑 consider：{esc(result.consider)} {esc(rs.situations[result.consider].name)}")
    elif result.status == "incomplete":
        con.print("[bold yellow]还需回答 incomplete[/] — still needed, in this order:")
        for attr in result.missing:
            a = rs.attributes[attr]
            con.print(
                f"  {esc(attr)}  {esc(a.label)}（{esc(a.gloss)}）: "
                + ", ".join(f"{esc(v)}={esc(x.label)}" for v, x in a.values.items())
            )
    else:
        con.print("[bold red]输入有误 invalid[/]")
        for bad in result.invalid:
            con.print("  " + esc(bad.text()))


# --- list / show -----------------------------------------------------------------------------------
@main.command(name="list")
@common
@click.option("--category", default=None, help="Only this category id.")
def list_(rules: Path | None, as_json: bool, category: str | None) -> None:
    """List flowcharts and their situations, by category."""
    rs = _load(rules)
    if category is not None and category not in rs.manifest.categories:
        raise InputError(f"unknown category {category!r}", allowed=list(rs.manifest.categories))
    rows: list[dict[str, Any]] = []
    for cid, cat in rs.manifest.categories.items():
        if category and cid != category:
            continue
        for fid, flow in rs.flowcharts.items():
            if flow.category != cid:
                continue
            sits = [sid for sid, s in rs.situations.items() if s.flowchart == fid]
            rows.append(
                {
                    "category": cid,
                    "category_label": cat.label,
                    "flowchart": fid,
                    "name": flow.name,
                    "name_en": flow.name_en,
                    "situations": [{"id": s, "name": rs.situations[s].name} for s in sits],
                }
            )
    if as_json:
        _emit(rows)
        return
    from rich.table import Table

    table = Table(title=f"{esc(rs.name)}：{len(rs.situations)}种情形 / {len(rs.flowcharts)}个流程图")
    for col in ("类别 category", "流程图 flowchart", "名称 name", "情形 situations"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            esc(row["category_label"]),
            esc(row["flowchart"]),
            f"{esc(row['name'])}\n[dim]{esc(row['name_en'])}[/dim]",
            "\n".join(f"{esc(s['id'])} {esc(s['name'])}" for s in row["situations"]),
        )
    _console().print(table)


def _flags(rs: RuleSet, names: tuple[str, ...]) -> dict[str, bool]:
    for name in names:
        if name not in rs.flags:
            raise InputError(f"unknown flag {name!r}", allowed=list(rs.flags))
    return {name: True for name in names}


def _variants(rs: RuleSet, flowchart: str, situation: str | None) -> dict[str, str]:
    if situation is None:
        return {}
    sit = rs.situations.get(situation)
    if sit is None:
        raise InputError(f"unknown situation {situation!r}", allowed=list(rs.situations))
    if sit.flowchart != flowchart:
        raise InputError(f"situation {situation} uses flowchart {sit.flowchart}, not {flowchart}")
    return dict(sit.variants)


START_HELP = "Acceptance day (day 0), YYYY-MM-DD; it must be a working day (default: the first working day from today)."


def start_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--start", default=None, metavar="YYYY-MM-DD", help=START_HELP)(f)


def calendar_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--calendar``, ``--assume-weekends`` and ``--strict-calendar``: how years without a
    published State Council holiday notice are counted (default: estimated and marked)."""
    f = click.option(
        "--strict-calendar",
        is_flag=True,
        help="Refuse dates in a year whose holiday notice is not yet published, instead of estimating them.",
    )(f)
    f = click.option(
        "--assume-weekends",
        is_flag=True,
        help="In a year without a published holiday notice, count plain Mon–Fri (with a warning) instead of "
        "estimating the statutory holidays.",
    )(f)
    return click.option(
        "--calendar",
        "calendar_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="A year's State Council holiday notice as YAML (years, holidays, workdays, source; see "
        "docs/calendar.md); it replaces the estimate for the years it lists.",
    )(f)


flag_option = click.option(
    "--flag",
    "flag_names",
    multiple=True,
    metavar="FLAG",
    help="Switch on an optional-step flag (repeatable), e.g. --flag removes_trees.",
)
situation_option = click.option("--situation", default=None, help="Apply this situation's step variants.")


@main.command()
@common
@click.argument("flowchart")
@flag_option
@situation_option
def show(rules: Path | None, as_json: bool, flowchart: str, flag_names: tuple[str, ...], situation: str | None) -> None:
    """Show a flowchart's steps (default configuration unless flags are given)."""
    from .flows import resolve

    rs = _load(rules)
    flow = resolve(
        rs, rs.flowchart(flowchart).id, variants=_variants(rs, flowchart, situation), flags=_flags(rs, flag_names)
    )
    steps: list[dict[str, Any]] = [
        {
            "id": s.id,
            "item": s.item.id,
            "name": s.name,
            "department": rs.departments[s.department].short,
            "department_id": s.department,
            "members": [rs.departments[m].short for m in s.members],
            "stage": s.item.stage,
            "duration": plain_days(s.duration),
            "statutory": s.item.statutory.model_dump(),
            "counted": s.counted,
            "completion": s.completion,
            "depends_on": list(s.depends_on),
            "materials": list(s.materials),
            "produces": list(s.produces),
            "variant": s.variant,
            "commitment": s.commitment is not None,
        }
        for s in flow.steps.values()
    ]
    data: dict[str, Any] = {
        "id": flow.id,
        "name": flow.flowchart.name,
        "name_en": flow.flowchart.name_en,
        "category": flow.flowchart.category,
        "situations": [sid for sid, s in rs.situations.items() if s.flowchart == flow.id],
        "steps": steps,
        "optional_steps_off": list(flow.off),
        "flags": dict(flow.flags),
        "variants": dict(flow.variants),
    }
    if as_json:
        _emit(data)
        return
    from rich.table import Table

    con = _console()
    cat = rs.manifest.categories.get(flow.flowchart.category or "")
    con.print(
        f"[bold]{esc(flow.id)}[/] {esc(flow.flowchart.name)}（{esc(flow.flowchart.name_en)}）"
        + (f" — {esc(cat.label)}" if cat else "")
    )
    if flow.flowchart.description:
        con.print(esc(flow.flowchart.description))
    table = Table(show_lines=False)
    for col in ("步骤 step", "事项 item", "部门 department", "阶段", "时限(工作日)", "计时", "前置 depends on"):
        table.add_column(col)
    for s in steps:
        members = f"\n[dim]联合：{esc('、'.join(s['members']))}[/dim]" if s["members"] else ""
        table.add_row(
            esc(s["id"]),
            f"{esc(s['item'])} {esc(s['name'])}",
            esc(s["department"]) + members,
            str(s["stage"]),
            str(s["duration"]),
            "是" if s["counted"] else "[dim]否(不计时)[/dim]",
            esc(", ".join(s["depends_on"])),
        )
    con.print(table)
    if flow.off:
        con.print(f"[dim]未启用的可选步骤 optional steps off: {esc(', '.join(flow.off))}（用 --flag 启用）[/dim]")


# --- check / stats ---------------------------------------------------------------------------------
def percent_text(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "—"


@main.command()
@common
@click.option(
    "--provenance",
    "show_provenance",
    is_flag=True,
    help="Also list every fact that rests on reconstruction or calibration, with file:line.",
)
def check(rules: Path | None, as_json: bool, show_provenance: bool) -> None:
    """Prove every project maps to exactly one situation or not-applicable rule; check flowcharts."""
    from .checker import check as run_check
    from .checker import provenance

    rs = _load(rules)
    report = run_check(ruleset=rs)
    rows = provenance(rs) if show_provenance else []
    if as_json:
        data = report.to_dict()
        if show_provenance:
            data["provenance"] = [r.to_dict() for r in rows]
        _emit(data)
    else:
        con = _console()
        con.print(
            f"{esc(rs.name)}: 枚举 {report.combinations} 种属性组合 / enumerated {report.combinations} combinations of "
            f"{len(rs.attributes)} attributes; {report.situations} situations, {report.not_applicable} not-applicable "
            f"rules, {report.flowcharts} flowcharts; {report.invariants_checked} invariant checks"
        )
        for cid, row in report.by_category.items():
            con.print(
                f"  {esc(rs.manifest.categories[cid].label)}: {row['situations']}/{row['flowcharts']} "
                f"(expected {row['expected_situations']}/{row['expected_flowcharts']})"
            )
        if report.ok:
            con.print("[bold green]OK[/]: complete and exclusive — every combination is covered by exactly one rule")
        for f in report.findings:
            ex = f"  e.g. {' '.join(f'{k}={v}' for k, v in f.example.items())}" if f.example else ""
            where = f"{f.where}: " if f.where else ""
            con.print(f"{esc(where)}[red]{esc(f.kind)}[/]: {esc(f.message)}{esc(ex)}")
        if show_provenance:
            con.print(f"重建或校准的数据 / facts resting on reconstruction or calibration: {len(rows)}")
            for r in rows:
                con.print(f"{r.where or ''}: {r.what} · {r.fact} = {r.value} [{', '.join(r.tags)}]", markup=False)
    exit_with("ok" if report.ok else "findings")


@main.command()
@common
@click.option(
    "--calibration",
    "show_calibration",
    is_flag=True,
    help="Also list every calibrated promised limit beside its statutory limit.",
)
def stats(rules: Path | None, as_json: bool, show_calibration: bool) -> None:
    """Compute the published figures (SPEC §5) from the rule data and compare.

    Exit 1 when a figure is out of tolerance and the manifest gives no reason (``gap``) for it."""
    from .stats import calibration, compare, unexplained
    from .stats import stats as compute

    rs = _load(rules)
    figures = compute(ruleset=rs)
    rows = compare(rs, figures)
    failed = unexplained(rows)
    calibrated = calibration(rs) if show_calibration else []
    if as_json:
        _emit({**figures, "published": rows, **({"calibration": calibrated} if show_calibration else {})})
        exit_with("findings" if failed else "ok")
    from rich.table import Table

    con = _console()
    table = Table(title=f"{esc(rs.name)} — 计算值与公布值 / computed vs published")
    for col in ("指标 figure", "公布 published", "计算 computed", "容差 tolerance", ""):
        table.add_column(col)
    for r in rows:
        if r["ok"]:
            mark = "[green]✓[/]"
        elif r["ok"] is None:
            mark = "[dim]仅对照[/dim]"
        else:
            mark = "[yellow]✗ 差距（见说明）[/]" if r.get("gap") else "[red]✗ 超出容差[/]"
        table.add_row(esc(r["figure"]), esc(r["published"]), esc(r["computed"]), esc(r.get("tolerance", "")), mark)
    con.print(table)
    for r in rows:
        if r.get("gap"):
            con.print(f"差距 gap · {r['figure']}: {r['gap']}", markup=False)
    database = figures.get("database")
    if database:
        published = next((r["published"] for r in rows if r["figure"] == "reduction_requisites_database"), None)
        beside = f"（公布 published {percent_text(published)}）" if isinstance(published, (int, float)) else ""
        con.print(
            f"证照数据库 certificate database（接入 connected: {'、'.join(database['connected'])}）："
            f"企业仍须提交的要件平均 {database['avg_still_supplied']} 个 / requisites still supplied "
            f"(不接数据库 without: {database['avg_requisites']}；库中证照 in database: {database['avg_in_database']}；"
            f"只交一次 submitted once: {database['avg_submitted_once']})；"
            f"比改革前减少 {percent_text(database['reduction_vs_baseline'])}{beside}，"
            f"比不接数据库减少 {percent_text(database['reduction_vs_reformed'])}",
            markup=False,
        )
        con.print(f"计数规则 rule: {database['rule']}", markup=False)
        con.print(f"身份类材料 identity documents: {', '.join(database['identity_documents'])}", markup=False)
    per = Table(title="各流程图 per flowchart")
    for col in ("流程图", "名称", "审批环节 steps", "要件 requisites", "工作日 working days"):
        per.add_column(col)
    for f in figures["per_flowchart"]:
        per.add_row(esc(f["flowchart"]), esc(f["name"]), str(f["steps"]), str(f["requisites"]), str(f["working_days"]))
    con.print(per)
    if show_calibration:
        cal = Table(title="校准的承诺时限 calibrated promised limits (working days)")
        for col in ("事项 item", "名称", "承诺 promised", "法定 statutory", "最短 minimum", "流程图 flowcharts"):
            cal.add_column(col)
        from .labels import LIMIT_UNIT_LABELS as units

        for c in calibrated:
            statutory = f"{c['statutory'] if c['statutory'] is not None else ''}{units[c['statutory_unit']]}"
            cal.add_row(
                c["item"],
                c["name"],
                str(c["promised"]),
                statutory,
                "" if c["minimum"] is None else str(c["minimum"]),
                " ".join(c["flowcharts"]),
            )
        con.print(cal)
    exit_with("findings" if failed else "ok")


# --- schedule --------------------------------------------------------------------------------------
@main.command()
@click.argument("name", type=click.Choice(["notice"]))
def schema(name: str) -> None:
    """Print the JSON Schema of a document flowmatch writes (notice: `guide --format json`)."""
    from .notice import schema_path

    click.echo(schema_path().read_text(encoding="utf-8"), nl=False)


@main.command()
@common
@click.argument("flowchart")
@start_option
@click.option("--commitment", is_flag=True, help="告知承诺: eligible steps take their committed duration.")
@click.option("--compare", is_flag=True, help="Standard, commitment and pre-reform baseline side by side.")
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="RULES",
    help="With --compare: the same flowchart under another rule-set too (name or directory), e.g. harbin-2014.",
)
@calendar_options
@flag_option
@situation_option
def schedule(
    rules: Path | None,
    as_json: bool,
    flowchart: str,
    start: str | None,
    commitment: bool,
    compare: bool,
    against: tuple[str, ...],
    calendar_file: Path | None,
    assume_weekends: bool,
    strict_calendar: bool,
    flag_names: tuple[str, ...],
    situation: str | None,
) -> None:
    """Schedule a flowchart: stages, critical path, slack and working-day dates.

    Dates count from the acceptance day (default: the first working day from today); dates in a
    year whose holiday notice is not yet published are estimated and marked 预计 (*)."""
    from .calendar import acceptance_day, make_calendar
    from .scheduler import schedule as run

    rs = _load(rules)
    fid = rs.flowchart(flowchart).id
    cal = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    start = acceptance_day(start, cal).isoformat()
    variants = _variants(rs, fid, situation)
    flags = _flags(rs, flag_names)
    if compare:
        modes = ("standard", "commitment", "baseline") if rs.baseline is not None else ("standard", "commitment")
        results = [run(fid, start, cal, mode, ruleset=rs, variants=variants, flags=flags) for mode in modes]
        others = _under_other_rules(against, fid, start, cal, variants, flag_names)
        for warning in dict.fromkeys(w for r in [*results, *others.values()] for w in r.warnings):
            click.echo(f"warning: {clean(warning)}", err=True)
        if as_json:
            _emit({**{r.mode: r.to_dict() for r in results}, **{f"rules:{k}": r.to_dict() for k, r in others.items()}})
        else:
            _print_compare(rs, results, others)
        return
    result = run(
        fid, start, cal, "commitment" if commitment else "standard", ruleset=rs, variants=variants, flags=flags
    )
    for warning in result.warnings:
        click.echo(f"warning: {clean(warning)}", err=True)
    if as_json:
        _emit(result.to_dict())
    else:
        _print_schedule(rs, result)


def _under_other_rules(
    against: tuple[str, ...],
    fid: str,
    start: str | None,
    cal: Any,
    variants: dict[str, str],
    flag_names: tuple[str, ...],
) -> dict[str, Schedule]:
    """The same flowchart (same situation variants, the flags that rule-set knows) under other rule-sets."""
    from .catalogue import ruleset_path
    from .ruleset import load_ruleset
    from .scheduler import schedule as run

    out: dict[str, Schedule] = {}
    for name in against:
        other = load_ruleset(ruleset_path(name))
        known = {f: True for f in flag_names if f in other.flags}
        flow = other.flowchart(fid)
        kept = {k: v for k, v in variants.items() if k in flow.steps and v in flow.steps[k].variants}
        out[other.path.name] = run(flow.id, start, cal, "standard", ruleset=other, variants=kept, flags=known)
    return out


def _print_compare(rs: RuleSet, results: list[Schedule], others: dict[str, Schedule] | None = None) -> None:
    from rich.table import Table

    table = Table(title=f"{esc(results[0].flowchart)} 与改革前对比 / compared with the pre-reform flow")
    for col in (
        "方式 mode",
        "流程 flow",
        "审批环节",
        "计时工作日 counted",
        "含不计时 elapsed",
        "开始 start",
        "办结 finish",
    ):
        table.add_column(col)
    labels = {"standard": "标准 standard", "commitment": "告知承诺 commitment", "baseline": "改革前 baseline"}
    rows = [(labels[r.mode], r) for r in results]
    rows += [(f"按 {name} 规则 under {name}", r) for name, r in (others or {}).items()]
    if others:
        rows[0] = (f"按 {rs.path.name} 规则 under {rs.path.name}", results[0])
    for label, r in rows:
        approval = sum(1 for s in r.steps if s.counted)
        table.add_row(
            esc(label),
            f"{esc(r.flowchart)} {esc(r.name)}",
            str(approval),
            str(plain_days(r.working_days)),
            str(plain_days(r.elapsed_working_days)),
            str(r.start or "—"),
            _date_text(r, r.finish) or "—",
        )
    _console().print(table)


def _print_schedule(rs: RuleSet, r: Schedule) -> None:
    from rich.table import Table

    con = _console()
    con.print(
        f"[bold]{esc(r.flowchart)}[/] {esc(r.name)} — "
        + ("告知承诺 commitment" if r.mode == "commitment" else "标准 standard")
    )
    con.print(
        f"计时工作日 counted working days: [bold]{plain_days(r.working_days)}[/]; 含不计时环节 elapsed estimate: "
        f"{plain_days(r.elapsed_working_days)}"
        + (f"; {r.start} 受理 → 预计 {_date_text(r, r.finish)} 办结" if r.start else "")
    )
    table = Table(show_lines=False)
    for col in ("阶段", "步骤 step", "部门", "工作日", "ES", "EF", "浮动 slack", "开始 start", "结束 end"):
        table.add_column(col)
    for stage_no, stage in enumerate(r.stages, start=1):
        for sid in stage:
            s = r.step(sid)
            name = f"{'[bold red]★[/] ' if s.critical else '  '}{esc(s.name)}" + (
                "" if s.counted else " [dim](不计时)[/dim]"
            )
            table.add_row(
                str(stage_no),
                name,
                esc(rs.departments[s.department].short),
                str(plain_days(s.duration)),
                str(plain_days(s.es)),
                str(plain_days(s.ef)),
                str(plain_days(s.slack)),
                _date_text(r, s.start),
                _date_text(r, s.end),
            )
    con.print(table)
    con.print("★ 关键路径 critical path: " + esc(" → ".join(r.critical_path)))
    if r.estimated_from is not None:
        con.print(
            f"[yellow]* 预计 estimated: {r.estimated_from} 起的日期按法定节假日推算（当年放假安排尚未公布，未计调休），"
            "以届时公布为准[/]"
        )
    con.print(esc(_gantt(r)))
    if r.completion_steps:
        steps = esc("、".join(r.completion_steps))
        con.print(f"[dim]竣工验收阶段（施工完成后办理，不计入开工前时限）: {steps}[/dim]")


def _date_text(r: Schedule, day: Any) -> str:
    """A schedule date for the terminal, starred when it rests on an estimated calendar year."""
    if day is None:
        return ""
    return f"{day}*" if r.is_estimated(day) else str(day)


def _gantt(r: Schedule, width: int = 60) -> str:
    total = max(r.elapsed_working_days, 1.0)
    scale = width / total
    lines = [f"{'':24} 0{'':{width - 2}}{plain_days(total)} 工作日"]
    for s in r.steps:
        begin = round(s.elapsed_es * scale)
        length = max(1, round((s.elapsed_ef - s.elapsed_es) * scale)) if s.duration else 1
        char = "█" if s.critical and s.counted else ("▓" if s.counted else "░")
        label = (s.name[:11] + "…") if len(s.name) > 12 else s.name
        pad = 24 - sum(2 if ord(ch) > 0x2E80 else 1 for ch in label)
        lines.append(f"{label}{' ' * max(pad, 1)}{' ' * begin}{char * length}")
    lines.append("█ 关键路径  ▓ 计时审批  ░ 不计时（招标、公示、中介服务等）")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
