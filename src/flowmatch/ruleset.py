"""The rule-set: a loaded, validated, frozen container, and the one entry point that loads it.

Layout of a rule-set directory (see ``docs/ruleset-format.md``)::

    ruleset.yaml        manifest: name, region, version, sources, service centre, categories, published figures
    attributes.yaml     the questions (choice attributes) and the flags
    situations.yaml     situations S.. and not-applicable rules
    departments.yaml    department id -> department
    items.yaml          item id -> approval item
    materials.yaml      material id -> material
    invariants.yaml     domain invariants every flowchart must satisfy
    baseline.yaml       the pre-reform flow (a flowchart without a category)
    certificates.yaml   optional: the certificate database (证照数据库) — connected registers, certificate kinds
    flowcharts/F01.yaml one file per flowchart; the file name is its id

The work is split by concern: :mod:`flowmatch.loader` parses and validates, :mod:`flowmatch.crosscheck`
checks references, :mod:`flowmatch.rulecache` keeps the on-disk cache and :mod:`flowmatch.derived`
what is computed from a rule-set.  Validation happens once, at load; the matcher and scheduler
trust a loaded :class:`RuleSet`.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .derived import Derived
from .errors import FlowmatchError, Problem, RuleSetError, UnknownFlowchartError
from .fileio import write_atomic
from .itemmap import ItemMap
from .models import (
    Attribute,
    CertificateDatabase,
    Department,
    Flag,
    Flowchart,
    Invariant,
    Item,
    Manifest,
    Material,
    NotApplicable,
    Situation,
)

__all__ = ["RuleSet", "default_rules_path", "default_ruleset", "load_ruleset"]

PACKAGED_RULESET = "harbin-2014"


def default_rules_path() -> Path:
    """The default rule-set: ``$FLOWMATCH_RULES`` if set, else the packaged one (inside the
    installed wheel, or the source tree's ``rules/``)."""
    env = os.environ.get("FLOWMATCH_RULES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for base in (here / "rules", here.parents[1] / "rules"):
        candidate = base / PACKAGED_RULESET
        if (candidate / "ruleset.yaml").is_file():
            return candidate
    raise RuleSetError(
        [Problem(str(here), 1, 1, "", "the packaged rule-set is missing from this installation; reinstall flowmatch")]
    )


@dataclass(frozen=True)
class RuleSet:
    """A loaded, validated rule-set. Build it with :func:`load_ruleset`.

    Frozen: nothing assigns to it after loading (its dicts are never changed either).  What is
    computed from it (matcher, questionnaire, search index, resolved flows) is kept in
    :attr:`derived`, a typed cache of its own (:mod:`flowmatch.derived`)."""

    path: Path
    manifest: Manifest
    attributes: dict[str, Attribute]
    flags: dict[str, Flag]
    situations: dict[str, Situation]
    not_applicable: dict[str, NotApplicable]
    departments: dict[str, Department]
    items: dict[str, Item]
    materials: dict[str, Material]
    flowcharts: dict[str, Flowchart]
    baseline: Flowchart | None
    invariants: dict[str, Invariant]
    digest: str = ""
    locations: dict[str, str] = field(default_factory=dict)
    """``file:line:col`` of each situation, not-applicable rule and flowchart, for check findings."""
    item_map: ItemMap | None = None
    """How this rule-set's items descend from the one it supersedes (``itemmap.yaml``), if given."""
    certificates: CertificateDatabase | None = None
    """The certificate database (``certificates.yaml``), if the rule-set declares one."""
    derived: Derived = field(default_factory=Derived, init=False, repr=False, compare=False)
    """What is computed from the rule-set on first use (private; see :mod:`flowmatch.derived`)."""

    @property
    def name(self) -> str:
        return self.manifest.name

    def flowchart(self, flowchart_id: str) -> Flowchart:
        """The flowchart with this id (``baseline`` names the pre-reform flow)."""
        found = self.flowcharts.get(flowchart_id)
        if found is None and flowchart_id == "baseline" and self.baseline is not None:
            return self.baseline
        if found is None:
            known = list(self.flowcharts) + (["baseline"] if self.baseline else [])
            raise UnknownFlowchartError(flowchart_id, known)
        return found

    def category_of(self, situation_id: str) -> str:
        return self.flowcharts[self.situations[situation_id].flowchart].category or ""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["derived"] = Derived()  # the on-disk cache carries the data, not what is derived from it
        return state


def load_ruleset(path: str | os.PathLike[str] | None = None, *, cache: bool = True) -> RuleSet:
    """Load and validate a rule-set directory (default: the packaged Harbin-2014 rule-set).

    Every problem is collected and raised together as :class:`RuleSetError`.  A validated
    rule-set is cached on disk keyed by the content hash of its files; a stale cache is never
    used and a corrupt one is rebuilt silently.  Set ``FLOWMATCH_CACHE_DIR`` to move the cache,
    or pass ``cache=False``.
    """
    root = Path(path) if path is not None else default_rules_path()
    root = root.resolve()
    if not (root / "ruleset.yaml").is_file():
        raise RuleSetError([Problem(str(root), 1, 1, "", "not a rule-set directory: ruleset.yaml is missing")])
    digest = ""
    if cache:
        from .rulecache import _cache_dir, _digest, _private, _unpickle

        try:
            digest = _digest(root)
            target = _cache_dir() / f"{digest}.pickle"
            if target.is_file() and _private(target.parent) and _private(target):
                with target.open("rb") as fh:
                    loaded = _unpickle(fh)
                if isinstance(loaded, RuleSet) and loaded.digest == digest:
                    return replace(loaded, path=root)
        except Exception:  # a corrupt or unreadable cache is rebuilt silently
            pass
    from .loader import load_directory

    ruleset = load_directory(root)
    if cache and digest:
        ruleset = replace(ruleset, digest=digest)
        from .rulecache import _cache_dir

        try:
            directory = _cache_dir()
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            data = pickle.dumps(ruleset, protocol=pickle.HIGHEST_PROTOCOL)
            write_atomic(directory / f"{digest}.pickle", data, force=True, mode=0o600)
        except (OSError, FlowmatchError):
            pass
    return ruleset


_DEFAULT: dict[str, RuleSet] = {}


def default_ruleset() -> RuleSet:
    """The packaged rule-set, loaded once per process."""
    found = _DEFAULT.get("packaged")
    if found is None:
        found = _DEFAULT["packaged"] = load_ruleset()
    return found
