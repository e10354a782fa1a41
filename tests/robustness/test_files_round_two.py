"""Issue 20, cases 1, 2, 8 and 10: every output goes through one atomic writer
(:func:`flowmatch.fileio.write_atomic`) and every input file through one bounded reader
(:func:`flowmatch.fileio.read_limited`).

Outputs: never overwritten without ``--force``, never written through a planted symlink, devices and
FIFOs written through instead of renamed over, write failures a clear message (no traceback), long
names writable.  Inputs: the type and size are checked before opening, so a FIFO, a symlink to
``/dev/zero`` or a sparse huge file is refused at once.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowmatch import fileio
from flowmatch.cli import main
from flowmatch.errors import InputError

from ._support import BASE, copy_base

POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs and symlinks")
GUIDE = ["guide", "--rules", str(BASE), "kind=road", "--start", "2026-03-02"]


def _invoke(*args: str, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text("kind: road\n", encoding="utf-8")
    return path


def _complete(path: Path) -> bool:
    return path.read_text(encoding="utf-8").rstrip().endswith("</html>")


# --- 1. ask --notice: no overwrite without --force, no planted symlink followed --------------------------
@POSIX
def test_ask_notice_does_not_follow_a_planted_temporary_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch", encoding="utf-8")
    (tmp_path / ".x.html.tmp").symlink_to(victim)  # the fixed temporary name the old code used
    target = tmp_path / "x.html"
    result = _invoke("ask", "--rules", str(BASE), "--answers", str(_answers(tmp_path)), "--notice", str(target))
    assert result.exit_code == 0, result.output
    assert victim.read_text(encoding="utf-8") == "do not touch"
    assert _complete(target) and not target.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.html.tmp", "answers.yaml", "victim.txt", "x.html"]


def test_ask_notice_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "x.html"
    target.write_text("keep", encoding="utf-8")
    args = ["ask", "--rules", str(BASE), "--answers", str(_answers(tmp_path)), "--notice", str(target)]
    refused = _invoke(*args)
    assert refused.exit_code == 2
    assert refused.stderr == f"error: {target} exists; pass --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "keep"
    assert _invoke(*args, "--force").exit_code == 0 and _complete(target)


def test_the_writer_never_reuses_or_follows_a_temporary_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Temporary names are random and created exclusively: a name already taken (by a file or a
    symlink) is skipped, never opened."""
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch", encoding="utf-8")
    names = iter([".n.html.aaaa.part", ".n.html.bbbb.part"])
    monkeypatch.setattr(fileio, "_temporary_name", lambda name: next(names))
    (tmp_path / ".n.html.aaaa.part").symlink_to(victim)
    fileio.write_atomic(tmp_path / "n.html", "new")
    assert (tmp_path / "n.html").read_text(encoding="utf-8") == "new"
    assert victim.read_text(encoding="utf-8") == "do not touch"
    assert not (tmp_path / ".n.html.bbbb.part").exists()


