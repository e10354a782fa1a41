"""Notices for a batch of projects: read the batch, run it on a process pool, write each notice atomically.

A batch file is CSV (a header row), YAML (a list of mappings, or ``projects:`` holding one) or
JSON Lines (``.jsonl``: one mapping a line).  Columns: ``id`` (required, names the output file),
the attributes and flags of the profile, and optionally ``name``, ``applicant``, ``start``,
``on_file`` (ids separated by ``,`` ``;`` or spaces) and ``commitment`` (true/false).  Empty
cells are ignored.  One bad row never stops the rest.

Every notice is built by :func:`flowmatch.notice.build_notice`, rendered by
:func:`flowmatch.notice.render` (a PDF by the engine of :func:`flowmatch.pdf.engine`, one Typst
typesetter or browser per worker, kept for all its notices) and written by
:func:`flowmatch.fileio.write_atomic` (a temporary file in the target directory, then renamed),
so an interrupted run leaves no half-written notice, and a re-run skips the notices already
written (resume; ``force`` rewrites them).
Ctrl-C lets the notices being written finish, starts no more and raises ``KeyboardInterrupt``.
The library never prints: ``progress`` is called with each row's result as it finishes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import FlowmatchError, InputError, OutputError, OutputExistsError
from .fileio import read_limited, write_atomic

if TYPE_CHECKING:
    from .calendar import WorkCalendar
    from .ruleset import RuleSet

__all__ = ["EXTENSIONS", "BatchReport", "Row", "read_batch", "read_on_file", "run_batch", "split_ids"]

EXTENSIONS = {"html": ".html", "md": ".md", "pdf": ".pdf", "json": ".json"}
RESERVED = {"id", "name", "applicant", "start", "on_file", "commitment"}
BATCH_KINDS = (".csv", ".yaml", ".yml", ".jsonl")
_SAFE_ID = re.compile(r"^[\w\-.]+$", re.UNICODE)
MAX_BATCH_BYTES = 20_000_000  # a CSV or JSON Lines batch file (YAML ones have the rule files' limit)


def split_ids(text: str) -> list[str]:
    """Material ids from ``M1,M2`` / ``M1; M2`` / ``M1 M2``."""
    return [t for t in re.split(r"[\s,;，；、]+", text.strip()) if t]


def read_on_file(path: Path) -> list[str]:
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


def _parse_bool(value: Any, what: str) -> bool:
    from .matcher import as_bool

    if isinstance(value, str) and not value.strip():
        return False
    parsed = as_bool(value if isinstance(value, (bool, str)) else str(value))
    if parsed is None:
        raise InputError(f"{what} takes true or false, got {value!r}")
    return parsed


@dataclass
class Row:
    """One project of a batch; a row's own problem (bad id, not a mapping) is kept in ``error``."""

    number: int
    id: str
    profile: dict[str, Any]
    options: dict[str, Any]
    error: str | None = None


@dataclass
class BatchReport:
    """What a batch wrote, skipped (already there) and failed, each a list of row results."""

    written: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "skipped": self.skipped,
            "failed": self.failed,
            "counts": {"written": len(self.written), "skipped": len(self.skipped), "failed": len(self.failed)},
        }


@dataclass(frozen=True)
class _Unreadable:
    problem: str


def _records(path: Path) -> list[tuple[int, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl"):
        try:
            text = read_limited(path, MAX_BATCH_BYTES).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"batch file {path} is not UTF-8 text") from None
        if suffix == ".jsonl":
            out: list[tuple[int, Any]] = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    out.append((number, json.loads(line)))
                except ValueError as exc:
                    out.append((number, _Unreadable(f"line {number} is not JSON: {exc}")))
            return out
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "id" not in [f.strip() for f in reader.fieldnames]:
            raise InputError(f"batch file {path} needs a header row with an 'id' column")
        return [(i, {(k or "").strip(): v for k, v in rec.items()}) for i, rec in enumerate(reader, start=2)]
    if suffix in (".yaml", ".yml"):
        from .yamlsrc import YamlError, read

        try:
            data = read(path).data
        except YamlError as exc:
            raise InputError(f"{path}: {exc.problem.message}") from None
        if isinstance(data, Mapping) and "projects" in data:
            data = data["projects"]
        if not isinstance(data, list):
            raise InputError(f"batch file {path}: expected a list of projects (or 'projects:' holding one)")
        return list(enumerate(data, start=1))
    raise InputError(f"batch file {path.name}: unknown kind of file", allowed=BATCH_KINDS)


def read_batch(path: Path) -> list[Row]:
    """The rows of a batch file (CSV, YAML or JSON Lines). A row's own problems are kept on the row."""
    rows: list[Row] = []
    seen: set[str] = set()
    for number, rec in _records(path):
        if not isinstance(rec, Mapping):
            problem = rec.problem if isinstance(rec, _Unreadable) else "expected a mapping of column to value"
            rows.append(Row(number, f"row{number}", {}, {}, problem))
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


@dataclass(frozen=True)
class _Worker:
    ruleset: RuleSet
    calendar: WorkCalendar


_WORKER: list[_Worker] = []  # the one per process: the rule-set and calendar, loaded once


def _init_worker(rules: str | None, calendar_file: str | None, assume_weekends: bool, strict: bool = False) -> None:
    """Load the rule-set (and calendar) once per worker process."""
    from .calendar import make_calendar
    from .ruleset import default_ruleset, load_ruleset

    rs = load_ruleset(Path(rules)) if rules else default_ruleset()
    _WORKER[:] = [_Worker(rs, make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict))]


