"""The audit trail: the database refuses edits; an attacker who drops the trigger is caught by verify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from flowmatch.cli import main
from flowmatch.tracking import CaseStore
from flowmatch.tracking.audit import event_hash
from flowmatch.tracking.schema import Event

from .conftest import CREDIT, F10

WALK = ("accept", "handle", "review", "approve", "complete")


def some_history(store: CaseStore) -> int:
    """A case with a handful of events; returns the number of events."""
    number = store.open_case(F10, applicant="x", credit_code=CREDIT, at="2026-03-02T09:00", by="w").number
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-03-03T10:00")
    store.sweep(as_of=dt.date(2026, 3, 9))
    report = store.verify()
    assert report.ok and report.events == report.head_seq
    return report.events


def drop_triggers(conn: Connection) -> None:
    """What an attacker with database access does first."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("DROP TRIGGER events_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER events_no_update ON events"))


def tamper(store: CaseStore, *statements: str) -> None:
    with store.engine.begin() as conn:
        drop_triggers(conn)
        for sql in statements:
            conn.execute(text(sql))


def verify_cli(store: CaseStore) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["audit", "verify", "--db", url], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET note = 'x' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 2",
        "UPDATE events SET seq = 999 WHERE seq = 2",
    ],
)
def test_the_database_refuses_update_and_delete(store: CaseStore, sql: str) -> None:
    some_history(store)
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text(sql))
    assert store.verify().ok


def test_postgres_refuses_truncate(store: CaseStore) -> None:
    some_history(store)
    if store.engine.dialect.name != "postgresql":
        with pytest.raises(DBAPIError), store.engine.begin() as conn:  # SQLite has no TRUNCATE; DELETE is refused
            conn.execute(text("DELETE FROM events"))
        return
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))
    assert store.verify().ok


