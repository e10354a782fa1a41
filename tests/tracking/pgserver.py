"""A real PostgreSQL server for the tracking tests and benchmarks (no mocks).

``FLOWMATCH_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@/postgres?host=/run/pg``) names a
server to use; otherwise :func:`start` runs ``initdb`` + ``pg_ctl`` on a throwaway directory with
a unix socket in it (no TCP port), as the ``postgres`` user when running as root (initdb refuses
root), and :func:`stop` removes it.  When no server can be had, :func:`start` returns the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ENV = "FLOWMATCH_TEST_PG_URL"


@dataclass
class Server:
    url: str
    """Admin URL (a database we may CREATE DATABASE from)."""
    directory: Path | None = None
    bindir: Path | None = None
    user: str | None = None

    def stop(self) -> None:
        if self.directory is None or self.bindir is None:
            return
        _run(
            self.user,
            [str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"],
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    return None


def _run(user: str | None, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    if user is not None:
        runner = shutil.which("runuser")
        argv = (
            [runner, "-u", user, "--", *argv]
            if runner
            else ["su", user, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in argv)]
        )
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)


def start() -> Server | str:
    """A running server, or the reason there is none."""
    url = os.environ.get(ENV)
    if url:
        return Server(url)
    bindir = _bindir()
    if bindir is None:
        return f"no PostgreSQL server binaries (initdb) found; install Debian's postgresql or set {ENV}"
    user: str | None = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return f"running as root and there is no 'postgres' user to run initdb as; set {ENV}"
        user = "postgres"
    directory = Path(tempfile.mkdtemp(prefix="flowmatch-pg-"))
    try:
        directory.chmod(0o755)
        if user is not None:
            shutil.chown(directory, user)
        data = directory / "data"
        _run(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        )
        options = f"-c listen_addresses='' -k {directory} -c fsync=off -c synchronous_commit=off -c max_connections=200"
        _run(
            user,
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(directory / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        shutil.rmtree(directory, ignore_errors=True)
        return f"could not start a throwaway PostgreSQL with {bindir}: {exc} {detail}".strip()
    return Server(f"postgresql+psycopg://postgres@/postgres?host={directory}", directory, bindir, user)


def create_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "flowmatch_t_" + uuid.uuid4().hex[:12]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