def test_every_writer_uses_the_one_atomic_writer() -> None:
    """No module of the package writes files on its own (the three copies are gone)."""
    src = Path(fileio.__file__).parent
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "fileio.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (".write_text(", ".write_bytes(", "os.replace(", ".replace(path)", '"wb")', '"xb")'):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


# --- 2. devices, FIFOs and /dev/stdout are written through, never replaced ---------------------------------
def _read_fifo(fifo: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(fifo, "rb") as fh:
            into.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


@POSIX
@pytest.mark.parametrize("through_symlink", [False, True])
def test_guide_writes_through_a_fifo_with_force(tmp_path: Path, through_symlink: bool) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if through_symlink:  # how /dev/stdout looks: a symlink to the stream
        target = tmp_path / "stdout"
        target.symlink_to(fifo)
    got: list[bytes] = []
    thread = _read_fifo(fifo, got)
    result = _invoke(*GUIDE, "--format", "html", "-o", str(target), "--force")
    thread.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert target.is_symlink() == through_symlink
    assert got and got[0].decode("utf-8").rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["pipe", *(["stdout"] if through_symlink else [])])


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_guide_writes_through_dev_null_and_dev_stdout() -> None:
    before = os.stat("/dev/null")
    result = _invoke(*GUIDE, "--format", "html", "-o", "/dev/null", "--force")
    assert result.exit_code == 0, result.output
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    proc = subprocess.run(
        [sys.executable, "-m", "flowmatch.cli", *GUIDE, "--format", "md", "-o", "/dev/stdout", "--force"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "建设项目审批一次性告知书" in proc.stdout.decode("utf-8")
    assert os.path.islink("/dev/stdout") or not os.path.exists("/dev/stdout") or not os.path.isfile("/dev/stdout")


@POSIX
def test_a_batch_never_writes_into_a_planted_fifo(tmp_path: Path) -> None:
    batch = tmp_path / "b.csv"
    batch.write_text("id,kind\np1,road\np2,road\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "p1.html")
    proc = subprocess.run(
        [
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
            "--force",
            "--jobs",
            "1",
        ],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "FLOWMATCH_CACHE_DIR": str(tmp_path / "c")},
    )
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 1, err
    assert "not a regular file" in err and "Traceback" not in err
    assert stat.S_ISFIFO(os.lstat(out / "p1.html").st_mode) and _complete(out / "p2.html")


# --- 10. write failures: clear messages, no traceback; long names fit --------------------------------------
def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    result = _invoke(*GUIDE, "-o", str(blocker / "n.html"))
    assert result.exit_code in (1, 2)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert str(blocker) in result.stderr


def test_a_full_disk_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def full(fd: int, data: Any) -> int:
        if fd > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    target = tmp_path / "n.html"
    result = _invoke(*GUIDE, "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot write {target}: no space left on the device\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("length", [231, 250, 255])
def test_names_up_to_255_bytes_can_be_written(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("n" * (length - len(".html")) + ".html")
    result = _invoke(*GUIDE, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert _complete(target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_name_over_255_bytes_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / ("长" * 90 + ".html")  # 275 bytes in UTF-8
    result = _invoke(*GUIDE, "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr.endswith("the file name is too long (at most 255 bytes per name)\n")
    assert "Traceback" not in result.output


def test_a_batch_into_an_uncreatable_directory_is_a_clear_error(tmp_path: Path) -> None:
    batch = tmp_path / "b.csv"
    batch.write_text("id,kind\np1,road\n", encoding="utf-8")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    result = _invoke("guide", "--rules", str(BASE), "--batch", str(batch), "-o", str(blocker / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot create the output directory {blocker / 'out'}: ")


# --- 8. input files: type and size before opening -------------------------------------------------------------
def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


@POSIX
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "sparse"])
def test_rule_files_are_checked_before_they_are_opened(tmp_path: Path, kind: str) -> None:
    root = copy_base(tmp_path)
    flow = root / "flowcharts" / "F02.yaml"
    flow.unlink()
    if kind == "fifo":
        os.mkfifo(flow)
        expected = "cannot read file: a FIFO (named pipe), not a regular file"
    elif kind == "dev_zero":
        flow.symlink_to("/dev/zero")
        expected = "cannot read file: a character device, not a regular file"
    else:
        _sparse(flow, 3 * 1024**3)
        expected = f"file is {3 * 1024**3} bytes; the limit is 2000000"
    proc = subprocess.run(
        [sys.executable, "-m", "flowmatch.cli", "check", "--rules", str(root)],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "FLOWMATCH_CACHE_DIR": str(tmp_path / "c")},
    )
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2, err
    assert f"base/flowcharts/F02.yaml:1:1: {expected}" in err.replace(str(tmp_path) + "/", "")
    assert "Traceback" not in err


@POSIX
@pytest.mark.parametrize("option", ["--calendar", "--on-file-yaml", "--batch"])
def test_option_files_are_checked_before_they_are_opened(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / ("in.csv" if option == "--batch" else "in.yaml")
    os.mkfifo(fifo)
    args = ["guide", "--rules", str(BASE), option, str(fifo)]
    args += ["-o", str(tmp_path / "out")] if option == "--batch" else ["kind=road", "--start", "2026-03-02"]
    proc = subprocess.run(
        [sys.executable, "-m", "flowmatch.cli", *args],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "FLOWMATCH_CACHE_DIR": str(tmp_path / "c")},
    )
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2, err
    assert "a FIFO (named pipe), not a regular file" in err and "Traceback" not in err


@POSIX
def test_answers_files_are_checked_before_they_are_opened(tmp_path: Path) -> None:
    link = tmp_path / "answers.yaml"
    link.symlink_to("/dev/zero")
    result = _invoke("ask", "--rules", str(BASE), "--answers", str(link))
    assert result.exit_code == 2
    assert result.stderr == (f"error: cannot read answers file '{link}': a character device, not a regular file\n")
    sparse = _sparse(tmp_path / "big.yaml", 3 * 1024**3)
    result = _invoke("ask", "--rules", str(BASE), "--answers", str(sparse))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: cannot read answers file '{sparse}': file is {3 * 1024**3} bytes; the limit is 1000000\n"
    )


def test_the_reader_reads_at_most_limit_plus_one_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grows after the size check is still cut off at limit + 1 bytes."""
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a" * 10)
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: real_fstat(fd))
    assert fileio.read_limited(path, 10) == b"a" * 10
    with open(path, "ab") as fh:
        fh.write(b"b" * 100)
    with pytest.raises(InputError, match=r"file is 110 bytes; the limit is 10$"):
        fileio.read_limited(path, 10)
    asked: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: (asked.append(n), real_read(fd, n))[1])
    assert fileio.read_limited(path, 1000) == b"a" * 10 + b"b" * 100
    assert asked[0] == 1001 and sum(asked) - asked[-1] <= 1001  # never asks past limit + 1
