"""``flowmatch search``, ``ask`` and ``serve``: finding the flow from the terminal.

Registered lazily by :mod:`flowmatch.cli`.  Each command parses, calls the library
(:func:`flowmatch.search.search`, :func:`flowmatch.wizard.next_question`,
:func:`flowmatch.web.create_app`) and prints.

``ask`` runs three ways: with arrow-key menus (questionary, the ``[ask]`` extra) on a terminal;
one typed line per question when there is no terminal or no questionary (a number, a value id or
label, ``?`` for 不确定, ``<`` to go back); or from an answers file (``--answers FILE``, YAML or
JSON, ``-`` for standard input) for scripts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from .cli import _emit, _load, calendar_options, common, exit_with, start_option
from .errors import FlowmatchError, InputError
from .fileio import ReadError, check_target, read_limited, write_atomic
from .terminal import clean, esc

if TYPE_CHECKING:
    from .calendar import WorkCalendar
    from .ruleset import RuleSet
    from .search import Hit
    from .wizard import Option, Outcome, Question

UNSURE_WORDS = {"?", "？", "unsure", "不确定", "not sure", "u"}
BACK_WORDS = {"<", "back", "返回", "返回上一题", "b"}
MAX_ANSWERS_FILE = 1_000_000
NOTICE_FORMATS = ("html", "md", "pdf")


# --- search --------------------------------------------------------------------------------------------
@click.command()
@common
@click.argument("words", nargs=-1, required=True, metavar="关键词...")
@click.option(
    "--kind",
    type=click.Choice(["situation", "flowchart", "item", "material"]),
    default=None,
    help="Only situations, flowcharts, items or materials.",
)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Show at most N hits.")
def search(rules: Path | None, as_json: bool, words: tuple[str, ...], kind: str | None, limit: int) -> None:
    """Search situations, flowcharts, items and materials by keyword.

    Chinese (simplified or traditional) or English; partial words and typos still match.
    Example: flowmatch search 施工许可
    """
    from .search import search as run

    rs = _load(rules)
    query = " ".join(words)
    hits = run(query, ruleset=rs, kind=kind, limit=limit)
    if as_json:
        _emit({"query": query, "hits": [h.to_dict() for h in hits]})
    else:
        _print_hits(query, hits)
    exit_with("ok" if hits else "not_found")


def _marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    out = []
    last = 0
    for start, end in spans:
        out.append(esc(text[last:start]))
        out.append(f"[bold yellow]{esc(text[start:end])}[/bold yellow]")
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def _print_hits(query: str, hits: list[Hit]) -> None:
    from .cli import _console

    con = _console()
    if not hits:
        con.print(f"未找到与“{esc(query)}”相关的情形、流程图、审批事项或申请材料 / no results")
        return
    con.print(f"“{esc(query)}”：{len(hits)} 条结果 / results")
    for number, hit in enumerate(hits, start=1):
        sub = f"  [dim]{_marked(hit.subtitle, hit.subtitle_spans)}[/dim]" if hit.subtitle else ""
        title = _marked(hit.title, hit.title_spans)
        con.print(f"{number:>2}. [cyan]{esc(hit.kind_label)}[/cyan] {esc(hit.id)}  {title}{sub}")
        if hit.snippet:
            con.print(f"      {_marked(hit.snippet, hit.snippet_spans)}")


# --- ask -----------------------------------------------------------------------------------------------
@click.command()
@common
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Answers as a YAML or JSON mapping (attribute: value, 'unsure' allowed); '-' reads standard input.",
)
@click.option(
    "--notice",
    "notice_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the one-time notice to this file at the end (format from the suffix or --format).",
)
@click.option(
    "--format",
    "notice_format",
    type=click.Choice(NOTICE_FORMATS),
    default=None,
    help="Notice format (default: from the --notice suffix, else html).",
)
@click.option("--name", "project_name", default=None, help="Project name printed on the notice.")
@start_option
@calendar_options
@click.option("--plain", is_flag=True, help="Typed answers instead of arrow-key menus.")
@click.option("--force", is_flag=True, help="Overwrite an existing --notice file.")
def ask(
    rules: Path | None,
    as_json: bool,
    answers_file: str | None,
    notice_path: Path | None,
    notice_format: str | None,
    project_name: str | None,
    start: str | None,
    calendar_file: Path | None,
    assume_weekends: bool,
    strict_calendar: bool,
    plain: bool,
    force: bool,
) -> None:
    """Answer a few questions and get the project's approval flow (智能问答).

    Only questions that can still change the answer are asked, best first.  Choose 不确定 when
    unsure: you then get every flowchart still possible, with best and worst working days.
    """
    from .calendar import acceptance_day, make_calendar
    from .wizard import Outcome, next_question

    rs = _load(rules)
    cal = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    start = acceptance_day(start, cal).isoformat()  # refused now, before any question, when it is not a working day
    if notice_path is not None:
        check_target(notice_path, force=force)  # before any question is asked
    if answers_file is not None:
        answers = _read_answers(answers_file)
        step = next_question(answers, ruleset=rs)
        if isinstance(step, Outcome):
            _finish(
                rs,
                step,
                answers,
                as_json,
                notice_path,
                notice_format,
                project_name,
                start,
                offer=False,
                calendar=cal,
                force=force,
            )
        else:
            _incomplete(rs, step, answers, as_json)
    interactive = not plain and sys.stdin.isatty() and sys.stdout.isatty() and find_spec("questionary") is not None
    prompt: Callable[[Question, bool], str] = _menu if interactive else _typed_prompt(sys.stdin)
    outcome, answers = _converse(rs, prompt)
    _finish(
        rs,
        outcome,
        answers,
        as_json,
        notice_path,
        notice_format,
        project_name,
        start,
        offer=interactive,
        calendar=cal,
        force=force,
    )


def _read_answers(name: str) -> dict[str, Any]:
    if name == "-":
        text = sys.stdin.read(MAX_ANSWERS_FILE + 1)
        where = "standard input"
        if len(text) > MAX_ANSWERS_FILE:
            raise InputError(f"answers in {where} are larger than {MAX_ANSWERS_FILE} characters")
    else:
        try:  # a regular file only, its size checked before it is opened (never a FIFO or /dev/zero)
            raw = read_limited(name, MAX_ANSWERS_FILE)
        except ReadError as exc:
            raise InputError(
                f"cannot read answers file {name!r}: {exc.reason.removeprefix('cannot read file: ')}"
            ) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"answers file {name!r} is not UTF-8 text") from None
        where = name
    from .yamlsrc import YamlError, parse_text  # the same limits as rule files (aliases, depth, tags)

    try:
        data = parse_text(text, where).data if text.strip() else {}
    except YamlError as exc:
        p = exc.problem
        raise InputError(f"answers in {where}:{p.line}:{p.col} are not valid YAML or JSON ({p.message})") from None
    if not isinstance(data, dict):
        raise InputError(f"answers in {where} must be a mapping of attribute to value, got {type(data).__name__}")
    return {str(k): _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _incomplete(rs: RuleSet, question: Question, answers: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        _emit({"status": "incomplete", "question": question.to_dict(), "answers": dict(answers)})
    else:
        values = ", ".join(f"{o.value}={o.label}" for o in question.options)
        click.echo(clean(f"还需回答 / still needed: {question.label}（{question.attribute}）: {values}, unsure=不确定"))
    exit_with("incomplete")


def _converse(rs: RuleSet, prompt: Callable[[Question, bool], str]) -> tuple[Outcome, dict[str, Any]]:
    """Ask until the wizard has an outcome. ``prompt`` returns a value, UNSURE or ``"<back>"``."""
    from .wizard import Outcome, next_question

    answers: dict[str, Any] = {}
    while True:
        step = next_question(answers, ruleset=rs)
        if isinstance(step, Outcome):
            return step, answers
        got = prompt(step, bool(answers))
        if got == "<back>":
            answers.pop(next(reversed(answers)))
        else:
            answers[step.attribute] = got


def _dead_end(option: Option) -> str:
    """The mark of an option that can only end in "not applicable" (issue 17: said before it is picked)."""
    return "  ⚠ 按已答情况，选此项没有适用的审批流程" if option.not_applicable else ""


def _menu(question: Question, can_go_back: bool) -> str:
    """Arrow-key menu (questionary). Ctrl-C ends the command."""
    import questionary

    from .wizard import UNSURE, UNSURE_LABEL

    click.echo("")
    click.echo(f"第 {question.number} 题 · 预计还需约 {question.expected_remaining:.1f} 题")
    choices = [
        questionary.Choice(f"{o.label}（{o.gloss}）" + (f" — {o.help}" if o.help else "") + _dead_end(o), value=o.value)
        for o in question.options
    ]
    choices.append(questionary.Choice(f"{UNSURE_LABEL} / not sure", value=UNSURE))
    if can_go_back:
        choices.append(questionary.Choice("← 返回上一题 / back", value="<back>"))
    answer = questionary.select(
        f"{question.label}（{question.gloss}）", choices=choices, instruction=question.help
    ).ask()
    if answer is None:
        raise click.Abort()
    return str(answer)


def _typed_prompt(stream: TextIO) -> Callable[[Question, bool], str]:
    lines = _lines(stream)

    def prompt(question: Question, can_go_back: bool) -> str:
        from .wizard import UNSURE

        click.echo(clean(f"\n第 {question.number} 题：{question.label}（{question.gloss}）"))
        click.echo(clean(f"  {question.help}"))
        for number, option in enumerate(question.options, start=1):
            click.echo(clean(f"  {number}. {option.label}（{option.value}）" + _dead_end(option)))
        click.echo("  ?. 不确定 / not sure" + ("    <. 返回上一题 / back" if can_go_back else ""))
        while True:
            click.echo("> ", nl=False)
            line = next(lines, None)
            if line is None:
                raise InputError(f"input ended before question {question.attribute!r} ({question.label}) was answered")
            text = line.strip()
            if not text:
                continue
            if text.lower() in UNSURE_WORDS:
                return UNSURE
            if text.lower() in BACK_WORDS and can_go_back:
                return "<back>"
            value = _option_for(question, text)
            if value is not None:
                return value
            allowed = ", ".join(o.value for o in question.options)
            count = len(question.options)
            click.echo(f"无法识别的回答 {text!r}；请输入编号 1–{count}、取值（{allowed}）或 ? 表示不确定")

    return prompt


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        click.echo(clean(line.rstrip("\n")))
        yield line


def _option_for(question: Question, text: str) -> str | None:
    if text.isdigit() and 1 <= int(text) <= len(question.options):
        return question.options[int(text) - 1].value
    for option in question.options:
        if text in (option.value, option.label) or text.lower() == option.gloss.lower():
            return option.value
    return None


def _finish(
    rs: RuleSet,
    outcome: Outcome,
    answers: Mapping[str, Any],
    as_json: bool,
    notice_path: Path | None,
    notice_format: str | None,
    project_name: str | None,
    start: str | None,
    *,
    offer: bool,
    calendar: WorkCalendar | None = None,
    force: bool = False,
) -> None:
    written = None
    if offer and outcome.status == "matched" and notice_path is None:
        notice_path, project_name = _offer_notice(outcome, project_name)
    if notice_path is not None:
        if outcome.status != "matched":
            raise InputError(f"a notice needs a matched project; this one is {outcome.status}")
        written = write_notice(
            rs, outcome, notice_path, notice_format, project_name, start, calendar=calendar, force=force
        )
    if as_json:
        _emit({**outcome.to_dict(), "answers": dict(answers), "notice": str(written) if written else None})
    else:
        _print_outcome(rs, outcome)
        if written is not None:
            click.echo(clean(f"\n一次性告知书已写入 / notice written: {written}"))
        elif outcome.status == "matched" and not offer:
            click.echo("\n用 --notice FILE 生成一次性告知书 / use --notice FILE to write the one-time notice")
    exit_with(outcome.status)


def _offer_notice(outcome: Outcome, project_name: str | None) -> tuple[Path | None, str | None]:
    import questionary

    if not questionary.confirm("现在生成一次性告知书吗？/ Write the one-time notice now?", default=True).ask():
        return None, project_name
    assert outcome.result is not None
    default = f"一次性告知书-{outcome.result.flowchart}.html"
    path = questionary.path("保存为 / save as:", default=default).ask()
    if not path:
        return None, project_name
    name = project_name or questionary.text("项目名称（可空）/ project name (optional):").ask() or None
    return Path(path), name


def write_notice(
    rs: RuleSet,
    outcome: Outcome,
    path: Path,
    notice_format: str | None,
    project_name: str | None,
    start: str | None,
    *,
    calendar: WorkCalendar | None = None,
    force: bool = False,
) -> Path:
    """Build the outcome's notice (:func:`flowmatch.notice.build_notice`, dated from the acceptance
    day), render it and write it with :func:`flowmatch.fileio.write_atomic` (an existing file is
    replaced only with ``force``)."""
    if find_spec("flowmatch.render") is None:
        raise FlowmatchError("writing the notice needs flowmatch.render, which this installation lacks")
    from .notice import build_notice, render

    fmt = notice_format or {".md": "md", ".pdf": "pdf", ".json": "json"}.get(path.suffix.lower(), "html")
    notice = build_notice(outcome, ruleset=rs, start=start, calendar=calendar, name=project_name)
    write_atomic(path, render(notice, fmt), force=force)
    return path


def _print_outcome(rs: RuleSet, outcome: Outcome) -> None:
    from .calendar import plain_days
    from .cli import _console, _print_match

    con = _console()
    con.print("")
    if outcome.status in ("matched", "not_applicable") and outcome.result is not None:
        _print_match(rs, outcome.result)
        best = outcome.best
        if outcome.status == "matched" and best is not None and best.working_days is not None:
            con.print(
                f"\n计时工作日 counted working days: [bold]{plain_days(best.working_days)}[/]"
                + (
                    f"；含不计时环节 elapsed: {plain_days(best.elapsed_working_days)}"
                    if best.elapsed_working_days is not None
                    else ""
                )
            )
        return
    if outcome.status == "invalid":
        con.print("[bold red]输入有误 invalid[/]")
        for bad in outcome.invalid:
            con.print("  " + esc(bad.text()))
        return
    con.print(f"[bold yellow]{esc(outcome.explanation[0])}[/]")
    from rich.table import Table

    table = Table()
    for col in ("情形 situation", "流程图 flowchart", "计时工作日", "含不计时"):
        table.add_column(col)
    for c in outcome.situations:
        days = "—" if c.working_days is None else str(plain_days(c.working_days))
        elapsed = "—" if c.elapsed_working_days is None else str(plain_days(c.elapsed_working_days))
        table.add_row(
            f"{esc(c.rule)} {esc(c.name)}", f"{esc(c.flowchart)} {esc(c.flowchart_name or '')}", days, elapsed
        )
    con.print(table)
    best, worst = outcome.best, outcome.worst
    if best is not None and worst is not None:
        con.print(
            f"最快 best case: {plain_days(best.working_days or 0)} 个工作日（{esc(best.rule)}）；"
            f"最慢 worst case: {plain_days(worst.working_days or 0)} 个工作日（{esc(worst.rule)}）"
        )
    for c in outcome.candidates:
        if c.kind == "not_applicable":
            con.print(f"[dim]也可能不适用（{esc(c.rule)}）：{esc(c.name)}[/dim]")


# --- serve -----------------------------------------------------------------------------------------------
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def missing_web_extra() -> list[str]:
    """The packages of the ``[web]`` extra that are not installed."""
    return [
        name
        for name, module in (("starlette", "starlette"), ("uvicorn", "uvicorn"), ("jinja2", "jinja2"))
        if find_spec(module) is None
    ]


# uvicorn settings for `flowmatch serve` (see SECURITY.md: put a reverse proxy in front on a network)
SERVER_SETTINGS: dict[str, Any] = {
    "timeout_keep_alive": 5,  # seconds an idle keep-alive connection is kept open
    "limit_concurrency": 100,  # connections and tasks at once; beyond it uvicorn answers 503
    "h11_max_incomplete_event_size": 16 * 1024,  # bytes of request line and headers
    "timeout_graceful_shutdown": 10,
}


@click.command()
@click.option(
    "--rules",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rule-set directory (default: the packaged Harbin-2014 rule-set).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. Anything but loopback makes the questionnaire reachable from other machines "
    "and needs --allowed-host.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name clients use to reach the server (repeatable); other Host headers are refused. "
    "Required when --host is not loopback.",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Case database: adds the staff console (/console), the applicant's lookup (/track) and the API "
    "(/api/v1), and the notice form then takes the applicant's 统一社会信用代码 and spares the "
    "certificates it holds. sqlite:///PATH (one process) or postgresql+psycopg://... (any --workers).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (more than one needs --db on PostgreSQL; they share nothing but the database).",
)
@click.option(
    "--track-limit",
    type=click.IntRange(1, 10**9),
    default=10,
    show_default=True,
    help="/track look-ups per client address per minute (behind a proxy every client shares one address).",
)
@calendar_options
def serve(
    rules: Path | None,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    db: str | None,
    workers: int,
    track_limit: int,
    calendar_file: Path | None,
    assume_weekends: bool,
    strict_calendar: bool,
) -> None:
    """Serve the web questionnaire, search and browse pages (needs the [web] extra); with --db also the
    staff console, /track and /api/v1."""
    missing = missing_web_extra()
    if missing:
        raise FlowmatchError(
            f"flowmatch serve needs the web extra: pip install 'flowmatch[web]' (missing: {', '.join(missing)})"
        )
    loopback = host in LOOPBACK or host.startswith("127.")
    if not loopback and not allowed_hosts:
        raise InputError(
            f"serving on {host} needs --allowed-host NAME for each host name clients use "
            "(e.g. --allowed-host approvals.example.gov.cn); other Host headers are refused"
        )
    if workers > 1 and not (db or "").startswith(("postgresql", "postgres:")):
        raise InputError("--workers above 1 needs --db postgresql+psycopg://... (SQLite is for one process)")
    import json
    import os

    import uvicorn

    from .calendar import make_calendar
    from .web.serving import ENV

    _load(rules)  # a broken rule-set is reported here, before any worker starts
    make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    if db is not None:
        from .tracking.store import engine

        engine(db).dispose()  # migrate once, before the workers start
    if not loopback:
        click.echo(
            clean(
                f"warning: serving on {host}: the questionnaire is reachable from other machines; "
                "put a reverse proxy in front of it (see SECURITY.md)"
            ),
            err=True,
        )
    hosts = [*allowed_hosts, *((*LOOPBACK, "[::1]", host) if loopback else ())]
    os.environ[ENV] = json.dumps(
        {
            "rules": str(rules) if rules is not None else None,
            "hosts": hosts,
            "db": db,
            "track_limit": track_limit,
            "calendar_file": str(calendar_file) if calendar_file is not None else None,
            "assume_weekends": assume_weekends,
            "strict_calendar": strict_calendar,
        }
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(clean(f"flowmatch: http://{shown}:{port}/ （按 Ctrl-C 停止 / Ctrl-C to stop）"))
    uvicorn.run(
        "flowmatch.web.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        **SERVER_SETTINGS,
    )
