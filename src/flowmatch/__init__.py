"""flowmatch: construction-project approval rules as data.

Match a project to the one optimal approval flowchart, schedule it on the official working-day
calendar and print the one-time notice (一次性告知书).  The public API is ``__all__`` (listed in
the README's library section and pinned by a test); every other name, and every module not named
there, is private — see docs/adr/0011-one-core.md for the layout.  Heavy modules are imported
lazily so that the command line starts quickly.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # errors
    "CalendarError": "errors",
    "FlowmatchError": "errors",
    "InputError": "errors",
    "OutputError": "errors",
    "OutputExistsError": "errors",
    "Problem": "errors",
    "ReadError": "errors",
    "RenderError": "errors",
    "RuleSetError": "errors",
    "UnknownFlowchartError": "errors",
    "UnknownMaterialError": "errors",
    "UnknownStepError": "errors",
    # rule-sets
    "RuleSet": "ruleset",
    "load_ruleset": "ruleset",
    "RuleSetInfo": "catalogue",
    "load_as_of": "catalogue",
    "ruleset_for": "catalogue",
    "rulesets": "catalogue",
    "CheckReport": "checker",
    "check": "checker",
    "DiffReport": "diff",
    "diff_rulesets": "diff",
    "under_each": "diff",
    "stats": "stats",
    # matching, questionnaire, search
    "MatchResult": "matcher",
    "Matcher": "matcher",
    "match": "matcher",
    "Candidate": "wizard",
    "Option": "wizard",
    "Outcome": "wizard",
    "Question": "wizard",
    "UNSURE": "wizard",
    "next_question": "wizard",
    "plan": "wizard",
    "Hit": "search",
    "search": "search",
    # scheduling
    "WorkCalendar": "calendar",
    "GraphSchedule": "scheduler",
    "Schedule": "scheduler",
    "ScheduledStep": "scheduler",
    "schedule": "scheduler",
    "schedule_graph": "scheduler",
    # the notice
    "Notice": "notice",
    "NoticeFee": "notice",
    "NoticeMaterial": "notice",
    "NoticeStep": "notice",
    "build_notice": "notice",
    "notice_schema": "notice",
    "render_guide": "render",
    "render_notice": "notice",
    # batches
    "BatchReport": "batch",
    "run_batch": "batch",
    # case tracking
    "CaseStatus": "tracking",
    "CaseStore": "tracking",
    "TrackingError": "errors",
    "TransitionError": "errors",
    "open_store": "tracking",
    "validate_credit_code": "tracking",
    # the certificate database (证照数据库)
    "Certificate": "tracking",
    "CertificateImport": "tracking",
    "certificates_on_file": "tracking",
    "OnFile": "materials",
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


class _Package(ModuleType):
    """Keeps ``flowmatch.search`` and ``flowmatch.stats`` the public functions: importing the
    modules of the same name (``import flowmatch.search``) would otherwise replace them."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # pragma: no cover - the re-exports, explicit (`import x as x`) for type checkers
    from .batch import BatchReport as BatchReport
    from .batch import run_batch as run_batch
    from .calendar import WorkCalendar as WorkCalendar
    from .catalogue import RuleSetInfo as RuleSetInfo
    from .catalogue import load_as_of as load_as_of
    from .catalogue import ruleset_for as ruleset_for
    from .catalogue import rulesets as rulesets
    from .checker import CheckReport as CheckReport
    from .checker import check as check
    from .diff import DiffReport as DiffReport
    from .diff import diff_rulesets as diff_rulesets
    from .diff import under_each as under_each
    from .errors import CalendarError as CalendarError
    from .errors import FlowmatchError as FlowmatchError
    from .errors import InputError as InputError
    from .errors import OutputError as OutputError
    from .errors import OutputExistsError as OutputExistsError
    from .errors import Problem as Problem
    from .errors import ReadError as ReadError
    from .errors import RenderError as RenderError
    from .errors import RuleSetError as RuleSetError
    from .errors import TrackingError as TrackingError
    from .errors import TransitionError as TransitionError
    from .errors import UnknownFlowchartError as UnknownFlowchartError
    from .errors import UnknownMaterialError as UnknownMaterialError
    from .errors import UnknownStepError as UnknownStepError
    from .matcher import Matcher as Matcher
    from .matcher import MatchResult as MatchResult
    from .matcher import match as match
    from .materials import OnFile as OnFile
    from .notice import Notice as Notice
    from .notice import NoticeFee as NoticeFee
    from .notice import NoticeMaterial as NoticeMaterial
    from .notice import NoticeStep as NoticeStep
    from .notice import build_notice as build_notice
    from .notice import notice_schema as notice_schema
    from .notice import render_notice as render_notice
    from .render import render_guide as render_guide
    from .ruleset import RuleSet as RuleSet
    from .ruleset import load_ruleset as load_ruleset
    from .scheduler import GraphSchedule as GraphSchedule
    from .scheduler import Schedule as Schedule
    from .scheduler import ScheduledStep as ScheduledStep
    from .scheduler import schedule as schedule
    from .scheduler import schedule_graph as schedule_graph
    from .search import Hit as Hit
    from .search import search as search
    from .stats import stats as stats
    from .tracking import CaseStatus as CaseStatus
    from .tracking import CaseStore as CaseStore
    from .tracking import Certificate as Certificate
    from .tracking import CertificateImport as CertificateImport
    from .tracking import certificates_on_file as certificates_on_file
    from .tracking import open_store as open_store
    from .tracking import validate_credit_code as validate_credit_code
    from .wizard import UNSURE as UNSURE
    from .wizard import Candidate as Candidate
    from .wizard import Option as Option
    from .wizard import Outcome as Outcome
    from .wizard import Question as Question
    from .wizard import next_question as next_question
    from .wizard import plan as plan
