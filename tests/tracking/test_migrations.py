"""The Alembic migrations: up, down, up again; the migration and the table classes agree."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from flowmatch.tracking import store as storage
from flowmatch.tracking.schema import HEAD_REVISION, Base

TABLES = {
    "cases",
    "tasks",
    "warnings",
    "events",
    "chain_head",
    "counters",
    "users",
    "api_tokens",
    "sessions",
    "rate_hits",
    "certificates",
}
CONSOLE_TABLES = {"users", "api_tokens", "sessions", "rate_hits"}


def _tables(eng: object) -> set[str]:
    with eng.connect() as conn:  # type: ignore[attr-defined]
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    eng = storage.engine(db_url, migrate=False)
    try:
        assert storage.current_revision(eng) is None
        storage.upgrade(eng)
        assert storage.current_revision(eng) == HEAD_REVISION
        assert _tables(eng) == TABLES
        with eng.connect() as conn:
            assert conn.execute(text("SELECT seq FROM chain_head WHERE id = 1")).scalar_one() == 0
            indexes = {i["name"] for i in inspect(conn).get_indexes("tasks")}
        assert {"ix_tasks_state_due", "ix_tasks_department_state"} <= indexes
        storage.downgrade(eng)
        assert _tables(eng) == set()
        assert storage.current_revision(eng) in (None, "")
        if eng.dialect.name == "postgresql":
            with eng.connect() as conn:
                assert (
                    conn.execute(
                        text("SELECT count(*) FROM pg_proc WHERE proname = 'flowmatch_events_append_only'")
                    ).scalar_one()
                    == 0
                )
        storage.upgrade(eng)
        assert _tables(eng) == TABLES
    finally:
        eng.dispose()


def test_the_certificate_migration_goes_down_to_0001_and_up_again(db_url: str) -> None:
    eng = storage.engine(db_url)
    try:
        assert storage.current_revision(eng) == HEAD_REVISION == "0003_console"
        with eng.connect() as conn:
            assert "ix_certificates_credit_code" in {i["name"] for i in inspect(conn).get_indexes("certificates")}
        storage.downgrade(eng, "0002_certificates")
        assert storage.current_revision(eng) == "0002_certificates"
        assert _tables(eng) == TABLES - CONSOLE_TABLES
        storage.downgrade(eng, "0001")
        assert storage.current_revision(eng) == "0001"
        assert _tables(eng) == TABLES - CONSOLE_TABLES - {"certificates"}
        storage.upgrade(eng)
        assert _tables(eng) == TABLES
    finally:
        eng.dispose()


def test_the_migrations_match_the_table_classes(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    eng = storage.engine(db_url)
    try:
        with eng.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        eng.dispose()


def test_opening_an_up_to_date_database_does_not_run_alembic(db_url: str) -> None:
    import sys

    storage.engine(db_url).dispose()
    before = {m for m in sys.modules if m.startswith("alembic")}
    eng = storage.engine(db_url)
    eng.dispose()
    assert storage.HEAD_REVISION == HEAD_REVISION
    assert {m for m in sys.modules if m.startswith("alembic")} == before


def test_urls(tmp_path: object) -> None:
    assert storage.normalise_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert storage.normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert storage.normalise_url("sqlite:///a.db") == "sqlite:///a.db"


def _open_together(url: str, openers: int = 4) -> list[BaseException]:
    """``openers`` threads open (create and migrate) ``url`` at the same moment; their errors."""
    import threading

    barrier = threading.Barrier(openers)
    errors: list[BaseException] = []

    def first_open() -> None:
        try:
            barrier.wait()
            storage.engine(url).dispose()
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_first_opens_migrate_once(db_url: str) -> None:
    errors = _open_together(db_url)
    assert not errors, errors
    eng = storage.engine(db_url, migrate=False)
    assert storage.current_revision(eng) == HEAD_REVISION and _tables(eng) == TABLES
    eng.dispose()


def test_many_openers_of_a_new_sqlite_file_at_once_never_see_database_is_locked(tmp_path: Path) -> None:
    """Switching a new file to WAL needs an exclusive lock, and SQLite refuses at once (no busy wait)
    while another opener holds one: the race that made the test above fail about once in 15 runs."""
    for round_ in range(25):
        errors = _open_together(f"sqlite:///{tmp_path}/race{round_}.sqlite")
        assert not errors, (round_, errors)
