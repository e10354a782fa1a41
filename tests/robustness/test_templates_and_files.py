"""Templates and files: autoescape, the template sandbox, located template errors, and batch output
that is atomic, never overwritten without ``--force``, resumable and safe to interrupt.

Guarded with ``importorskip`` so the file passes before the guide helper's modules exist and makes
real assertions once they do.  (Web checks live in ``test_web.py``.)
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowmatch.cli import main
from flowmatch.errors import RenderError
from flowmatch.flows import for_situation
from flowmatch.matcher import MatchResult, matcher_for
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.scheduler import Schedule, schedule

from ._support import BASE, apply_edits, copy_base

XSS = "<script>alert('x')</script>"
XSS_ESCAPED = ("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;")
START = dt.date(2026, 3, 2)
PROFILES = [
    {"kind": "building", "investor": "government"},
    {"kind": "road"},
    {"kind": "building", "investor": "enterprise", "regime": "filing"},
]


@pytest.fixture(scope="module")
def render() -> Any:
    return pytest.importorskip("flowmatch.render")


@pytest.fixture(scope="module")
def cli_guide() -> Any:
    return pytest.importorskip("flowmatch.cli_guide")


def _matched(rs: RuleSet, profile: dict[str, str]) -> tuple[MatchResult, Schedule]:
    result = matcher_for(rs).match(profile)
    assert result.status == "matched"
    plan = schedule(for_situation(rs, result.situation or "", flags=result.flags), START, ruleset=rs)
    return result, plan


def _fresh_environments(render: Any) -> None:
    """The renderer caches one Jinja environment per template directory; tests reuse tmp names."""
    getattr(render, "_ENVIRONMENTS", {}).clear()


# --- autoescape -------------------------------------------------------------------------------------------
def test_html_notice_escapes_project_and_applicant(render: Any) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[0])
    html = render.render_guide(result, plan, "html", ruleset=rs, project_name=XSS, applicant=XSS + "&co")
    assert "<script>alert" not in html
    assert any(e in html for e in XSS_ESCAPED)
    assert "&amp;co" in html


def test_markdown_notice_escapes_html_too(render: Any) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    md = render.render_guide(result, plan, "md", ruleset=rs, project_name=XSS, applicant="A | B")
    assert "<script>" not in md
    assert "A \\| B" in md  # a pipe would break the Markdown table


def test_rule_data_is_escaped_as_well(render: Any, tmp_path: Path) -> None:
    """Names in the YAML reach the page too; staff edit them, so they are escaped like input."""
    root = copy_base(tmp_path)
    apply_edits(
        root,
        [
            {
                "file": "departments.yaml",
                "old": "  name: 城乡规划局\n",
                "new": "  name: <img src=x onerror=alert(1)>\n",
            },
            {"file": "departments.yaml", "old": "  short: 规划局\n", "new": "  short: <b>规划</b>\n"},
            {"file": "items.yaml", "old": "  name: 建设工程规划许可证\n", "new": f'  name: "{XSS}"\n'},
        ],
    )
    rs = load_ruleset(root, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    html = render.render_guide(result, plan, "html", ruleset=rs)
    assert "<img src=x" not in html and "<script>alert" not in html and "<b>规划</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert any(e in html for e in XSS_ESCAPED)


# --- the sandbox ----------------------------------------------------------------------------------------
SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ self._TemplateReference__context }}",
    "{{ header.__class__ }}",
]


@pytest.mark.parametrize("body", SANDBOX_ESCAPES)
def test_user_templates_run_sandboxed(render: Any, tmp_path: Path, body: str) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.html.j2").write_text("<p>ok</p>\n" + body + "\n", encoding="utf-8")
    _fresh_environments(render)
    with pytest.raises(RenderError) as err:
        render.render_guide(result, plan, "html", ruleset=rs, templates=templates)
    message = str(err.value)
    assert message.startswith("template notice.html.j2, line 2: ")
    assert "unsafe" in message or "not allowed in the sandbox" in message


def test_user_templates_cannot_include_files_outside_their_directory(render: Any, tmp_path: Path) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    (tmp_path / "secret.txt").write_text("TOPSECRET", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.html.j2").write_text("{% include '../secret.txt' %}\n", encoding="utf-8")
    _fresh_environments(render)
    with pytest.raises(RenderError) as err:
        render.render_guide(result, plan, "html", ruleset=rs, templates=templates)
    assert str(err.value).startswith("template ../secret.txt not found")
    assert "TOPSECRET" not in str(err.value)


def test_user_templates_are_autoescaped(render: Any, tmp_path: Path) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.html.j2").write_text("<h1>{{ header.project_name }}</h1>\n", encoding="utf-8")
    _fresh_environments(render)
    html = render.render_guide(result, plan, "html", ruleset=rs, templates=templates, project_name=XSS)
    assert "<script>" not in html and any(e in html for e in XSS_ESCAPED)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>\n{{ header.nope.deeper }}\n</p>\n", "template notice.html.j2, line 2: UndefinedError: "),
        ("<p>\n\n{% if %}\n", "template notice.html.j2, line 3: syntax error: "),
        ("{% for i in range(10**9) %}{% endfor %}\n", "template notice.html.j2, line 1: OverflowError: Range too big."),
    ],
)
def test_template_errors_name_template_and_line(render: Any, tmp_path: Path, body: str, expected: str) -> None:
    rs = load_ruleset(BASE, cache=False)
    result, plan = _matched(rs, PROFILES[1])
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.html.j2").write_text(body, encoding="utf-8")
    _fresh_environments(render)
    with pytest.raises(RenderError) as err:
        render.render_guide(result, plan, "html", ruleset=rs, templates=templates)
    assert str(err.value).startswith(expected)


def test_guide_command_reports_a_template_error_without_traceback(cli_guide: Any, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.html.j2").write_text("ok\n{{ ''.__class__ }}\n", encoding="utf-8")
    _fresh_environments(pytest.importorskip("flowmatch.render"))
    result = CliRunner().invoke(
        main,
        [
            "guide",
            "--rules",
            str(BASE),
            "kind=road",
            "--start",
            "2026-03-02",
            "--templates",
            str(templates),
            "-o",
            str(tmp_path / "n.html"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: template notice.html.j2, line 2: not allowed in the sandbox: ")
    assert "Traceback" not in result.output
    assert not (tmp_path / "n.html").exists()


# --- batch output -------------------------------------------------------------------------------------------
def _batch_file(path: Path, rows: int, *, extra: list[str] | None = None) -> Path:
    lines = ["id,kind,investor,regime,name,applicant,start"]
    for i in range(rows):
        p = PROFILES[i % 3]
        lines.append(f'p{i:04d},{p["kind"]},{p.get("investor", "")},{p.get("regime", "")},项目{i},"{XSS}",2026-03-02')
    lines += extra or []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _complete(path: Path) -> bool:
    return path.read_text(encoding="utf-8").rstrip().endswith("</html>")


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_batch_never_overwrites_without_force_and_resumes(cli_guide: Any, tmp_path: Path) -> None:
    batch = _batch_file(tmp_path / "projects.csv", 6)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0001.html").write_text("hand-edited, keep me", encoding="utf-8")
    first = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1)
    assert [r["id"] for r in first.skipped] == ["p0001"]
    assert len(first.written) == 5 and not first.failed
    assert (out / "p0001.html").read_text(encoding="utf-8") == "hand-edited, keep me"
    again = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1)
    assert (len(again.written), len(again.skipped)) == (0, 6)
    forced = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1, force=True)
    assert len(forced.written) == 6 and _complete(out / "p0001.html")
    assert _entries(out) == [f"p{i:04d}.html" for i in range(6)]


def test_single_notice_is_not_overwritten_without_force(cli_guide: Any, tmp_path: Path) -> None:
    target = tmp_path / "n.html"
    target.write_text("keep", encoding="utf-8")
    args = ["guide", "--rules", str(BASE), "kind=road", "--start", "2026-03-02", "-o", str(target)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {target} exists; pass --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "keep"
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
    assert _complete(target)


def test_a_failure_while_writing_leaves_no_partial_file(
    cli_guide: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename that publishes a notice fails once (disk full) and is interrupted once (Ctrl-C):
    neither leaves a file under its final name, nor a temporary file behind."""
    batch = _batch_file(tmp_path / "projects.csv", 5)
    out = tmp_path / "out"
    calls = {"n": 0}

    def failing(real: Any) -> Any:
        def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
            if calls["n"] == 4:
                raise KeyboardInterrupt
            return real(src, dst, *args, **kwargs)

        return rename

    real_replace, real_rename, real_link = os.replace, os.rename, os.link
    monkeypatch.setattr(os, "replace", failing(real_replace))
    monkeypatch.setattr(os, "rename", failing(real_rename))
    monkeypatch.setattr(os, "link", failing(real_link))  # without --force a new notice is published by a hard link
    with pytest.raises(KeyboardInterrupt):
        cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1)
    assert _entries(out) == ["p0000.html", "p0002.html"]  # p0001 failed, p0003 interrupted: nothing half-written
    assert all(_complete(out / name) for name in _entries(out))
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "rename", real_rename)
    monkeypatch.setattr(os, "link", real_link)
    report = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1)
    assert [r["id"] for r in report.skipped] == ["p0000", "p0002"]
    assert [r["id"] for r in report.written] == ["p0001", "p0003", "p0004"]


