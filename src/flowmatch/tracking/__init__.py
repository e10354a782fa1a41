"""Live case tracking (全程实时监控, issue 14): cases, tasks, warnings and a tamper-evident audit trail.

``open_store(url)`` gives a :class:`CaseStore` on SQLite (default, per-user file) or PostgreSQL;
its methods are the library face of ``flowmatch case ...`` and ``flowmatch audit verify``.
Module map: ``schema`` (the tables), ``store`` (engine, migrations), ``states`` (the transition
table), ``cases`` (open, record, status, list), ``progress`` (due dates, projection), ``sweep``
(warnings), ``audit`` (hash chain), ``report`` (statistics), ``credit`` (GB 32100 check digit),
``certs`` (the certificate database, 证照数据库).
"""

from __future__ import annotations

from .audit import AuditReport
from .cases import CaseStatus, CaseStore, OpenedCase, Recorded, open_store
from .certs import Certificate, CertificateImport, ImportProblem, certificates_on_file
from .credit import validate_credit_code
from .report import TrackingStats
from .states import EVENTS, STATES, TRANSITIONS
from .sweep import SweepResult

__all__ = [
    "EVENTS",
    "STATES",
    "TRANSITIONS",
    "AuditReport",
    "CaseStatus",
    "CaseStore",
    "Certificate",
    "CertificateImport",
    "ImportProblem",
    "OpenedCase",
    "Recorded",
    "SweepResult",
    "TrackingStats",
    "certificates_on_file",
    "open_store",
    "validate_credit_code",
]
