"""The one tree of errors flowmatch raises.

The library never prints or exits; the CLI maps these classes to exit codes in one place
(``cli._exit_code``).  Every message is written for the person who has to act on it: it says what
was wrong and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class FlowmatchError(Exception):
    """Base class of every error flowmatch raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a rule-set file, located to the character."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RuleSetError(FlowmatchError):
    """The rule-set could not be loaded; carries every problem found, like a compiler."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the rule-set"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))


class InputError(FlowmatchError):
    """A value given by the user (CLI argument, profile, date, option) is not allowed."""

    def __init__(self, message: str, *, allowed: Sequence[str] = ()) -> None:
        self.allowed = tuple(allowed)
        if allowed:
            message = f"{message}; allowed: {', '.join(allowed)}"
        super().__init__(message)


class UnknownFlowchartError(InputError):
    """A flowchart id that the rule-set does not define."""

    def __init__(self, flowchart: str, known: Sequence[str]) -> None:
        self.flowchart = flowchart
        super().__init__(f"unknown flowchart {flowchart!r}", allowed=known)


class CalendarError(FlowmatchError):
    """A schedule needs working-day data the calendar does not have."""


class RenderError(FlowmatchError):
    """A guide could not be rendered (template error, missing extra or font)."""


class TrackingError(FlowmatchError):
    """A case-tracking operation failed (storage, a case in the wrong state)."""


class TransitionError(TrackingError):
    """An event a task's state does not allow; lists the events it does allow."""

    def __init__(self, case: str, step: str, state: str, event: str, allowed: Sequence[str]) -> None:
        self.case = case
        self.step = step
        self.state = state
        self.event = event
        self.allowed = tuple(allowed)
        idle = {
            "waiting": "none until every prerequisite is done",
            "done": "none: the task is done",
            "cancelled": "none: the case was closed",
        }
        nxt = ", ".join(self.allowed) if self.allowed else idle.get(state, "none")
        super().__init__(f"case {case} step {step!r} is {state}: event {event!r} is not allowed; allowed next: {nxt}")
