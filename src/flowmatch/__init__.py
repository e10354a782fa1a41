"""flowmatch: construction-project approval rules as data.

Match a project to the one optimal approval flowchart, schedule it on the official working-day
calendar and print the one-time notice (一次性告知书).  The public API is ``__all__``; the rest is
private.  Heavy modules are imported lazily so that the command line starts quickly.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CalendarError": "errors",
    "CaseStatus": "tracking",
    "CaseStore": "tracking",
    "Certificate": "tracking",
    "CertificateImport": "tracking",
    "certificates_on_file": "tracking",
    "OnFile": "materials",
    "CheckReport": "checker",
    "DiffReport": "diff",
    "RuleSetInfo": "catalogue",
    "diff_rulesets": "diff",
    "load_as_of": "catalogue",
    "ruleset_for": "catalogue",
    "rulesets": "catalogue",
    "under_each": "diff",
    "FlowmatchError": "errors",
    "InputError": "errors",
    "MatchResult": "matcher",
    "Matcher": "matcher",
    "RenderError": "errors",
    "RuleSet": "ruleset",
    "RuleSetError": "errors",
    "Schedule": "scheduler",
    "TrackingError": "errors",
    "TransitionError": "errors",
    "UnknownFlowchartError": "errors",
    "WorkCalendar": "calendar",
    "check": "checker",
    "load_ruleset": "ruleset",
    "match": "matcher",
    "next_question": "wizard",
    "open_store": "tracking",
    "Outcome": "wizard",
    "Question": "wizard",
    "UNSURE": "wizard",
    "search": "search",
    "render_guide": "render",
    "schedule": "scheduler",
    "stats": "stats",
    "validate_credit_code": "tracking",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowmatch' has no attribute {name!r}")
    value = getattr(import_module(f"flowmatch.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .calendar import WorkCalendar
    from .catalogue import RuleSetInfo, load_as_of, ruleset_for, rulesets
    from .checker import CheckReport, check
    from .diff import DiffReport, diff_rulesets, under_each
    from .errors import (
        CalendarError,
        FlowmatchError,
        InputError,
        RenderError,
        RuleSetError,
        TrackingError,
        TransitionError,
        UnknownFlowchartError,
    )
    from .matcher import Matcher, MatchResult, match
    from .materials import OnFile
    from .render import render_guide
    from .ruleset import RuleSet, load_ruleset
    from .scheduler import Schedule, schedule
    from .search import search
    from .stats import stats
    from .tracking import (
        CaseStatus,
        CaseStore,
        Certificate,
        CertificateImport,
        certificates_on_file,
        open_store,
        validate_credit_code,
    )
    from .wizard import UNSURE, Outcome, Question, next_question