Case = tuple[Callable[[int], tuple[str, ...]], int | Callable[[int], int], str, str]
ATTACKS: dict[str, Case] = {
    "edited": (
        lambda n: ("UPDATE events SET note = '已按时办结' WHERE seq = 3",),
        3,
        "edited",
        "event 3 (accept, JS2026-000001) was edited: its content no longer matches its hash",
    ),
    "edited actor": (lambda n: ("UPDATE events SET actor = 'someone else' WHERE seq = 5",), 5, "edited", "event 5 "),
    "deleted": (
        lambda n: ("DELETE FROM events WHERE seq = 4",),
        4,
        "deleted",
        "event 4 is missing: the chain jumps from event 3 to event 5",
    ),
    "reordered": (
        lambda n: (
            "UPDATE events SET seq = -1 WHERE seq = 3",
            "UPDATE events SET seq = 3 WHERE seq = 4",
            "UPDATE events SET seq = 4 WHERE seq = -1",
        ),
        3,
        "reordered",
        "event 3 (handle, JS2026-000001) does not follow event 2",
    ),
    "renumbered after a delete": (
        lambda n: (
            "DELETE FROM events WHERE seq = 2",
            *(f"UPDATE events SET seq = {k - 1} WHERE seq = {k}" for k in range(3, n + 1)),
        ),
        2,
        "reordered",
        "event 2 ",
    ),
    "last deleted": (lambda n: (f"DELETE FROM events WHERE seq = {n}",), lambda n: n, "deleted", "is missing"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_tampering_behind_the_librarys_back_is_named(store: CaseStore, attack: str) -> None:
    n = some_history(store)
    statements, seq, problem, message = ATTACKS[attack]
    tamper(store, *statements(n))
    report = store.verify()
    expected_seq = seq(n) if callable(seq) else seq
    assert report.finding is not None
    assert (report.finding.seq, report.finding.problem) == (expected_seq, problem)
    assert message in report.finding.message
    code, out = verify_cli(store)
    assert code == 1
    assert out.startswith("TAMPERED: ") and f"event {expected_seq}" in out


def test_an_edit_with_a_recomputed_hash_is_caught_at_the_next_event(store: CaseStore) -> None:
    some_history(store)
    with store.engine.begin() as conn:
        drop_triggers(conn)
        row = conn.execute(select(*Event.__table__.c).where(Event.seq == 3)).one()
        values = {**row._mapping, "note": "改过"}
        forged = event_hash(row.prev_hash, values)
        conn.execute(text("UPDATE events SET note = '改过', hash = :h WHERE seq = 3"), {"h": forged})
    report = store.verify()
    assert report.finding is not None and (report.finding.seq, report.finding.problem) == (4, "reordered")
    assert "or event 3 was rewritten" in report.finding.message


def test_verify_json(store: CaseStore) -> None:
    n = some_history(store)
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["audit", "verify", "--db", url, "--json"])
    assert result.exit_code == 0
    assert f'"events": {n}' in result.output and '"finding": null' in result.output


# --- anchors: the chain head kept outside the database --------------------------------------------
def rewrite_from(store: CaseStore, first: int) -> None:
    """The attack a bare chain cannot see: edit event ``first`` and recompute every hash after it,
    the chain head included."""
    with store.engine.begin() as conn:
        drop_triggers(conn)
        rows = conn.execute(select(*Event.__table__.c).where(Event.seq >= first).order_by(Event.seq)).all()
        prev = rows[0].prev_hash
        for row in rows:
            values = {**row._mapping, "note": "改过" if row.seq == first else row.note}
            digest = event_hash(prev, values)
            conn.execute(
                text("UPDATE events SET note = :n, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"n": values["note"], "p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        conn.execute(text("UPDATE chain_head SET hash = :h WHERE id = 1"), {"h": prev})


def audit_cli(store: CaseStore, *args: str) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["audit", *args, "--db", url])
    return result.exit_code, result.output


def test_a_full_rewrite_passes_the_chain_but_not_an_anchor(store: CaseStore, tmp_path: Path) -> None:
    n = some_history(store)
    code, anchor = audit_cli(store, "head")
    assert code == 0 and anchor.strip() == store.verify().anchor and anchor.startswith(f"{n}:")
    anchors = tmp_path / "anchors"
    anchors.write_text(f"# daily anchors of the centre\n{anchor.strip()}\n\n", encoding="utf-8")
    assert audit_cli(store, "verify", "--anchors", str(anchors)) == (
        0,
        f"OK: {n} events, chain intact, 1 anchors match (head {n} {anchor[len(f'{n}:') :][:16]})\n",
    )
    rewrite_from(store, 2)
    assert store.verify().ok  # the chain alone cannot tell
    report = store.verify(anchors={n: anchor.strip().split(":")[1]})
    assert report.finding is not None and (report.finding.seq, report.finding.problem) == (n, "rewritten")
    code, out = audit_cli(store, "verify", "--anchors", str(anchors))
    assert code == 1 and out.startswith(f"TAMPERED: event {n} ") and "rewritten" in out
    code, out = audit_cli(store, "verify", "--anchor", anchor.strip(), "--json")
    assert code == 1 and '"problem": "rewritten"' in out


def test_an_anchor_past_the_end_names_the_deleted_events(store: CaseStore) -> None:
    n = some_history(store)
    anchor = store.verify().anchor
    with store.engine.begin() as conn:
        drop_triggers(conn)
        last = conn.execute(select(Event.prev_hash).where(Event.seq == n)).scalar_one()
        conn.execute(text("DELETE FROM events WHERE seq = :s"), {"s": n})
        conn.execute(text("UPDATE chain_head SET seq = :s, hash = :h WHERE id = 1"), {"s": n - 1, "h": last})
    assert store.verify().ok  # the last event dropped and the head moved back: invisible to the chain
    report = store.verify(anchors=dict([(n, anchor.split(":")[1])]))
    assert report.finding is not None and (report.finding.seq, report.finding.problem) == (n, "deleted")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("12", "not an anchor"),
        ("0:" + "a" * 64, "not an anchor"),
        ("3:" + "A" * 64, "not an anchor"),
        ("3:" + "a" * 63, "not an anchor"),
        ("3:" + "a" * 64 + " extra", "not an anchor"),
    ],
)
def test_bad_anchors_are_refused_with_their_line(store: CaseStore, tmp_path: Path, line: str, why: str) -> None:
    some_history(store)
    anchors = tmp_path / "anchors"
    anchors.write_text(f"# ok\n{store.verify().anchor}\n{line}\n", encoding="utf-8")
    code, out = audit_cli(store, "verify", "--anchors", str(anchors))
    assert code == 2 and f"{anchors}:3: {why}" in out and "SEQ:HASH" in out
    code, out = audit_cli(store, "verify", "--anchor", line)
    assert code == 2 and "--anchor: not an anchor" in out


def test_one_event_anchored_with_two_hashes_is_refused(store: CaseStore) -> None:
    some_history(store)
    code, out = audit_cli(store, "verify", "--anchor", "2:" + "a" * 64, "--anchor", "2:" + "b" * 64)
    assert code == 2 and "event 2 is anchored twice with different hashes" in out


def test_head_refuses_to_anchor_a_tampered_chain(store: CaseStore) -> None:
    some_history(store)
    tamper(store, "UPDATE events SET note = 'x' WHERE seq = 2")
    code, out = audit_cli(store, "head")
    assert code == 1 and "TAMPERED: event 2" in out
