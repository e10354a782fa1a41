"""The one tree of errors flowmatch raises.

::

    FlowmatchError                  everything flowmatch raises on purpose
    ├── RuleSetError                the rule-set could not be loaded (every Problem, file:line:col)
    ├── InputError                  a value given by the user is not allowed (lists what is)
    │   ├── UnknownFlowchartError   a flowchart id the rule-set does not define
    │   ├── UnknownStepError        a step id a schedule does not have (also a KeyError)
    │   ├── UnknownMaterialError    a material id a material list does not have (also a KeyError)
    │   ├── ReadError               an input file is missing, not a regular file, too large, unreadable
    │   └── OutputExistsError       the output file exists and force was not given
    ├── OutputError                 an output file could not be written
    ├── CalendarError               a schedule needs working-day data the calendar does not have
    ├── RenderError                 a notice could not be rendered (template, missing extra or font)
    └── TrackingError               a case-tracking operation failed (storage, a case in the wrong state)
        └── TransitionError         an event a task's state does not allow (lists the allowed ones)

The library never prints or exits; the CLI maps these classes to exit codes in one place
(``cli.exit_code``: input errors 2, the others 1).  Every message is written for the person who
has to act on it: it says what was wrong and what is allowed.
"""

from __future__ import annotations

import os
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


class UnknownStepError(InputError, KeyError):
    """A step id that a schedule (or notice) does not have; also a ``KeyError`` for old callers."""

    def __init__(self, step: str, known: Sequence[str]) -> None:
        self.step = step
        InputError.__init__(self, f"unknown step {step!r}", allowed=known)

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0])


class UnknownMaterialError(InputError, KeyError):
    """A material id that a material list does not have; also a ``KeyError`` for old callers."""

    def __init__(self, material: str, known: Sequence[str]) -> None:
        self.material = material
        InputError.__init__(self, f"unknown material {material!r}", allowed=known)

    def __str__(self) -> str:
        return str(self.args[0])


class ReadError(InputError):
    """An input file could not be read: missing, not a regular file, too large or unreadable."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputError(FlowmatchError):
    """An output file could not be written (exit code 1)."""


class OutputExistsError(InputError):
    """The output file exists and ``force`` was not given (exit code 2)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        super().__init__(f"{self.path} exists; pass --force to overwrite it")


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
