"""A task's state machine as data: one transition table, checked in one place.

::

    waiting ─(prerequisites done)→ ready ─accept→ accepted ─handle→ handling ─review→ reviewing
    reviewing ─approve→ approved ─complete→ done          (受理 承办 审核 批准 办结)
    reviewing ─reject→  rejected ─complete→ done          (不予许可, then 办结)
    accepted | handling | reviewing ─suspend→ suspended ─resume→ the state it left   (行政许可法 §45)

``waiting → ready`` is not an event anyone records: the engine fires it (``release``) when the
last prerequisite of a task is done, for every such task at the same moment (parallel start).
Likewise ``withdraw``: when a task ends 不予许可 and the case closes, every task not done is
cancelled, so it leaves the department queues and is never warned.
The clock of a task starts when it becomes ready; suspended working days do not count.
"""

from __future__ import annotations

from typing import Final

from ..errors import InputError, TransitionError

STATES: Final = (
    "waiting",
    "ready",
    "accepted",
    "handling",
    "reviewing",
    "approved",
    "rejected",
    "suspended",
    "done",
    "cancelled",
)
EVENTS: Final = ("accept", "handle", "review", "approve", "reject", "complete", "suspend", "resume")
RELEASE: Final = "release"
"""The engine's own event: waiting → ready."""
WITHDRAW: Final = "withdraw"
"""The engine's own event when a case ends 不予许可: every task not done is cancelled (撤销)."""
PREVIOUS: Final = "<previous>"
"""Target of ``resume``: the state the task was suspended from."""

# (state, event) -> next state.  The only place transitions are defined.
TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("waiting", RELEASE): "ready",
    ("ready", "accept"): "accepted",
    ("accepted", "handle"): "handling",
    ("handling", "review"): "reviewing",
    ("reviewing", "approve"): "approved",
    ("reviewing", "reject"): "rejected",
    ("approved", "complete"): "done",
    ("rejected", "complete"): "done",
    ("accepted", "suspend"): "suspended",
    ("handling", "suspend"): "suspended",
    ("reviewing", "suspend"): "suspended",
    ("suspended", "resume"): PREVIOUS,
    **{
        (state, WITHDRAW): "cancelled"
        for state in ("waiting", "ready", "accepted", "handling", "reviewing", "approved", "rejected", "suspended")
    },
}

LABELS: Final = {
    "waiting": "等待前置",
    "ready": "待受理",
    "accepted": "已受理",
    "handling": "承办中",
    "reviewing": "审核中",
    "approved": "已批准",
    "rejected": "不予许可",
    "suspended": "中止计时",
    "done": "办结",
    "cancelled": "撤销（案件终止）",
    "accept": "受理",
    "handle": "承办",
    "review": "审核",
    "approve": "批准",
    "reject": "不予许可",
    "complete": "办结",
    "suspend": "中止（补正等不计时）",
    "resume": "恢复计时",
    RELEASE: "启动（前置办结，同步启动）",
    WITHDRAW: "撤销（案件不予许可，终止）",
}

OPEN_STATES: Final = ("ready", "accepted", "handling", "reviewing", "approved", "rejected", "suspended")
"""States in which a task is on someone's desk (a department's, or the applicant's)."""
CLOCK_STATES: Final = ("ready", "accepted", "handling", "reviewing", "approved", "rejected")
"""Open states whose clock runs (a suspended task's clock stands still)."""


def allowed(state: str) -> tuple[str, ...]:
    """The events a task in ``state`` accepts, in table order (the engine's own events excluded)."""
    return tuple(e for (s, e) in TRANSITIONS if s == state and e not in (RELEASE, WITHDRAW))


def next_state(case: str, step: str, state: str, event: str, suspended_from: str | None = None) -> str:
    """The state after ``event``, or :class:`TransitionError` listing the allowed events."""
    if event not in EVENTS and event not in (RELEASE, WITHDRAW):
        raise InputError(f"unknown event {event!r}", allowed=EVENTS)
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise TransitionError(case, step, state, event, allowed(state))
    if target == PREVIOUS:
        if suspended_from is None:  # pragma: no cover - the engine always records where it came from
            raise TransitionError(case, step, state, event, ())
        return suspended_from
    return target
