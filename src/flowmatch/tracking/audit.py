"""The audit trail (网上留痕): append-only events, each carrying the hash of the one before.

``hash = sha256(prev_hash + canonical JSON of the event's fields, its number included)``.  Appends
take the one-row ``chain_head`` with ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so events are numbered 1, 2, 3 ... in commit order
with no gaps, however many servers write.  No code path updates or deletes an event, and the
database refuses it (triggers, see the first migration).

:func:`verify` walks the chain and names the first event that was edited (its hash no longer
matches its content), deleted (a gap in the numbers, or the chain head ahead of the last event)
or reordered (its ``prev_hash`` is not the hash of the event before it).

A chain alone cannot catch someone who rewrites it from some event onwards and recomputes every
hash after it.  An *anchor* closes that gap: ``flowmatch audit head`` prints ``SEQ:HASH`` of the
verified head, which the centre keeps outside the database (printed in the daily report, mailed
to the supervisor, appended to a file on another machine); :func:`verify` with ``anchors`` then
names the first anchored event whose hash is no longer the one recorded (``rewritten``), or that
is gone (``deleted``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..errors import InputError
from .schema import ChainHead, Event

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "actor", "role", "case_number", "step", "what", "from_state", "to_state", "note")


@dataclass(frozen=True)
class NewEvent:
    """An event to append; ``seq``, ``prev_hash`` and ``hash`` are filled in by :func:`append`."""

    at: dt.datetime
    actor: str
    role: str
    what: str
    case_number: str | None = None
    step: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    note: str = ""


def event_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """The hash of one event, from the previous event's hash and this event's fields."""
    body = [values[name] for name in _FIELDS]
    body[1] = _at_text(body[1])
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _at_text(at: dt.datetime) -> str:
    # microseconds dropped: not every database keeps them, and the hash must survive a round trip
    return at.replace(microsecond=0, tzinfo=None).isoformat()


def append(conn: Connection, events: Iterable[NewEvent]) -> list[int]:
    """Append events in order, in the caller's transaction; returns their numbers."""
    pending = list(events)
    if not pending:
        return []
    head = conn.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1).with_for_update()).one()
    seq, prev = int(head.seq), str(head.hash)
    rows = []
    for ev in pending:
        seq += 1
        values: dict[str, Any] = {
            "seq": seq,
            "at": ev.at.replace(microsecond=0, tzinfo=None),
            "actor": ev.actor,
            "role": ev.role,
            "case_number": ev.case_number,
            "step": ev.step,
            "what": ev.what,
            "from_state": ev.from_state,
            "to_state": ev.to_state,
            "note": ev.note,
        }
        digest = event_hash(prev, values)
        rows.append({**values, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(insert(Event), rows)
    conn.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=seq, hash=prev))
    return [r["seq"] for r in rows]


@dataclass(frozen=True)
class Finding:
    """The first bad event: its number, what is wrong, and the event as stored (if it still is)."""

    seq: int
    problem: str
    """``edited``, ``deleted``, ``reordered``, ``truncated`` or ``rewritten`` (an anchor no longer matches)."""
    message: str
    event: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "problem": self.problem, "message": self.message, "event": self.event}


@dataclass(frozen=True)
class AuditReport:
    events: int
    head_seq: int
    head_hash: str
    finding: Finding | None = None
    checked: list[str] = field(default_factory=lambda: ["hash", "prev_hash", "numbering", "chain_head"])
    anchors: int = 0
    """How many anchors (``SEQ:HASH`` kept outside the database) were checked."""

    @property
    def anchor(self) -> str:
        """The head as an anchor, ``SEQ:HASH``, to keep outside the database."""
        return f"{self.head_seq}:{self.head_hash}"

    @property
    def ok(self) -> bool:
        return self.finding is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "anchor": self.anchor,
            "anchors_checked": self.anchors,
            "finding": self.finding.to_dict() if self.finding else None,
        }


def _row_dict(row: Any) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in (*_FIELDS, "prev_hash", "hash")}
    data["at"] = _at_text(data["at"])
    return data


_ANCHOR = re.compile(r"([0-9]+):([0-9a-f]{64})")


def parse_anchor(text: str, *, where: str = "") -> tuple[int, str]:
    """``"SEQ:HASH"`` (what ``flowmatch audit head`` prints) as ``(seq, hash)``; refuses anything else."""
    found = _ANCHOR.fullmatch(text.strip())
    if found is None or int(found.group(1)) < 1:
        shown = text.strip()[:80]
        raise InputError(
            f"{where + ': ' if where else ''}not an anchor: {shown!r}; an anchor is SEQ:HASH as printed by "
            "`flowmatch audit head` -- an event number from 1 and its 64-character lowercase hex sha256"
        )
    return int(found.group(1)), found.group(2)