def test_row_ids_cannot_escape_the_output_directory(cli_guide: Any, tmp_path: Path) -> None:
    evil = [
        "../evil,road,,,x,y,2026-03-02",
        "/tmp/evil,road,,,x,y,2026-03-02",
        "a/b,road,,,x,y,2026-03-02",
        "..,road,,,x,y,2026-03-02",
        ",road,,,x,y,2026-03-02",
        "p0000,road,,,dup,y,2026-03-02",
    ]
    batch = _batch_file(tmp_path / "projects.csv", 1, extra=evil)
    out = tmp_path / "out"
    report = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1)
    assert [r["id"] for r in report.written] == ["p0000"]
    assert len(report.failed) == len(evil)
    assert _entries(out) == ["p0000.html"]
    assert _entries(tmp_path) == ["out", "projects.csv"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_force_replaces_a_symlink_instead_of_writing_through_it(cli_guide: Any, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0000.html").symlink_to(victim)
    batch = _batch_file(tmp_path / "projects.csv", 1)
    report = cli_guide.run_batch(batch, out, "html", rules=BASE, jobs=1, force=True)
    assert len(report.written) == 1
    assert victim.read_text(encoding="utf-8") == "do not touch"
    assert not (out / "p0000.html").is_symlink() and _complete(out / "p0000.html")


def _interrupt_batch(tmp_path: Path, jobs: int, rows: int) -> tuple[subprocess.CompletedProcess[bytes], int, Path]:
    """Start a batch in its own process group, wait for the first notices, press Ctrl-C."""
    batch = _batch_file(tmp_path / "projects.csv", rows)
    out = tmp_path / "out"
    env = {**os.environ, "FLOWMATCH_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [
        sys.executable,
        "-m",
        "flowmatch.cli",
        "guide",
        "--rules",
        str(BASE),
        "--batch",
        str(batch),
        "-o",
        str(out),
        "--jobs",
        str(jobs),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and sum(1 for p in out.glob("*.html")) >= 3:
            break
        time.sleep(0.005)
    done_at_signal = sum(1 for p in out.glob("*.html")) if out.is_dir() else 0
    try:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the batch (--jobs {jobs}) hung after Ctrl-C and had to be killed")
    finally:  # never leave a batch or its workers running after the test
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), done_at_signal, out


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups and signals")
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigint_mid_batch_leaves_only_complete_files_and_resumes(cli_guide: Any, tmp_path: Path, jobs: int) -> None:
    rows = 300
    proc, done_at_signal, out = _interrupt_batch(tmp_path, jobs, rows)
    assert proc.returncode != 0, "the batch finished before it could be interrupted; raise `rows`"
    assert proc.returncode == 130, proc.stderr.decode("utf-8", "replace")  # the shell's code for Ctrl-C
    assert b"Traceback" not in proc.stderr
    names = _entries(out)
    assert names and all(n.endswith(".html") and not n.startswith(".") for n in names), names  # no temp files
    assert all(_complete(out / n) for n in names)
    assert len(names) >= done_at_signal
    if jobs == 1:
        assert len(names) < rows, "Ctrl-C did not stop a single-process batch"
    report = cli_guide.run_batch(tmp_path / "projects.csv", out, "html", rules=BASE, jobs=1)
    assert len(report.skipped) == len(names)
    assert len(report.written) == rows - len(names) and not report.failed
    assert _entries(out) == [f"p{i:04d}.html" for i in range(rows)]


def test_ctrl_c_just_after_a_temporary_file_is_created(
    cli_guide: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race above, made deterministic: SIGINT is raised the moment the third file is created
    in the output directory (through ``os.open``, as ``tempfile.mkstemp`` does, or ``open``)."""
    batch = _batch_file(tmp_path / "projects.csv", 6)
    out = tmp_path / "out"
    created: list[str] = []

    def created_in_out(path: Any) -> None:
        if isinstance(path, (str, bytes, os.PathLike)) and Path(os.fsdecode(path)).parent == out:
            created.append(os.fsdecode(path))
            if len(created) == 3:
                signal.raise_signal(signal.SIGINT)  # as if Ctrl-C arrived during the system call

    real_os_open, real_open = os.open, builtins.open

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_os_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT:
            created_in_out(path)
        return fd

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        if any(c in mode for c in "wxa"):
            created_in_out(file)
        return fh

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    try:
        CliRunner().invoke(
            main,
            ["guide", "--rules", str(BASE), "--batch", str(batch), "-o", str(out), "--jobs", "1"],
            catch_exceptions=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        monkeypatch.setattr(os, "open", real_os_open)
        monkeypatch.setattr(builtins, "open", real_open)
        monkeypatch.setattr(io, "open", real_open)
    if len(created) < 3:
        pytest.skip("the batch creates its files some other way; move the injection point")
    names = _entries(out)
    assert all(not n.startswith(".") and _complete(out / n) for n in names), names
