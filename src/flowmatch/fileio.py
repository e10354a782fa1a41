"""Reading input files and writing output files safely: the one place flowmatch touches the disk.

:func:`read_limited` reads an input file (rule files, ``--calendar``, ``--on-file-yaml``,
answers, batch files).  It checks the file's type and size *before* opening it — only regular
files, at most ``limit`` bytes — opens it without blocking (a FIFO swapped in cannot hang the
process), checks the opened file again and reads at most ``limit + 1`` bytes, once.  A sparse
3 GB file, a symlink to ``/dev/zero`` or a FIFO is refused at once with a clear message.

:func:`write_atomic` writes every output file (``guide -o``, batch notices, ``ask --notice``,
the rule-set cache, the golden notices):

* a regular file (or a new name) is written to an exclusively created temporary file with a
  random name in the target directory (``O_EXCL | O_NOFOLLOW``: a planted file or symlink is never
  written through), flushed with ``fsync`` and renamed into place, so the target holds either the
  old or the new content, never half of one;
* an existing file is replaced only with ``force=True`` (without it the rename is a hard link,
  which fails if the name appeared meanwhile — no check-then-write race);
* with ``force=True`` a symlink is replaced by the new file, never written through;
* a character device, FIFO or socket (``/dev/null``, a named pipe) and ``/dev/stdout``,
  ``/dev/stderr``, ``/dev/fd/N`` are written *through*: they are never renamed over;
* every failure (no such directory, permission denied, disk full, a name that is too long) is an
  :class:`OutputError` saying what happened, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from pathlib import Path

from .errors import InputError, OutputError, OutputExistsError, ReadError

__all__ = [
    "NAME_MAX",
    "OutputError",
    "OutputExistsError",
    "ReadError",
    "check_target",
    "read_limited",
    "write_atomic",
    "writes_through",
]

NAME_MAX = 255  # bytes in one file name on every file system flowmatch targets
_TOKEN_HEX = 16  # random part of a temporary name
_CHUNK = 1 << 20
_STREAMS = re.compile(r"^/(dev/(stdout|stderr|fd/\d+)|proc/self/fd/\d+)$")


# --- reading ---------------------------------------------------------------------------------------------
def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(size: int, limit: int) -> str:
    return f"file is {size} bytes; the limit is {limit}"


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else or anything over ``limit`` bytes.

    Raises :class:`ReadError` (an :class:`~flowmatch.errors.InputError`) with the reason."""
    try:
        before = os.stat(path)  # follows symlinks: a link to /dev/zero is a character device
    except OSError as exc:
        raise ReadError(path, f"cannot read file: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise ReadError(path, f"cannot read file: {exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise ReadError(path, f"cannot read file: {_kind(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise ReadError(path, _too_large(before.st_size, limit))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadError(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        opened = os.fstat(fd)  # the file may have been swapped between stat and open
        if not stat.S_ISREG(opened.st_mode):
            raise ReadError(path, f"cannot read file: {_kind(opened.st_mode)}, not a regular file")
        if opened.st_size > limit:
            raise ReadError(path, _too_large(opened.st_size, limit))
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ReadError(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while we read
        raise ReadError(path, f"file is more than {limit} bytes; the limit is {limit}")
    return data


# --- writing ---------------------------------------------------------------------------------------------
def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno == errno.ENAMETOOLONG:
        return f"the file name is too long (at most {NAME_MAX} bytes per name)"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "the directory does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    return exc.strerror or str(exc)


def _temporary_name(name: str) -> str:
    """``.NAME.RANDOM.part``, with NAME shortened so that the whole fits in :data:`NAME_MAX` bytes."""
    token = secrets.token_hex(_TOKEN_HEX // 2)
    room = NAME_MAX - len(f"..{token}.part")
    stem = os.fsencode(name)[:room].decode("utf-8", "ignore") if len(os.fsencode(name)) > room else name
    return f".{stem}.{token}.part"


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_through(path: Path, payload: bytes) -> None:
    """A device, FIFO or standard stream: write into it, never rename over it."""
    match = re.search(r"(\d+)$", str(path))
    named = {"/dev/stdout": 1, "/dev/stderr": 2}
    fd_number = named.get(str(path))
    if fd_number is None and match and _STREAMS.match(str(path)):
        fd_number = int(match.group(1))
    if fd_number is not None:
        _write_all(fd_number, payload)
        return
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        _write_all(fd, payload)
    finally:
        os.close(fd)


def writes_through(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`write_atomic` writes into ``path`` instead of replacing it (a device, FIFO,
    socket or standard stream)."""
    if _STREAMS.match(str(path)):
        return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_target(path: str | os.PathLike[str], *, force: bool = False) -> bool:
    """Whether ``path`` can be written by :func:`write_atomic` with ``force``; True when it is
    written through (a device, FIFO or stream).  Lets a command fail before it does any work.

    Raises :class:`OutputExistsError` or :class:`OutputError` as :func:`write_atomic` would."""
    target = Path(path)
    try:
        if writes_through(target):
            return True
        if len(os.fsencode(target.name)) > NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, "name too long")
        try:
            existing = os.lstat(target)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            if stat.S_ISDIR(existing.st_mode):
                raise InputError(f"{target} is a directory; give a file name")
            if not force:
                raise OutputExistsError(target)
        elif not os.path.isdir(target.parent):
            raise InputError(f"directory {target.parent} does not exist")
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_explain(exc)}") from None
    return False


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, force: bool = False, mode: int = 0o666, devices: bool = True
) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; see the module docstring.

    Raises :class:`OutputExistsError` when ``path`` exists and ``force`` is false,
    :class:`OutputError` for every other failure.  ``mode`` is masked by the umask as usual.
    ``devices=False`` (batches) refuses a device, FIFO or stream instead of writing through it."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not devices and writes_through(target):
        raise OutputError(f"cannot write {target}: not a regular file (a device, FIFO or stream)")
    if check_target(target, force=force):
        try:
            _write_through(target, payload)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {_explain(exc)}") from None
        return
    _replace(target, payload, force=force, mode=mode)


def _replace(target: Path, payload: bytes, *, force: bool, mode: int) -> None:
    directory = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    tmp = directory / _temporary_name(target.name)  # named before it exists: any interruption finds it below
    fd = -1
    try:
        for _attempt in range(10):
            try:
                fd = os.open(tmp, flags, mode)
                break
            except FileExistsError:  # a planted or colliding name: pick another, never reuse it
                tmp = directory / _temporary_name(target.name)
        else:
            raise OutputError(f"cannot write {target}: could not create a temporary file in {directory}")
        _write_all(fd, payload)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if force:
            os.replace(tmp, target)
        else:
            _link_new(tmp, target)
        _sync_directory(directory)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_explain(exc)}") from None
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _link_new(tmp: Path, target: Path) -> None:
    """Put ``tmp`` at ``target`` only if ``target`` does not exist (a hard link fails if it does)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExistsError(target) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        # a file system without hard links: the best we can do is check, then rename
        if os.path.lexists(target):
            raise OutputExistsError(target) from None
        os.replace(tmp, target)


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory if str(directory) else ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
