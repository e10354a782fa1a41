"""The rule-set side of the certificate database (证照数据库): which certificates it holds, and for how long.

Pure functions over a loaded rule-set's ``certificates.yaml`` (no database, no SQLAlchemy), used by
the certificate store (:mod:`flowmatch.tracking.certs`) and by ``flowmatch stats``.
"""

from __future__ import annotations

import calendar as _months
import datetime as dt
from pathlib import Path

from .errors import InputError
from .models import CertificateDatabase, CertificateKind
from .ruleset import RuleSet

__all__ = ["database_of", "expiry", "held_kinds", "issuer_of"]


def database_of(rs: RuleSet) -> CertificateDatabase:
    """The rule-set's certificate database, or :class:`InputError` when it declares none."""
    if rs.certificates is None:
        raise InputError(
            f"the rule-set {Path(rs.path).name} declares no certificate database (certificates.yaml); "
            "nothing can be looked up or imported"
        )
    return rs.certificates


def issuer_of(rs: RuleSet, kind: CertificateKind) -> str:
    return kind.issuer or rs.materials[kind.id].issuer or ""


def held_kinds(rs: RuleSet) -> dict[str, CertificateKind]:
    """The certificate kinds the database holds: those whose issuer's register is connected."""
    db = rs.certificates
    if db is None:
        return {}
    return {mid: k for mid, k in db.certificates.items() if issuer_of(rs, k) in db.connected}


def expiry(kind: CertificateKind, issued: dt.date) -> dt.date | None:
    """The last valid day of a certificate of ``kind`` issued on ``issued`` (``None``: no expiry)."""
    v = kind.validity
    if v is None:
        return None
    months = (v.years or 0) * 12 + (v.months or 0)
    year, month = divmod(issued.month - 1 + months, 12)
    year += issued.year
    day = min(issued.day, _months.monthrange(year, month + 1)[1])
    end = dt.date(year, month + 1, day) + dt.timedelta(days=v.days or 0)
    return end - dt.timedelta(days=1)
