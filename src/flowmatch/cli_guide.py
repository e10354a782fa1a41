"""``flowmatch guide``: write the one-time notice for one project, or for a batch of projects.

One project::

    flowmatch guide kind=building land_nature=collective building_use=township_enterprise \\
        --start 2026-03-02 --name 某项目 --applicant 某公司 -o notice.html

A batch (staff)::

    flowmatch guide --batch projects.csv -o notices/ --format pdf --jobs 2

A batch file is CSV (a header row) or YAML (a list of mappings, or ``projects:`` holding one).
Columns: ``id`` (required, names the output file), the attributes and flags of the profile, and
optionally ``name``, ``applicant``, ``start``, ``on_file`` (ids separated by ``,`` ``;`` or
spaces) and ``commitment`` (true/false).  Empty cells are ignored.  One bad row never stops the
rest; every file is written to a temporary file in the target directory and then renamed, so an
interrupted run leaves no half-written notice, and a re-run skips the notices already written
(``--force`` rewrites them).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .calendar import number_text, plain_days
from .cli import _emit, _load, calendar_options, common, start_option
from .errors import FlowmatchError, InputError
from .fileio import OutputError, OutputExistsError, check_target, read_limited
from .fileio import write_atomic as write_atomic
from .terminal import clean, esc

if TYPE_CHECKING:
    from .calendar import WorkCalendar
    from .ruleset import RuleSet

EXTENSIONS = {"html": ".html", "md": ".md", "pdf": ".pdf"}
RESERVED = {"id", "name", "applicant", "start", "on_file", "commitment"}
_SAFE_ID = re.compile(r"^[\w\-.]+$", re.UNICODE)
MAX_BATCH_BYTES = 20_000_000  # a CSV batch file (YAML ones have the rule files' limit)


# --- shared pieces ---------------------------------------------------------------------------------
def split_ids(text: str) -> list[str]:
    """Material ids from ``M1,M2`` / ``M1; M2`` / ``M1 M2``."""
    return [t for t in re.split(r"[\s,;，；、]+", text.strip()) if t]


def read_on_file_yaml(path: Path) -> list[str]:
    """Material ids from a YAML file: a list, or a mapping with an ``on_file`` list."""
    from .yamlsrc import YamlError, read

    try:
        data = read(path).data
    except YamlError as exc:
        raise InputError(f"{path}: {exc.problem.message}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if isinstance(data, Mapping):
        data = data.get("on_file")
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise InputError(f"{path}: expected a list of material ids (or 'on_file:' holding one)")
    return list(data)


def parse_start(text: str | None, calendar: WorkCalendar, today: dt.date | None = None) -> dt.date:
    """The acceptance day (:func:`flowmatch.calendar.acceptance_day`, the one rule everywhere)."""
    from .calendar import acceptance_day

    return acceptance_day(text, calendar, today=today)


def _parse_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "y", "是", "on"}:
        return True
    if text in {"false", "no", "0", "n", "否", "off", ""}:
        return False
    raise InputError(f"{what} takes true or false, got {value!r}")


def not_matched_message(rs: RuleSet, result: Any) -> str:
    """Why a profile cannot get a notice, listing what is missing or allowed."""
    if result.status == "incomplete":
        parts = []
        for attr in result.missing:
            a = rs.attributes[attr]
            parts.append(f"{attr} ({a.label}): {', '.join(a.values)}")
        return "the profile is incomplete; still needed: " + "; ".join(parts)
    if result.status == "not_applicable":
        text = f"the project is not applicable ({result.rule}): {result.reason}"
        if result.consider:
            text += f"; consider {result.consider} {rs.situations[result.consider].name}"
        return text
    return "the profile is invalid: " + "; ".join(i.text() for i in result.invalid)


def make_notice(
    rs: RuleSet,
    profile: Mapping[str, Any],
    fmt: str,
    *,
    start: str | None = None,
    name: str | None = None,
    applicant: str | None = None,
    on_file: Sequence[str] = (),
    commitment: bool = False,
    templates: Path | None = None,
    calendar: WorkCalendar | None = None,
    generated: dt.date | None = None,
    compare_with: Sequence[RuleSet] = (),
    credit_code: str | None = None,
    db: str | None = None,
) -> tuple[str | bytes, dict[str, Any]]:
    """Match, schedule and render one notice; returns it and a summary. Raises on bad input.

    With ``credit_code`` the applicant is looked up in the certificate database at ``db`` (证照数据库,
    on the acceptance day): what it holds joins ``on_file``."""
    from .calendar import WorkCalendar
    from .flows import for_situation
    from .matcher import matcher_for
    from .materials import check_on_file
    from .render import notice_warnings, render_guide
    from .scheduler import schedule

    if templates is not None and not Path(templates).is_dir():
        raise InputError(f"template directory {str(templates)!r} does not exist or is not a directory")
    matcher = matcher_for(rs)
    result = matcher.match(profile)
    if result.status != "matched":
        raise InputError(not_matched_message(rs, result))
    answers, _, _ = matcher.validate(profile)
    cal = calendar or WorkCalendar()
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=answers)
    entries: list[Any] = list(on_file)
    if credit_code is not None:
        from .tracking.credit import validate_credit_code

        validate_credit_code(credit_code)  # refused before any database is opened
    check_on_file(flow, rs, entries)
    day = parse_start(start, cal)
    if credit_code is not None:
        from .tracking.certs import certificates_on_file

        entries += certificates_on_file(credit_code, as_of=day, db=db, ruleset=rs)
    plan = schedule(flow, day, cal, "commitment" if commitment else "standard", ruleset=rs)
    compare: tuple[dict[str, Any], ...] = ()
    if compare_with:  # "under the 2014 rules / under the 2019 rules" for this project
        from .diff import under_each

        compare = tuple(under_each([rs, *compare_with], profile, start=day, calendar=cal))
    output = render_guide(result, plan, fmt, ruleset=rs, project_name=name, applicant=applicant, on_file=entries,
                          templates=templates, generated=generated, calendar=cal, compare=compare)
    summary = {
        "situation": result.situation, "flowchart": result.flowchart, "working_days": plain_days(plan.working_days),
        "elapsed_working_days": plain_days(plan.elapsed_working_days), "start": day.isoformat(),
        "finish": plan.finish.isoformat() if plan.finish else None, "warnings": notice_warnings(plan, cal),
    }
    return output, summary


class _Interrupt:
    """Ctrl-C during a batch: finish the notices being written, start no more, then stop."""

    def __init__(self) -> None:
        self.hit = False
        self._previous: Any = None

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.hit = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _format_for(fmt: str | None, output: Path | None) -> str:
    if fmt:
        return fmt
    if output is not None:
        for name, ext in EXTENSIONS.items():
            if output.suffix.lower() == ext or (name == "html" and output.suffix.lower() == ".htm"):
                return name
    return "html"


def warm_pdf() -> None:
    """Start the PDF engine's browser in the background when Chromium is the engine (else nothing)."""
    from .pdf import engine, warm_up

    try:
        chromium = engine() == "chromium"
    except InputError:
        return  # a bad FLOWMATCH_PDF_ENGINE is reported where the PDF is made
    if chromium:
        warm_up()


