"""``flowmatch guide``: write the one-time notice for one project, or for a batch of projects.

One project::

    flowmatch guide kind=building land_nature=collective building_use=township_enterprise \\
        --start 2026-03-02 --name 某项目 --applicant 某公司 -o notice.html

A batch (staff)::

    flowmatch guide --batch projects.csv -o notices/ --format pdf --jobs 2

A face only: it parses the options, calls :func:`flowmatch.notice.build_notice` and
:func:`flowmatch.notice.render` (one project) or :func:`flowmatch.batch.run_batch` (a batch file:
CSV, YAML or JSON Lines; see :mod:`flowmatch.batch`) and prints what happened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .batch import EXTENSIONS, BatchReport, read_batch, read_on_file, run_batch, split_ids, summary
from .calendar import number_text
from .cli import _emit, _load, calendar_options, common, exit_with, start_option
from .errors import InputError
from .fileio import check_target, write_atomic
from .terminal import clean, esc


def _format_for(fmt: str | None, output: Path | None) -> str:
    if fmt:
        return fmt
    if output is not None:
        for name, ext in EXTENSIONS.items():
            if output.suffix.lower() == ext or (name == "html" and output.suffix.lower() == ".htm"):
                return name
    return "html"


def warm_pdf() -> None:
    """Start the PDF engine's browser in the background when Chromium is the engine (else nothing:
    Typst finds its fonts in a few milliseconds when the notice is typeset)."""
    from .pdf import engine, warm_up

    try:
        chromium = engine() == "chromium"
    except InputError:
        return  # a bad FLOWMATCH_PDF_ENGINE is reported where the PDF is made
    if chromium:
        warm_up()


# --- the command ----------------------------------------------------------------------------------
@click.command()
@common
@click.argument("pairs", nargs=-1, metavar="ATTRIBUTE=VALUE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXTENSIONS)),
    default=None,
    help="html (default; or from the -o extension), md, pdf (needs the [pdf] extra (Typst), Chromium or "
    "WeasyPrint, and a CJK font; FLOWMATCH_PDF_ENGINE chooses) or json "
    "(the notice as data; see `flowmatch schema notice`).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Output file (one project; '-' or none: standard output for html/md) or directory (--batch).",
)
@start_option
@click.option("--name", "project_name", default=None, help="Project name printed on the notice.")
@click.option("--applicant", default=None, help="Applicant printed on the notice.")
@click.option(
    "--on-file",
    "on_file",
    default=None,
    metavar="M1,M2",
    help="Material ids already in the certificate database (not asked).",
)
@click.option(
    "--on-file-yaml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML list of material ids already on file.",
)
@click.option(
    "--credit-code",
    "credit_code",
    default=None,
    metavar="CODE",
    help="Applicant's 统一社会信用代码: certificates in the certificate database are not asked.",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Certificate database (the case store; default $FLOWMATCH_DB or the per-user SQLite file).",
)
@click.option("--commitment", is_flag=True, help="告知承诺: eligible steps on a signed commitment letter.")
@click.option(
    "--templates",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory of Jinja templates overriding the packaged ones (runs sandboxed).",
)
@calendar_options
@click.option(
    "--compare-rules",
    "compare_rules",
    multiple=True,
    metavar="RULES",
    help="Also show this project under another rule-set (name or directory), e.g. harbin-2014.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--batch",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV or YAML of projects (an 'id' column names each file); -o is then a directory.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes for --batch (default 2).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the notice (html, md, pdf); json stays as the data is.",
)
def guide(
    rules: Path | None,
    as_json: bool,
    pairs: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    start: str | None,
    project_name: str | None,
    applicant: str | None,
    on_file: str | None,
    on_file_yaml: Path | None,
    credit_code: str | None,
    db: str | None,
    commitment: bool,
    templates: Path | None,
    calendar_file: Path | None,
    assume_weekends: bool,
    strict_calendar: bool,
    compare_rules: tuple[str, ...],
    force: bool,
    batch: Path | None,
    jobs: int | None,
    lang: str = "zh",
) -> None:
    """Write the one-time notice (一次性告知书) for a project, or for every project of a batch file.

    Dates count from the acceptance day (default: the first working day from today); dates in a
    year whose holiday notice is not yet published are estimated and marked 预计 on the notice."""
    if batch is not None:
        if compare_rules:
            raise InputError("--compare-rules is for one notice, not --batch")
        if credit_code:
            raise InputError("--credit-code is for one notice, not --batch")
        if lang != "zh":
            raise InputError("--lang en is for one notice, not --batch")
        _guide_batch(
            rules,
            as_json,
            pairs,
            fmt,
            output,
            batch,
            jobs,
            force,
            templates,
            calendar_file,
            assume_weekends,
            strict_calendar,
        )
        return
    from .calendar import make_calendar
    from .matcher import parse_pairs
    from .notice import build_notice, render

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
    ids = read_on_file(on_file_yaml) if on_file_yaml else split_ids(on_file or "")
    cal = make_calendar(calendar_file, assume_weekends=assume_weekends, strict=strict_calendar)
    from .catalogue import ruleset_path
    from .ruleset import load_ruleset

    others = [load_ruleset(ruleset_path(r)) for r in compare_rules]
    if templates is not None and not Path(templates).is_dir():  # before the work, not after it
        raise InputError(f"template directory {str(templates)!r} does not exist or is not a directory")
    notice = build_notice(
        parse_pairs(list(pairs)),
        ruleset=rs,
        start=start,
        calendar=cal,
        name=project_name,
        applicant=applicant,
        on_file=ids,
        commitment=commitment,
        compare_with=others,
        credit_code=credit_code,
        db=db,
    )
    data = render(notice, fmt, templates=templates, lang=lang)
    about = summary(notice)
    for warning in about["warnings"]:
        click.echo(f"warning: {clean(warning)}", err=True)
    if to_stdout:
        assert isinstance(data, str)
        click.echo(data, nl=False)
        return
    assert output is not None
    write_atomic(output, data, force=force)
    if as_json:
        _emit({"output": str(output), "format": fmt, **about})
    else:
        click.echo(
            clean(
                f"wrote {output} ({about['situation']} → {about['flowchart']}, "
                f"{number_text(about['working_days'])} working days, finish {about['finish']})"
            ),
            err=True,
        )


def _guide_batch(
    rules: Path | None,
    as_json: bool,
    pairs: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    batch: Path,
    jobs: int | None,
    force: bool,
    templates: Path | None,
    calendar_file: Path | None,
    assume_weekends: bool,
    strict_calendar: bool,
) -> None:
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
    with Progress(
        TextColumn("[bold]告知书[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=as_json or not console.is_terminal,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=rows_total)

        def advance(result: dict[str, Any]) -> None:
            bar.update(task, advance=1, description=f"{esc(result['id'])}: {result['status']}")

        report = run_batch(
            batch,
            output,
            fmt,
            rules=rules,
            jobs=jobs,
            force=force,
            templates=templates,
            calendar_file=calendar_file,
            assume_weekends=assume_weekends,
            strict_calendar=strict_calendar,
            progress=advance,
        )
    if as_json:
        _emit(report.to_dict())
    else:
        _print_report(console, report, output)
    exit_with("failed" if report.failed else "ok")


def _print_report(console: Any, report: BatchReport, output: Path) -> None:
    console.print(
        f"{len(report.written)} written, {len(report.skipped)} skipped (already there; --force rewrites), "
        f"{len(report.failed)} failed — in {esc(output)}"
    )
    if report.failed:
        from rich.table import Table

        table = Table(title="failed rows", show_lines=False)
        for col in ("row", "id", "error"):
            table.add_column(col)
        for r in report.failed:
            table.add_row(str(r["row"]), esc(r["id"]), esc(r["error"]))
        console.print(table)
