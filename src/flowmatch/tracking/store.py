"""Where cases live: an engine from a URL, the default per-user SQLite file, migrations.

``engine(url)`` takes any SQLAlchemy URL; the two tested are SQLite (``sqlite:///path``, the
default) and PostgreSQL (``postgresql+psycopg://user@host/db``).  A bare path is a SQLite file.
The default is ``$FLOWMATCH_DB`` if set, else ``flowmatch/cases.sqlite`` under
``$XDG_DATA_HOME`` (``~/.local/share``).

SQLite transactions begin with ``BEGIN IMMEDIATE`` (a writer takes the write lock at once, so two
processes never both read the chain head and then both append), with WAL and foreign keys on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from ..errors import InputError, TrackingError
from .schema import HEAD_REVISION

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x666D7472  # "fmtr": the PostgreSQL advisory lock held while migrating


def default_url() -> str:
    """``$FLOWMATCH_DB`` or the per-user SQLite file."""
    env = os.environ.get("FLOWMATCH_DB")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'flowmatch' / 'cases.sqlite'}"


def normalise_url(url: str | None) -> str:
    """A URL for SQLAlchemy: ``None`` is the default, a bare path is a SQLite file."""
    if url is None:
        url = default_url()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def engine(url: str | None = None, *, migrate: bool = True, **options: Any) -> Engine:
    """An engine for ``url`` with the tracking schema brought up to date (unless ``migrate=False``)."""
    target = normalise_url(url)
    try:
        parsed = make_url(target)
    except ArgumentError:
        raise InputError(
            f"database URL {url!r} is not a URL; allowed: sqlite:///PATH, postgresql+psycopg://..."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {}).setdefault("timeout", 60)
    try:
        eng = create_engine(parsed, **options)
    except (ArgumentError, ImportError) as exc:
        raise InputError(f"cannot use database URL {parsed.render_as_string()!r}: {exc}") from None
    if eng.dialect.name == "sqlite":
        _sqlite_setup(eng)
    if migrate:
        try:
            upgrade(eng)
        except (OperationalError, ProgrammingError) as exc:
            raise TrackingError(f"cannot open the case database {parsed.render_as_string()}: {exc.orig}") from exc
    return eng


def _sqlite_setup(eng: Engine) -> None:
    @event.listens_for(eng, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        if eng.url.database not in (None, "", ":memory:"):
            _wal(cursor)
        cursor.close()

    @event.listens_for(eng, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_WAL_WAIT = 60.0  # seconds, as long as busy_timeout


def _wal(cursor: Any) -> None:
    """Put the database file in WAL mode (it stays so).  Switching needs an exclusive lock and SQLite
    answers "database is locked" at once, without its busy handler, when another connection holds a
    lock -- as happens when several processes open a new database together -- so retry for as long
    as busy_timeout would wait."""
    import sqlite3
    import time

    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + _WAL_WAIT
    delay = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+; 3.10 retries any error
            if (code is not None and code not in (_SQLITE_BUSY, _SQLITE_LOCKED)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def current_revision(eng: Engine) -> str | None:
    """The Alembic revision the database is at (``None`` when it has no tracking tables)."""
    with eng.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found is not None else None


def _config(conn: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(eng: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (fast no-op when the database is already at head)."""
    if revision == "head" and current_revision(eng) == HEAD_REVISION:
        return
    from alembic import command

    with eng.begin() as conn:
        # two processes opening a fresh database at once: the second waits, then finds it at head
        # (SQLite's BEGIN IMMEDIATE already serialises them)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(_config(conn), revision)


def downgrade(eng: Engine, revision: str = "base") -> None:
    """Run the migrations down to ``revision`` (``base`` drops every tracking table)."""
    from alembic import command

    with eng.begin() as conn:
        command.downgrade(_config(conn), revision)