# --- batch ----------------------------------------------------------------------------------------
@dataclass
class Row:
    number: int
    id: str
    profile: dict[str, Any]
    options: dict[str, Any]
    error: str | None = None


@dataclass
class BatchReport:
    written: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "skipped": self.skipped, "failed": self.failed,
                "counts": {"written": len(self.written), "skipped": len(self.skipped), "failed": len(self.failed)}}


def read_batch(path: Path) -> list[Row]:
    """The rows of a batch file (CSV or YAML). A row's own problems are kept on the row."""
    suffix = path.suffix.lower()
    records: list[tuple[int, Any]]
    if suffix == ".csv":
        try:
            text = read_limited(path, MAX_BATCH_BYTES).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"batch file {path} is not UTF-8 text") from None
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "id" not in [f.strip() for f in reader.fieldnames]:
            raise InputError(f"batch file {path} needs a header row with an 'id' column")
        records = [(i, {(k or "").strip(): v for k, v in rec.items()}) for i, rec in enumerate(reader, start=2)]
    elif suffix in (".yaml", ".yml"):
        from .yamlsrc import YamlError, read

        try:
            data = read(path).data
        except YamlError as exc:
            raise InputError(f"{path}: {exc.problem.message}") from None
        if isinstance(data, Mapping) and "projects" in data:
            data = data["projects"]
        if not isinstance(data, list):
            raise InputError(f"batch file {path}: expected a list of projects (or 'projects:' holding one)")
        records = list(enumerate(data, start=1))
    else:
        raise InputError(f"batch file {path.name}: unknown kind of file", allowed=[".csv", ".yaml", ".yml"])
    rows: list[Row] = []
    seen: set[str] = set()
    for number, rec in records:
        if not isinstance(rec, Mapping):
            rows.append(Row(number, f"row{number}", {}, {}, "expected a mapping of column to value"))
            continue
        pid = str(rec.get("id") or "").strip()
        row = Row(number, pid or f"row{number}", {}, {})
        for key, value in rec.items():
            key = str(key).strip()
            if value is None or (isinstance(value, str) and not value.strip()) or key == "id":
                continue
            if key in RESERVED:
                row.options[key] = value
            else:
                row.profile[key] = value.strip() if isinstance(value, str) else value
        if not pid:
            row.error = "missing id"
        elif not _SAFE_ID.match(pid) or pid in {".", ".."}:
            row.error = f"id {pid!r} cannot name a file; use letters, digits, '-', '_' or '.'"
        elif pid in seen:
            row.error = f"duplicate id {pid!r}"
        seen.add(pid)
        rows.append(row)
    return rows