def _init_pool_worker(rules: str | None, calendar_file: str | None, assume_weekends: bool, strict: bool) -> None:
    """A worker process ignores Ctrl-C: the parent lets it finish its notice, then stops the batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(rules, calendar_file, assume_weekends, strict)


def summary(notice: Any) -> dict[str, Any]:
    """What a face prints about a notice it wrote (situation, flowchart, days, dates, warnings)."""
    from .calendar import plain_days

    return {
        "situation": notice.situation.id,
        "flowchart": notice.flowchart.id,
        "working_days": plain_days(notice.working_days),
        "elapsed_working_days": plain_days(notice.elapsed_working_days),
        "start": notice.start.isoformat() if notice.start else None,
        "finish": notice.finish.isoformat() if notice.finish else None,
        "warnings": list(notice.warnings),
    }


def _render_row(
    row: Row, out_dir: str, fmt: str, force: bool, templates: str | None, generated: dt.date | None
) -> dict[str, Any]:
    from .notice import build_notice, render

    target = Path(out_dir) / f"{row.id}{EXTENSIONS[fmt]}"
    base = {"row": row.number, "id": row.id, "file": str(target)}
    if row.error:
        return {**base, "status": "failed", "error": row.error}
    if target.exists() and not force:
        return {**base, "status": "skipped"}
    worker = _WORKER[0]
    try:
        opts = row.options
        on_file = opts.get("on_file") or []
        if isinstance(on_file, str):
            on_file = split_ids(on_file)
        notice = build_notice(
            row.profile,
            ruleset=worker.ruleset,
            calendar=worker.calendar,
            start=str(opts["start"]) if opts.get("start") else None,
            name=str(opts["name"]) if opts.get("name") else None,
            applicant=str(opts["applicant"]) if opts.get("applicant") else None,
            on_file=[str(m) for m in on_file],
            commitment=_parse_bool(opts.get("commitment", False), "commitment"),
            generated=generated,
        )
        data = render(notice, fmt, templates=templates)
        write_atomic(target, data, force=force, devices=False)  # a FIFO planted in the directory never blocks
    except OutputExistsError:  # written by someone else meanwhile: never overwritten without --force
        return {**base, "status": "skipped"}
    except FlowmatchError as exc:
        return {**base, "status": "failed", "error": str(exc)}
    return {**base, "status": "written", **summary(notice)}


def _render_rows(rows: Sequence[Row], *args: Any) -> list[dict[str, Any]]:
    """A worker's task: several rows in turn (one IPC round trip for all of them)."""
    return [_render_row(row, *args) for row in rows]


def _chunk_size(rows: int, jobs: int, fmt: str) -> int:
    """Rows per worker task: an HTML or Markdown notice takes a few milliseconds, as long as the
    parent's round trip to hand it out, so they go in chunks (up to 32, at least 8 tasks per worker
    to keep the load even); a PDF notice takes a tenth of a second or more and goes alone, so that
    progress and an interrupt come notice by notice."""
    if fmt == "pdf":
        return 1
    return max(1, min(32, rows // (jobs * 8)))


def _start_method() -> str:
    """How the batch starts its workers: ``fork`` on Linux (the rule-set is already in memory), but
    ``spawn`` once this process has loaded Typst: forking a process whose Rust thread pool is running
    can leave a child waiting forever on a lock a thread of the parent held."""
    if not sys.platform.startswith("linux") or "typst" in sys.modules:
        return "spawn"
    return "fork"


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
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> BatchReport:
    """Render every row of ``batch`` into ``out_dir``; returns what was written, skipped and failed.

    ``rules``: a rule-set directory (default: the packaged one).  ``jobs``: worker processes
    (default: the CPU count, at most 2 per the service-centre machine).  ``progress``: called with
    each row's result as it finishes.
    """
    if fmt not in EXTENSIONS:
        raise InputError(f"unknown format {fmt!r}", allowed=list(EXTENSIONS))
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
    init = (
        str(rules) if rules else None,
        str(calendar_file) if calendar_file else None,
        assume_weekends,
        strict_calendar,
    )

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

            context = multiprocessing.get_context(_start_method())
            pool = ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=_init_pool_worker, initargs=init
            )
            try:
                size = _chunk_size(len(rows), jobs, fmt)
                futures: list[Future[list[dict[str, Any]]]] = [
                    pool.submit(_render_rows, rows[i : i + size], *args) for i in range(0, len(rows), size)
                ]
                for future in futures:
                    if stop.hit:
                        break
                    for result in future.result():
                        record(result)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # running notices finish; the rest never start
    if stop.hit:
        raise KeyboardInterrupt
    for bucket in (report.written, report.skipped, report.failed):
        bucket.sort(key=lambda r: r["row"])
    return report