def read_anchors(lines: Iterable[str], *, source: str = "anchors") -> dict[int, str]:
    """Anchors one per line (blank lines and ``#`` comments skipped); a bad line names its number.
    Two different hashes for one event are refused: one of the two records is wrong."""
    anchors: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        seq, digest = parse_anchor(body, where=f"{source}:{number}")
        if anchors.get(seq, digest) != digest:
            raise InputError(f"{source}:{number}: event {seq} is anchored twice with different hashes")
        anchors[seq] = digest
    return anchors


def verify(conn: Connection, *, anchors: Mapping[int, str] | None = None, batch: int = 10_000) -> AuditReport:
    """Walk the whole chain in order; the first problem found ends the walk.  ``anchors`` maps event
    numbers to the hashes recorded outside the database (see :func:`read_anchors`)."""
    anchors = dict(anchors or {})
    head = conn.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)).one_or_none()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    expected_seq = 1
    prev = GENESIS
    count = 0
    last_seq = 0
    table = Event.__table__
    result = conn.execution_options(yield_per=batch).execute(select(*table.c).order_by(table.c.seq))
    for row in result:
        count += 1
        data = _row_dict(row)
        if row.seq != expected_seq:
            missing = expected_seq if row.seq > expected_seq else row.seq
            return _report(
                count,
                head_seq,
                head_hash,
                Finding(
                    missing,
                    "deleted",
                    f"event {missing} is missing: the chain jumps from event {expected_seq - 1} to event {row.seq}",
                    data,
                ),
            )
        if row.prev_hash != prev:
            return _report(
                count,
                head_seq,
                head_hash,
                Finding(
                    row.seq,
                    "reordered",
                    f"event {row.seq} ({row.what}, {row.case_number or '-'}) does not follow event {row.seq - 1}: "
                    "its previous-hash is not the hash of the event before it (this event was moved or replaced, "
                    f"or event {row.seq - 1} was rewritten)",
                    data,
                ),
            )
        if event_hash(prev, {k: getattr(row, k) for k in _FIELDS}) != row.hash:
            return _report(
                count,
                head_seq,
                head_hash,
                Finding(
                    row.seq,
                    "edited",
                    f"event {row.seq} ({row.what}, {row.case_number or '-'}) was edited: its content no longer "
                    "matches its hash",
                    data,
                ),
            )
        anchored = anchors.get(row.seq)
        if anchored is not None and anchored != row.hash:
            return _report(
                count,
                head_seq,
                head_hash,
                Finding(
                    row.seq,
                    "rewritten",
                    f"event {row.seq} ({row.what}, {row.case_number or '-'}) no longer has the hash anchored outside "
                    f"the database ({anchored[:16]}..., now {row.hash[:16]}...): the chain was rewritten up to "
                    f"event {row.seq} with recomputed hashes",
                    data,
                ),
                len(anchors),
            )
        prev = row.hash
        last_seq = row.seq
        expected_seq += 1
    beyond = sorted(seq for seq in anchors if seq > last_seq)
    if beyond:
        return _report(
            count,
            head_seq,
            head_hash,
            Finding(
                last_seq + 1,
                "deleted",
                f"event {last_seq + 1} is missing: an anchor outside the database records event {beyond[-1]}, "
                f"the log ends at event {last_seq}",
            ),
            len(anchors),
        )
    if last_seq != head_seq or prev != head_hash:
        if last_seq < head_seq:
            return _report(
                count,
                head_seq,
                head_hash,
                Finding(
                    last_seq + 1,
                    "deleted",
                    f"event {last_seq + 1} is missing: the chain head says there are {head_seq} events, "
                    f"the log ends at event {last_seq}",
                ),
            )
        return _report(
            count,
            head_seq,
            head_hash,
            Finding(
                last_seq, "truncated", f"the chain head (event {head_seq}) does not match the last event ({last_seq})"
            ),
        )
    return _report(count, head_seq, head_hash, None, len(anchors))


def _report(count: int, head_seq: int, head_hash: str, finding: Finding | None, anchors: int = 0) -> AuditReport:
    checked = ["hash", "prev_hash", "numbering", "chain_head"] + (["anchors"] if anchors else [])
    return AuditReport(count, head_seq, head_hash, finding, checked, anchors)