_WORKER: dict[str, Any] = {}


def _init_worker(rules: str | None, calendar_file: str | None, assume_weekends: bool, strict: bool = False) -> None:
    """Load the rule-set (and calendar) once per worker process."""
    from .calendar import make_calendar

    _WORKER["rs"] = _load(Path(rules) if rules else None)
    _WORKER["cal"] = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict)


def _init_pool_worker(rules: str | None, calendar_file: str | None, assume_weekends: bool, strict: bool) -> None:
    """A worker process ignores Ctrl-C: the parent lets it finish its notice, then stops the batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(rules, calendar_file, assume_weekends, strict)


def _render_row(row: Row, out_dir: str, fmt: str, force: bool, templates: str | None,
                generated: dt.date | None) -> dict[str, Any]:
    target = Path(out_dir) / f"{row.id}{EXTENSIONS[fmt]}"
    base = {"row": row.number, "id": row.id, "file": str(target)}
    if row.error:
        return {**base, "status": "failed", "error": row.error}
    if target.exists() and not force:
        return {**base, "status": "skipped"}
    try:
        opts = row.options
        on_file = opts.get("on_file") or []
        if isinstance(on_file, str):
            on_file = split_ids(on_file)
        data, summary = make_notice(
            _WORKER["rs"], row.profile, fmt, start=str(opts["start"]) if opts.get("start") else None,
            name=str(opts["name"]) if opts.get("name") else None,
            applicant=str(opts["applicant"]) if opts.get("applicant") else None, on_file=[str(m) for m in on_file],
            commitment=_parse_bool(opts.get("commitment", False), "commitment"),
            templates=Path(templates) if templates else None, calendar=_WORKER["cal"], generated=generated,
        )
        write_atomic(target, data, force=force, devices=False)  # a FIFO planted in the directory never blocks
    except OutputExistsError:  # written by someone else meanwhile: never overwritten without --force
        return {**base, "status": "skipped"}
    except FlowmatchError as exc:
        return {**base, "status": "failed", "error": str(exc)}
    return {**base, "status": "written", **summary}


def run_batch(
    batch: Path,
    out_dir: Path,
    fmt: str,
    *,
    rules: Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    templates: Path | None = None,
    calendar_file: Path | None = None,
    assume_weekends: bool = False,
    strict_calendar: bool = False,
    generated: dt.date | None = None,
    progress: Any = None,
) -> BatchReport:
    """Render every row of ``batch`` into ``out_dir``; returns what was written, skipped and failed.

    ``jobs``: worker processes (default: the CPU count, at most 2 per the service-centre machine);
    ``progress``: called with each row's result as it finishes.
    """
    rows = read_batch(batch)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {out_dir}: {exc.strerror or exc}") from None
    if templates is not None and not templates.is_dir():
        raise InputError(f"template directory {str(templates)!r} does not exist or is not a directory")
    jobs = jobs or min(2, os.cpu_count() or 1)
    report = BatchReport()
    args = (str(out_dir), fmt, force, str(templates) if templates else None, generated)
    init = (str(rules) if rules else None, str(calendar_file) if calendar_file else None, assume_weekends,
            strict_calendar)

    def record(result: dict[str, Any]) -> None:
        {"written": report.written, "skipped": report.skipped, "failed": report.failed}[result["status"]].append(result)
        if progress is not None:
            progress(result)

    with _Interrupt() as stop:
        if jobs <= 1 or len(rows) <= 1:
            _init_worker(*init)
            for row in rows:
                if stop.hit:
                    break
                record(_render_row(row, *args))
        else:
            import multiprocessing

            context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_pool_worker,
                                       initargs=init)
            try:
                futures: list[Future[dict[str, Any]]] = [pool.submit(_render_row, row, *args) for row in rows]
                for future in futures:
                    if stop.hit:
                        break
                    record(future.result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # running notices finish; the rest never start
    if stop.hit:
        raise KeyboardInterrupt
    for bucket in (report.written, report.skipped, report.failed):
        bucket.sort(key=lambda r: r["row"])
    return report


# --- the command ----------------------------------------------------------------------------------
@click.command()
@common
@click.argument("pairs", nargs=-1, metavar="ATTRIBUTE=VALUE...")
@click.option("--format", "fmt", type=click.Choice(list(EXTENSIONS)), default=None,
              help="html (default; or from the -o extension), md or pdf (needs Chromium or the [pdf] extra, "
                   "and a CJK font).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file (one project; '-' or none: standard output for html/md) or directory (--batch).")
@start_option
@click.option("--name", "project_name", default=None, help="Project name printed on the notice.")
@click.option("--applicant", default=None, help="Applicant printed on the notice.")
@click.option("--on-file", "on_file", default=None, metavar="M1,M2",
              help="Material ids already in the certificate database (not asked).")
@click.option("--on-file-yaml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML list of material ids already on file.")
@click.option("--credit-code", "credit_code", default=None, metavar="CODE",
              help="Applicant's 统一社会信用代码: certificates in the certificate database are not asked.")
@click.option("--db", default=None, metavar="URL",
              help="Certificate database (the case store; default $FLOWMATCH_DB or the per-user SQLite file).")
@click.option("--commitment", is_flag=True, help="告知承诺: eligible steps on a signed commitment letter.")
@click.option("--templates", type=click.Path(path_type=Path), default=None,
              help="Directory of Jinja templates overriding the packaged ones (runs sandboxed).")
@calendar_options
@click.option("--compare-rules", "compare_rules", multiple=True, metavar="RULES",
              help="Also show this project under another rule-set (name or directory), e.g. harbin-2014.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--batch", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV or YAML of projects (an 'id' column names each file); -o is then a directory.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes for --batch (default 2).")
def guide(rules: Path | None, as_json: bool, pairs: tuple[str, ...], fmt: str | None, output: Path | None,
          start: str | None, project_name: str | None, applicant: str | None, on_file: str | None,
          on_file_yaml: Path | None, credit_code: str | None, db: str | None, commitment: bool,
          templates: Path | None, calendar_file: Path | None, assume_weekends: bool, strict_calendar: bool,
          compare_rules: tuple[str, ...], force: bool, batch: Path | None, jobs: int | None) -> None:
    """Write the one-time notice (一次性告知书) for a project, or for every project of a batch file.

    Dates count from the acceptance day (default: the first working day from today); dates in a
    year whose holiday notice is not yet published are estimated and marked 预计 on the notice."""
    if batch is not None:
        if compare_rules:
            raise InputError("--compare-rules is for one notice, not --batch")
        if credit_code:
            raise InputError("--credit-code is for one notice, not --batch")
        _guide_batch(rules, as_json, pairs, fmt, output, batch, jobs, force, templates, calendar_file,
                     assume_weekends, strict_calendar)
        return
    from .calendar import make_calendar
    from .matcher import parse_pairs

    if output is not None and str(output) != "-" and _format_for(fmt, output) == "pdf":
        warm_pdf()  # the browser starts while the rules load and the notice is composed
    rs = _load(rules)
    if not pairs:
        raise InputError("give the project as ATTRIBUTE=VALUE pairs (or --batch FILE)", allowed=list(rs.attributes))
    if on_file and on_file_yaml:
        raise InputError("give --on-file or --on-file-yaml, not both")
    fmt = _format_for(fmt, output if output is not None and str(output) != "-" else None)
    to_stdout = output is None or str(output) == "-"
    if to_stdout and fmt == "pdf":
        raise InputError("PDF output needs -o FILE")
    if not to_stdout:
        assert output is not None
        if os.path.isdir(output):  # (os.path, unlike pathlib, answers False for a name too long to look up)
            raise InputError(f"{output} is a directory; give a file name (or use --batch for a directory)")
        check_target(output, force=force)  # exists without --force, no such directory, name too long
    ids = read_on_file_yaml(on_file_yaml) if on_file_yaml else split_ids(on_file or "")
    cal = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    from .catalogue import ruleset_path
    from .ruleset import load_ruleset

    others = [load_ruleset(ruleset_path(r)) for r in compare_rules]
    data, summary = make_notice(rs, parse_pairs(list(pairs)), fmt, start=start, name=project_name,
                                applicant=applicant, on_file=ids, commitment=commitment, templates=templates,
                                calendar=cal, compare_with=others, credit_code=credit_code, db=db)
    for warning in summary["warnings"]:
        click.echo(f"warning: {clean(warning)}", err=True)
    if to_stdout:
        assert isinstance(data, str)
        click.echo(data, nl=False)
        return
    assert output is not None
    write_atomic(output, data, force=force)
    if as_json:
        _emit({"output": str(output), "format": fmt, **summary})
    else:
        click.echo(clean(f"wrote {output} ({summary['situation']} → {summary['flowchart']}, "
                         f"{number_text(summary['working_days'])} working days, finish {summary['finish']})"), err=True)


def _guide_batch(rules: Path | None, as_json: bool, pairs: tuple[str, ...], fmt: str | None, output: Path | None,
                 batch: Path, jobs: int | None, force: bool, templates: Path | None, calendar_file: Path | None,
                 assume_weekends: bool, strict_calendar: bool) -> None:
    if pairs:
        raise InputError("--batch reads the projects from the file; give no ATTRIBUTE=VALUE pairs")
    if output is None:
        raise InputError("--batch needs -o DIR, the directory for the notices")
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} is a file; --batch needs -o DIR")
    # fail fast (exit 2) on a broken rule-set, before any worker starts; the workers get the directory
    # --rules NAME / --as-of picked (they have no command-line context of their own)
    rules = _load(rules).path
    fmt = fmt or "html"
    rows_total = len(read_batch(batch))
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False, emoji=False)
    with Progress(TextColumn("[bold]告知书[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, disable=as_json or not console.is_terminal,
                  transient=False) as bar:
        task = bar.add_task("", total=rows_total)

        def advance(result: dict[str, Any]) -> None:
            bar.update(task, advance=1, description=f"{esc(result['id'])}: {result['status']}")

        report = run_batch(batch, output, fmt, rules=rules, jobs=jobs, force=force, templates=templates,
                           calendar_file=calendar_file, assume_weekends=assume_weekends,
                           strict_calendar=strict_calendar, progress=advance)
    if as_json:
        _emit(report.to_dict())
    else:
        _print_report(console, report, output)
    sys.exit(1 if report.failed else 0)


def _print_report(console: Any, report: BatchReport, output: Path) -> None:
    console.print(f"{len(report.written)} written, {len(report.skipped)} skipped (already there; --force rewrites), "
                  f"{len(report.failed)} failed — in {esc(output)}")
    if report.failed:
        from rich.table import Table

        table = Table(title="failed rows", show_lines=False)
        for col in ("row", "id", "error"):
            table.add_column(col)
        for r in report.failed:
            table.add_row(str(r["row"]), esc(r["id"]), esc(r["error"]))
        console.print(table)
