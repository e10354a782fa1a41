"""The rule-sets side by side: which are packaged, when each is in force, which one a date picks.

A rule-set is named by its directory (``harbin-2014``).  Its manifest may state a
``jurisdiction``, ``effective_from`` / ``effective_to`` (inclusive) and what it ``supersedes``; a
rule-set with no dates is in force on every day, as before rule-sets had dates.  Only manifests
are read here (one small file per rule-set), so listing and choosing stay fast; the chosen
rule-set is then loaded and validated by :func:`flowmatch.ruleset.load_ruleset`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from .errors import InputError, Problem, RuleSetError
from .models import Manifest
from .ruleset import PACKAGED_RULESET, RuleSet, load_ruleset
from .yamlsrc import YamlError, read

__all__ = [
    "RuleSetInfo",
    "catalogue_problems",
    "load_as_of",
    "packaged_root",
    "ruleset_for",
    "ruleset_path",
    "rulesets",
    "select_rules",
]


@dataclass(frozen=True)
class RuleSetInfo:
    """One rule-set as the catalogue sees it: its name, manifest dates and succession."""

    name: str
    path: Path
    title: str
    title_en: str
    version: str
    jurisdiction: str | None
    effective_from: dt.date | None
    effective_to: dt.date | None
    supersedes: tuple[str, ...]
    default: bool

    def in_force(self, day: dt.date) -> bool:
        """In force on ``day`` (a rule-set with no dates is always in force)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to

    @property
    def dated(self) -> bool:
        return self.effective_from is not None or self.effective_to is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "title_en": self.title_en,
            "version": self.version,
            "jurisdiction": self.jurisdiction,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "supersedes": list(self.supersedes),
            "default": self.default,
            "path": str(self.path),
        }


def packaged_root() -> Path:
    """The directory holding the packaged rule-sets (inside the wheel, or the source tree's ``rules/``)."""
    here = Path(__file__).resolve().parent
    for base in (here / "rules", here.parents[1] / "rules"):
        if (base / PACKAGED_RULESET / "ruleset.yaml").is_file():
            return base
    raise RuleSetError(
        [Problem(str(here), 1, 1, "", "the packaged rule-sets are missing from this installation; reinstall flowmatch")]
    )


def _manifest(path: Path) -> Manifest:
    file = path / "ruleset.yaml"
    try:
        doc = read(file, str(file))
    except YamlError as exc:
        raise RuleSetError([exc.problem]) from None
    try:
        return Manifest.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(doc.problem(loc, str(error["msg"])))
        raise RuleSetError(problems) from None


def _info(path: Path, default: bool) -> RuleSetInfo:
    m = _manifest(path)
    return RuleSetInfo(
        path.name,
        path,
        m.name,
        m.name_en,
        m.version,
        m.jurisdiction,
        m.effective_from,
        m.effective_to,
        tuple(m.supersedes),
        default,
    )


def rulesets(root: str | os.PathLike[str] | None = None) -> list[RuleSetInfo]:
    """Every rule-set directory under ``root`` (default: the packaged ones), oldest first."""
    base = Path(root) if root is not None else packaged_root()
    found = [
        _info(d.resolve(), d.name == PACKAGED_RULESET and root is None)
        for d in sorted(base.iterdir())
        if (d / "ruleset.yaml").is_file()
    ]
    return sorted(found, key=lambda i: (i.jurisdiction or "", i.effective_from or dt.date.min, i.name))


def catalogue_problems(infos: list[RuleSetInfo]) -> list[str]:
    """Succession errors: unknown ``supersedes``, two dated rule-sets of one jurisdiction in force on one day."""
    out: list[str] = []
    names = {i.name for i in infos}
    for info in infos:
        for old in info.supersedes:
            if old not in names:
                out.append(f"{info.name} supersedes unknown rule-set {old!r}; known: {', '.join(sorted(names))}")
        if info.effective_from and info.effective_to and info.effective_to < info.effective_from:
            out.append(f"{info.name} ends ({info.effective_to}) before it starts ({info.effective_from})")
    dated = [i for i in infos if i.dated and i.jurisdiction]
    for n, a in enumerate(dated):
        for b in dated[n + 1 :]:
            if a.jurisdiction != b.jurisdiction:
                continue
            start = max(a.effective_from or dt.date.min, b.effective_from or dt.date.min)
            end = min(a.effective_to or dt.date.max, b.effective_to or dt.date.max)
            if start <= end:
                out.append(f"{a.name} and {b.name} ({a.jurisdiction}) are both in force from {start}")
    return out


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def ruleset_for(
    day: dt.date | str, jurisdiction: str | None = None, root: str | os.PathLike[str] | None = None
) -> RuleSetInfo:
    """The rule-set in force on ``day`` for ``jurisdiction`` (default: the default rule-set's).

    A dated rule-set wins over an undated one; among several, the one that took effect last."""
    when = _as_date(day)
    infos = rulesets(root)
    if jurisdiction is None:
        default = next((i for i in infos if i.default), infos[0] if infos else None)
        jurisdiction = default.jurisdiction if default else None
    pool = [i for i in infos if jurisdiction is None or i.jurisdiction in (jurisdiction, None)]
    if not pool:
        known = sorted({i.jurisdiction or "-" for i in infos})
        raise InputError(f"no rule-set for jurisdiction {jurisdiction!r}", allowed=known)
    chosen = [i for i in pool if i.in_force(when)]
    if not chosen:
        raise InputError(f"no rule-set of {jurisdiction} is in force on {when}", allowed=[_span(i) for i in pool])
    chosen.sort(key=lambda i: (i.dated, i.effective_from or dt.date.min))
    return chosen[-1]


def _span(info: RuleSetInfo) -> str:
    start = info.effective_from.isoformat() if info.effective_from else "…"
    end = info.effective_to.isoformat() if info.effective_to else "…"
    return f"{info.name} ({start} – {end})"


def ruleset_path(rules: str | os.PathLike[str]) -> Path:
    """A rule-set directory, or the packaged rule-set of that name."""
    path = Path(rules)
    if (path / "ruleset.yaml").is_file():
        return path
    text = str(rules)
    if "/" not in text and os.sep not in text:
        root = packaged_root()
        if (root / text / "ruleset.yaml").is_file():
            return root / text
        names = [i.name for i in rulesets(root)]
        raise InputError(f"no rule-set named {text!r} and no such directory", allowed=names)
    return path  # let the loader report the missing manifest with its path


def select_rules(rules: str | os.PathLike[str] | None, as_of: dt.date | str | None) -> Path | None:
    """The rule-set the options ``--rules`` and ``--as-of`` pick (None: the default rule-set).

    With both, the named rule-set must be in force on that date."""
    if as_of is None:
        return ruleset_path(rules) if rules is not None else None
    when = _as_date(as_of)
    if rules is None:
        return ruleset_for(when).path
    path = ruleset_path(rules)
    info = _info(path.resolve(), False)
    if not info.in_force(when):
        raise InputError(f"rule-set {info.name} is not in force on {when} ({_span(info)})")
    return path


def load_as_of(day: dt.date | str, jurisdiction: str | None = None) -> RuleSet:
    """Load the packaged rule-set in force on ``day`` (see :func:`ruleset_for`)."""
    return load_ruleset(ruleset_for(day, jurisdiction).path)
