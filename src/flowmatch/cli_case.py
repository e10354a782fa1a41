"""``flowmatch case ...`` and ``flowmatch audit verify``: the command-line face of case tracking.

Each command parses, makes one :class:`flowmatch.tracking.CaseStore` call, prints (text or
``--json``).  The CLI is the only place that reads the clock (``--at`` / ``--as-of`` default to
now / today).  SQLAlchemy is imported only here, when a tracking command runs.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .calendar import plain_days
from .cli import _console, _emit, _load, calendar_options, exit_with
from .errors import InputError

if TYPE_CHECKING:
    from .tracking import CaseStatus, CaseStore

STATE_MARKS = {
    "waiting": "·",
    "ready": "▶",
    "accepted": "◐",
    "handling": "◐",
    "reviewing": "◑",
    "approved": "◕",
    "rejected": "✗",
    "suspended": "‖",
    "done": "✔",
    "cancelled": "⊘",
}


def _store(
    db: str | None, rules: Path | None, calendar_file: Path | None, assume_weekends: bool, strict_calendar: bool
) -> CaseStore:
    from .calendar import make_calendar
    from .tracking import open_store

    calendar = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    return open_store(db, ruleset=_load(rules), calendar=calendar)


Opener = Callable[[], "CaseStore"]


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--db``, ``--rules``, the calendar options and ``--json``; the command gets ``store()``, which
    opens (and if need be creates and migrates) the case database."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        db: str | None,
        rules: Path | None,
        calendar_file: Path | None,
        assume_weekends: bool,
        strict_calendar: bool,
        **kwargs: Any,
    ) -> Any:
        return func(
            *args,
            store=functools.partial(_store, db, rules, calendar_file, assume_weekends, strict_calendar),
            **kwargs,
        )

    command = calendar_options(wrapper)
    command = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(command)
    command = click.option(
        "--rules",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Rule-set directory or packaged name, e.g. harbin-2019 (default: harbin-2014).",
    )(command)
    return click.option(
        "--db",
        default=None,
        metavar="URL|PATH",
        help="Case database: a SQLite path or sqlite:///PATH, or postgresql+psycopg://... "
        "(default: $FLOWMATCH_DB, else ~/.local/share/flowmatch/cases.sqlite).",
    )(command)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _datetime(value: str | None) -> dt.datetime:
    if value is None:
        return _now()
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--at {value!r} is not a date or time; allowed: YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def _date(value: str | None, option: str) -> dt.date:
    if value is None:
        return _now().date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date; allowed: YYYY-MM-DD") from None


def _warn(status: CaseStatus) -> None:
    for warning in status.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group()
def case() -> None:
    """Track accepted applications (全程实时监控): open, record, status, list, sweep, stats."""


@case.command(name="open")
@store_options
@click.argument("pairs", nargs=-1, metavar="ATTRIBUTE=VALUE...")
@click.option("--applicant", required=True, help="Applicant (company) name.")
@click.option("--credit-code", required=True, help="统一社会信用代码 (18 characters, GB 32100-2015 check digit).")
@click.option("--project-name", default=None, help="Project name.")
@click.option("--start", default=None, metavar="YYYY-MM-DD", help="Acceptance day (default: the day of --at).")
@click.option("--at", "at", default=None, metavar="DATETIME", help="When it was accepted (default: now).")
@click.option("--commitment", is_flag=True, help="告知承诺: eligible steps take their committed duration.")
@click.option("--by", "by", required=True, help="Who accepts the application (window clerk).")
def open_(
    store: Opener,
    as_json: bool,
    pairs: tuple[str, ...],
    applicant: str,
    credit_code: str,
    project_name: str | None,
    start: str | None,
    at: str | None,
    commitment: bool,
    by: str,
) -> None:
    """Accept an application (受理): prints the 受理编号, the query code and the first ready tasks."""
    from .matcher import parse_pairs

    if not pairs:
        raise InputError("give the project's answers as ATTRIBUTE=VALUE pairs")
    profile: dict[str, Any] = dict(parse_pairs(list(pairs)))
    for key, value in list(profile.items()):
        if value in ("true", "false"):
            profile[key] = value == "true"
    cases = store()
    opened = cases.open_case(
        profile,
        applicant=applicant,
        credit_code=credit_code,
        at=_datetime(at),
        by=by,
        project_name=project_name,
        start=_date(start, "--start") if start else None,
        commitment=commitment,
    )
    _warn(opened.status)
    if as_json:
        _emit(opened.to_dict())
        return
    con = _console()
    st = opened.status
    con.print(f"受理编号 case number: [bold]{opened.number}[/]")
    con.print(f"查询码 query code: [bold]{opened.query_code}[/]  (shown once; give it to the applicant)")
    con.print(f"{st.situation} / {st.flowchart} {st.flowchart_name}；承诺办结 promised finish {st.promised_finish}")
    con.print("已同步启动 ready now:")
    for t in st.tasks:
        if t.state == "ready":
            due = f"到期 due {t.due_on}" if t.due_on else "申请人办理 (not counted)"
            con.print(f"  ▶ {t.step}  {t.name}  [{t.department_name}]  {due}")
    rules = cases.ruleset
    for e in opened.on_file:
        name = rules.materials[e.material].name if e.material in rules.materials else e.material
        if e.usable:
            con.print(f"  证照库 on file: {name}（{e.certificate}）已在证照库中，无需提交", markup=False)
        else:
            con.print(f"  证照库 asked again: {name}：{e.asked_again}", markup=False)


@case.command()
@store_options
@click.argument("number")
@click.argument("step")
@click.argument("event", metavar="EVENT")
@click.option("--by", "by", required=True, help="Who records the event.")
@click.option("--role", default=None, help="window, department, applicant, supervisor (default: the task's owner).")
@click.option("--at", "at", default=None, metavar="DATETIME", help="When it happened (default: now).")
@click.option("--note", default="", help="A note for the audit trail.")
@click.option(
    "--certificate",
    "certificates",
    multiple=True,
    metavar="MATERIAL=NUMBER",
    help="Number of a certificate the step issues (证照数据库; default CASE/STEP). Repeatable.",
)
def record(
    store: Opener,
    as_json: bool,
    number: str,
    step: str,
    event: str,
    by: str,
    role: str | None,
    at: str | None,
    note: str,
    certificates: tuple[str, ...],
) -> None:
    """Record EVENT on a task: accept, handle, review, approve, reject, complete, suspend, resume."""
    numbers = {}
    for pair in certificates:
        material, sep, value = pair.partition("=")
        if not sep or not material.strip() or not value.strip():
            raise InputError(f"--certificate {pair!r} is not MATERIAL=NUMBER")
        numbers[material.strip()] = value.strip()
    cases = store()
    done = cases.record(
        number, step, event, by=by, at=_datetime(at), note=note, role=role, certificates=numbers or None
    )
    if as_json:
        _emit(done.to_dict())
        return
    con = _console()
    con.print(f"{done.number} {done.step}: {done.from_state} → [bold]{done.to_state}[/]")
    if done.due_on and done.event == "resume":
        con.print(f"  到期 due (shifted by the suspended working days): {done.due_on}")
    if done.released:
        con.print("  同步启动 now ready: " + ", ".join(done.released))
    if done.case_state != "open":
        con.print(f"  案件 case: [bold]{done.case_state}[/]")


def _stages(status: CaseStatus) -> list[list[str]]:
    level: dict[str, int] = {}
    for t in status.tasks:  # topological order
        level[t.step] = 1 + max((level[d] for d in t.depends_on if d in level), default=-1)
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for t in status.tasks:
        out[level[t.step]].append(t.step)
    return out


def picture(status: CaseStatus) -> str:
    """The flow as text: one line per stage, each task with its state mark."""
    by_step = {t.step: t for t in status.tasks}
    critical = set(status.critical_path)
    lines = []
    for n, stage in enumerate(_stages(status), start=1):
        cells = []
        for sid in stage:
            t = by_step[sid]
            star = "★" if sid in critical and t.state != "done" else ""
            cells.append(f"{STATE_MARKS[t.state]}{star}{sid}")
        lines.append(f"阶段{n:>2}  " + "  ".join(cells))
    lines.append("✔ 办结  ▶ 待受理  ◐ 受理/承办  ◑ 审核  ◕ 已批准  ✗ 不予许可  ‖ 中止  · 等待前置  ⊘ 撤销  ★ 关键路径")
    return "\n".join(lines)


@case.command()
@store_options
@click.argument("number")
@click.option("--as-of", default=None, metavar="YYYY-MM-DD", help="The day asked about (default: today).")
@click.option("--code", default=None, help="The applicant's query code (look-up as the applicant).")
@click.option("--history", is_flag=True, help="Also list the case's audit events.")
def status(
    store: Opener,
    as_json: bool,
    number: str,
    as_of: str | None,
    code: str | None,
    history: bool,
) -> None:
    """Every task with state, department, started, due, finished, overdue; projected finish."""
    cases = store()
    st = cases.status(number, as_of=_date(as_of, "--as-of"), query_code=code)
    events = cases.history(number) if history else None
    _warn(st)
    if as_json:
        _emit({**st.to_dict(), **({"history": events} if events is not None else {})})
        return
    from rich.table import Table

    con = _console()
    con.print(f"[bold]{st.number}[/] {st.project_name or ''} — {st.applicant}")
    con.print(f"{st.situation} / {st.flowchart} {st.flowchart_name}；状态 {st.state}；截至 as of {st.as_of}")
    con.print(f"承诺办结 promised {st.promised_finish}；预计办结 projected {st.projected_finish}")
    if st.rules_moved_on:
        con.print(f"[yellow]注意：规则已更新，本案仍按受理时的规则 {st.ruleset_id} {st.ruleset_digest[:12]} 办理[/]")
    table = Table()
    for col in ("步骤 step", "部门 department", "状态 state", "开始 started", "到期 due", "办结 finished", "超期"):
        table.add_column(col)
    for t in st.tasks:
        table.add_row(
            f"{t.step}\n[dim]{t.name}[/dim]",
            t.department_name,
            t.state + (f" (中止 {t.suspended_days} 工作日)" if t.suspended_days else ""),
            str(t.started_on or ""),
            str(t.due_on or "") + ("（估）" if t.estimated and t.due_on else ""),
            str(t.finished_on or ""),
            "[red]是[/]" if t.overdue else "",
        )
    con.print(table)
    con.print(picture(st))
    if events:
        for e in events:
            change = f"{e['from'] or ''}→{e['to'] or ''}" if e["from"] or e["to"] else ""
            con.print(
                f"  #{e['seq']} {e['at']} {e['actor']}({e['role']}) {e['what']} {e['step'] or ''} {change} {e['note']}"
            )


@case.command(name="list")
@store_options
@click.option("--department", default=None, help="Only this department id (or 'applicant').")
@click.option("--state", default=None, help="Only tasks in this state.")
@click.option("--overdue", is_flag=True, help="Only tasks past their due date.")
@click.option("--as-of", default=None, metavar="YYYY-MM-DD", help="The day asked about (default: today).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
def list_(
    store: Opener,
    as_json: bool,
    department: str | None,
    state: str | None,
    overdue: bool,
    as_of: str | None,
    limit: int | None,
) -> None:
    """The panoramic view: open tasks of open cases, by due date."""
    cases = store()
    rows = cases.tasks(as_of=_date(as_of, "--as-of"), department=department, state=state, overdue=overdue, limit=limit)
    if as_json:
        _emit([r.to_dict() for r in rows])
        return
    from rich.table import Table

    table = Table(title=f"在办 open tasks: {len(rows)}")
    for col in ("受理编号", "流程图", "步骤 step", "部门", "状态", "开始", "到期 due", "超期(工作日)"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.number,
            r.flowchart,
            f"{r.step}\n[dim]{r.name}[/dim]",
            r.department_name,
            r.state,
            str(r.started_on or ""),
            str(r.due_on or ""),
            str(r.overdue_days or ""),
        )
    _console().print(table)


@case.command()
@store_options
@click.option("--as-of", default=None, metavar="YYYY-MM-DD", help="The day of the sweep (default: today).")
@click.option("--by", "by", default="sweep", help="Who runs the sweep (recorded in the audit trail).")
@click.option(
    "--exit-code",
    "exit_code_",
    is_flag=True,
    help="Exit 1 when the sweep raised a warning, 0 when it raised none (for cron and monitoring); "
    "without it a sweep that ran exits 0 either way.",
)
def sweep(store: Opener, as_json: bool, as_of: str | None, by: str, exit_code_: bool) -> None:
    """Raise the warnings due now — 预警, 超期, 催办 — each once per task and level."""
    cases = store()
    result = cases.sweep(as_of=_date(as_of, "--as-of"), by=by)
    if as_json:
        _emit(result.to_dict())
    else:
        con = _console()
        con.print(f"{result.as_of}: examined {result.examined} tasks, raised {len(result.raised)} warnings")
        for w in result.raised:
            con.print(
                f"  {w.to_dict()['label']} {w.number} {w.step} [{w.department}] due {w.due_on} "
                f"({w.working_days} 工作日) → {'、'.join(w.notify)}"
            )
    if exit_code_ and result.raised:
        exit_with("findings")


@case.command()
@store_options
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="First day of the period (default: all).")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Last day of the period (default: all).")
def stats(store: Opener, as_json: bool, since: str | None, until: str | None) -> None:
    """Actual vs promised working days per flowchart, department and item."""
    cases = store()
    result = cases.stats(
        since=_date(since, "--since") if since else None, until=_date(until, "--until") if until else None
    )
    data = result.to_dict()
    if as_json:
        _emit(data)
        return
    from rich.table import Table

    con = _console()
    for key, title in (
        ("by_flowchart", "流程图 flowchart (cases)"),
        ("by_department", "部门 department (tasks)"),
        ("by_item", "事项 item (tasks)"),
    ):
        table = Table(title=title)
        for col in ("id", "名称", "件数", "实际(工作日)", "承诺(工作日)", "超期件数", "按时率"):
            table.add_column(col)
        for row in data[key]:
            table.add_row(
                row["id"],
                row["label"],
                str(row["count"]),
                str(plain_days(row["avg_actual_working_days"])),
                str(plain_days(row["avg_promised_working_days"])),
                str(row["late"]),
                f"{row['on_time_share']:.0%}",
            )
        con.print(table)


@click.group()
def audit() -> None:
    """The tamper-evident audit trail (网上留痕)."""


def _anchors(given: tuple[str, ...], files: tuple[Path, ...]) -> dict[int, str]:
    """The anchors of ``--anchor`` and ``--anchors`` files, merged; one event with two hashes is refused."""
    from .fileio import read_limited
    from .tracking.audit import parse_anchor, read_anchors

    anchors: dict[int, str] = {}

    def merge(found: dict[int, str], source: str) -> None:
        for seq, digest in found.items():
            if anchors.setdefault(seq, digest) != digest:
                raise InputError(f"{source}: event {seq} is anchored twice with different hashes")

    for text in given:
        merge(dict([parse_anchor(text, where="--anchor")]), "--anchor")
    for path in files:
        raw = read_limited(path, 64 << 20)
        try:
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); an anchors file has SEQ:HASH lines") from exc
        merge(read_anchors(lines, source=str(path)), str(path))
    return anchors


_ANCHOR_OPTIONS = (
    click.option(
        "--anchor",
        "anchor",
        multiple=True,
        metavar="SEQ:HASH",
        help="A head printed earlier by `flowmatch audit head` and kept outside the database; repeatable.",
    ),
    click.option(
        "--anchors",
        "anchor_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="A file of such anchors, one per line (# comments allowed); repeatable.",
    ),
)


def _anchor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_ANCHOR_OPTIONS):
        func = option(func)
    return func


@audit.command()
@store_options
@_anchor_options
def verify(store: Opener, as_json: bool, anchor: tuple[str, ...], anchor_files: tuple[Path, ...]) -> None:
    """Check the event chain; exit 1 naming the first edited, deleted, reordered or rewritten event.

    The chain catches any edit short of rewriting every later hash; anchors (``SEQ:HASH`` from
    ``audit head``, kept outside the database) catch that too."""
    anchors = _anchors(anchor, anchor_files)
    cases = store()
    report = cases.verify(anchors=anchors)
    if as_json:
        _emit(report.to_dict())
    elif report.ok:
        checked = f", {report.anchors} anchors match" if report.anchors else ""
        click.echo(
            f"OK: {report.events} events, chain intact{checked} (head {report.head_seq} {report.head_hash[:16]})"
        )
    else:
        assert report.finding is not None
        click.echo(f"TAMPERED: {report.finding.message}")
    raise SystemExit(0 if report.ok else 1)


@audit.command()
@store_options
def head(store: Opener, as_json: bool) -> None:
    """Print the verified chain head as SEQ:HASH, to keep outside the database as an anchor.

    Run it daily (cron: ``flowmatch audit head >> /elsewhere/anchors``) and give the file to
    ``audit verify --anchors``: a chain rewritten with recomputed hashes no longer matches it.
    Exits 1, printing nothing to anchor, when the chain does not verify."""
    report = store().verify()
    if not report.ok:
        assert report.finding is not None
        click.echo(f"TAMPERED: {report.finding.message}", err=True)
        raise SystemExit(1)
    if as_json:
        _emit({"seq": report.head_seq, "hash": report.head_hash, "anchor": report.anchor})
    else:
        click.echo(report.anchor)
