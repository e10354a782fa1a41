"""Loading a rule-set directory: parse, validate, cross-check — and report every problem at once.

Layout of a rule-set directory (see ``docs/ruleset-format.md``)::

    ruleset.yaml        manifest: name, region, version, sources, service centre, categories, published figures
    attributes.yaml     the questions (choice attributes) and the flags
    situations.yaml     situations S.. and not-applicable rules
    departments.yaml    department id -> department
    items.yaml          item id -> approval item
    materials.yaml      material id -> material
    invariants.yaml     domain invariants every flowchart must satisfy
    baseline.yaml       the pre-reform flow (a flowchart without a category)
    flowcharts/F01.yaml one file per flowchart; the file name is its id

Validation happens here once; the matcher and scheduler trust a loaded :class:`RuleSet`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from . import conditions
from .conditions import Cond
from .derived import Derived
from .errors import FlowmatchError, Problem, RuleSetError, UnknownFlowchartError
from .fileio import read_limited, write_atomic
from .itemmap import ItemMap, new_side_problems
from .models import (
    Attribute,
    AttributesFile,
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
from .yamlsrc import MAX_BYTES, Document, Key, YamlError, read

__all__ = ["RuleSet", "default_rules_path", "default_ruleset", "load_ruleset"]

PACKAGED_RULESET = "harbin-2014"
_CACHE_FORMAT = 2

M = TypeVar("M", bound=BaseModel)


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


# --- error formatting -----------------------------------------------------------------------------
def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _model_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The model class found by following ``loc`` from ``model`` (for 'allowed keys' lists)."""
    current = model
    i = 0
    while i < len(loc):
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(loc[i]))
            if info is None:
                return None
            current = info.annotation
        elif origin in (dict, Mapping) or origin is list:
            current = typing.get_args(current)[-1]
        else:
            return None
        i += 1
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _describe(error: Any, model: type[BaseModel]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    got = error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = ", ".join(f for f in parent.model_fields if f != "id") if parent else ""
        return loc, f"unknown key {loc[-1]!r}; allowed: {allowed}"
    if kind == "missing":
        return loc, "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return loc, f"{got!r} is not allowed; allowed: {expected.replace(' or ', ', ')}"
    ctx_error = error.get("ctx", {}).get("error")
    if isinstance(ctx_error, conditions.ConditionError):
        return (*loc, *ctx_error.rel), str(ctx_error)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        message = f"{message} (got {got!r})" if not isinstance(got, (dict, list)) else message
    return loc, message


class _Collector:
    """Gathers problems while loading; each document keeps its key positions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.docs: dict[str, Document] = {}

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read(self, path: Path, *, required: bool = True) -> Document | None:
        name = self.display(path)
        if not path.exists():
            if required:
                self.problems.append(Problem(name, 1, 1, "", "required file is missing"))
            return None
        try:
            doc = read(path, name)
        except YamlError as exc:
            self.problems.append(exc.problem)
            return None
        if not isinstance(doc.data, dict):
            self.problems.append(
                doc.problem((), f"expected a mapping at the top of the file, got {type(doc.data).__name__}")
            )
            return None
        self.docs[name] = doc
        return doc

    def model(self, doc: Document, model: type[M], data: Any, prefix: Key = ()) -> M | None:
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                loc, message = _describe(error, model)
                self.problems.append(doc.problem((*prefix, *loc), message))
            return None

    def entries(self, doc: Document | None, model: type[M], data: Any = None, prefix: Key = ()) -> dict[str, M]:
        """Validate a mapping ``id -> entry``; the key becomes the entry's ``id``."""
        if doc is None:
            return {}
        data = doc.data if data is None else data
        if not isinstance(data, dict):
            self.problems.append(doc.problem(prefix, "expected a mapping of id to entry"))
            return {}
        out: dict[str, M] = {}
        for key, value in data.items():
            if "id" in (value or {}) if isinstance(value, dict) else False:
                self.problems.append(doc.problem((*prefix, key, "id"), "the id is the mapping key; do not repeat it"))
                continue
            if not isinstance(value, dict):
                self.problems.append(doc.problem((*prefix, key), f"expected a mapping, got {type(value).__name__}"))
                continue
            entry = self.model(doc, model, {"id": key, **value}, (*prefix, key))
            if entry is not None:
                out[str(key)] = entry
        return out


# --- loading --------------------------------------------------------------------------------------
def _files(root: Path) -> list[Path]:
    fixed = [
        root / n
        for n in (
            "ruleset.yaml",
            "attributes.yaml",
            "situations.yaml",
            "departments.yaml",
            "items.yaml",
            "materials.yaml",
            "invariants.yaml",
            "baseline.yaml",
            "itemmap.yaml",
        )
    ]
    flow_dir = root / "flowcharts"
    flows = sorted(flow_dir.glob("*.yaml")) if flow_dir.is_dir() else []
    return fixed + flows


def _digest(root: Path) -> str:
    h = hashlib.sha256(f"flowmatch-cache-{_CACHE_FORMAT}".encode())
    from . import __version__

    h.update(__version__.encode())
    here = Path(__file__).parent
    code = ("models.py", "conditions.py", "ruleset.py", "yamlsrc.py", "itemmap.py")  # the code that builds the cache
    for module in code:
        h.update((here / module).read_bytes())
    for path in _files(root):
        h.update(path.name.encode())
        # the loader's own limits: a huge, special or sparse file fails here at once (and then in the loader)
        h.update(read_limited(path, MAX_BYTES) if path.is_file() else b"\0missing")
    return h.hexdigest()


def _cache_dir() -> Path:
    env = os.environ.get("FLOWMATCH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flowmatch"


def _unpickle(fh: typing.BinaryIO) -> Any:
    """``pickle.load`` with the cyclic garbage collector paused: a rule-set is some 20,000 objects,
    whose allocation would otherwise set off collections that find nothing (about 40 % of a warm
    load)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.load(fh)
    finally:
        if enabled:
            gc.enable()


def _private(path: Path) -> bool:
    """Only this user can write ``path``: a cache others can write could carry code (pickle)."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - not POSIX: rely on the user profile's ACLs
        return True
    st = path.stat()
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


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
    ruleset = _load(root)
    if cache and digest:
        ruleset = replace(ruleset, digest=digest)
        try:
            directory = _cache_dir()
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            data = pickle.dumps(ruleset, protocol=pickle.HIGHEST_PROTOCOL)
            write_atomic(directory / f"{digest}.pickle", data, force=True, mode=0o600)
        except (OSError, FlowmatchError):
            pass
    return ruleset


def _load(root: Path) -> RuleSet:
    c = _Collector(root)
    manifest_doc = c.read(root / "ruleset.yaml")
    manifest = c.model(manifest_doc, Manifest, manifest_doc.data) if manifest_doc else None

    attr_doc = c.read(root / "attributes.yaml")
    attrs_file = None
    if attr_doc:
        raw = dict(attr_doc.data)
        for section in ("attributes", "flags"):
            if isinstance(raw.get(section), dict):
                raw[section] = {k: ({"id": k, **v} if isinstance(v, dict) else v) for k, v in raw[section].items()}
        attrs_file = c.model(attr_doc, AttributesFile, raw)
    attributes = dict(attrs_file.attributes) if attrs_file else {}
    flags = dict(attrs_file.flags) if attrs_file else {}

    sit_doc = c.read(root / "situations.yaml")
    situations: dict[str, Situation] = {}
    not_applicable: dict[str, NotApplicable] = {}
    if sit_doc:
        unknown = set(sit_doc.data) - {"situations", "not_applicable"}
        for key in sorted(unknown, key=str):
            c.problems.append(sit_doc.problem((key,), f"unknown key {key!r}; allowed: situations, not_applicable"))
        if "situations" not in sit_doc.data:
            c.problems.append(sit_doc.problem((), "required key 'situations' is missing"))
        situations = c.entries(sit_doc, Situation, sit_doc.data.get("situations", {}), ("situations",))
        not_applicable = c.entries(
            sit_doc, NotApplicable, sit_doc.data.get("not_applicable") or {}, ("not_applicable",)
        )

    departments = c.entries(c.read(root / "departments.yaml"), Department)
    items = c.entries(c.read(root / "items.yaml"), Item)
    materials = c.entries(c.read(root / "materials.yaml"), Material)
    invariants = c.entries(c.read(root / "invariants.yaml", required=False), Invariant)

    flowcharts: dict[str, Flowchart] = {}
    flow_docs: dict[str, Document] = {}
    flow_dir = root / "flowcharts"
    if not flow_dir.is_dir():
        c.problems.append(Problem(c.display(flow_dir), 1, 1, "", "the flowcharts/ directory is missing"))
    for path in sorted(flow_dir.glob("*.yaml")) if flow_dir.is_dir() else []:
        doc = c.read(path)
        if doc is None:
            continue
        fid = path.stem
        flow = _flowchart(c, doc, fid)
        if flow is not None:
            flowcharts[fid] = flow
            flow_docs[fid] = doc
    baseline = None
    base_doc = c.read(root / "baseline.yaml", required=False)
    if base_doc is not None:
        baseline = _flowchart(c, base_doc, "baseline")
        if baseline is not None:
            flow_docs["baseline"] = base_doc

    if manifest is None:  # nothing can be cross-checked without the manifest's sources and categories
        raise RuleSetError(c.problems)
    locations: dict[str, str] = {}
    if sit_doc is not None:
        for section, ids in (("situations", situations), ("not_applicable", not_applicable)):
            for rid in ids:
                line, col = sit_doc.where((section, rid))
                locations[rid] = f"{sit_doc.file}:{line}:{col}"
    for fid, doc in flow_docs.items():
        locations[fid] = f"{doc.file}:1:1"
        flow_data = doc.data.get("steps") if isinstance(doc.data, dict) else None
        for sid in flow_data if isinstance(flow_data, dict) else ():
            for key in ((), ("item",), ("depends_on",), ("duration",), ("members",), ("department",)):
                if key == () or (*("steps", sid), *key) in doc.marks:
                    line, col = doc.where(("steps", sid, *key))
                    locations[".".join((fid, sid, *key))] = f"{doc.file}:{line}:{col}"
    for name, prefix, pool in (("items.yaml", "item", items), ("invariants.yaml", "invariant", invariants)):
        try:
            pool_doc = _doc_for(c, name)
        except KeyError:
            continue
        for rid in pool:
            for key in ((), ("promised",), ("statutory",), ("members",), ("fees",), ("department",)):
                if key == () or (rid, *key) in pool_doc.marks:
                    line, col = pool_doc.where((rid, *key))
                    locations[".".join((f"{prefix}:{rid}", *key))] = f"{pool_doc.file}:{line}:{col}"
    ruleset = RuleSet(root, manifest, attributes, flags, situations, not_applicable, departments, items, materials,
                      flowcharts, baseline, invariants, locations=locations)
    # With a broken attributes file the conditions cannot be checked, but every other reference
    # still is: one broken file must not hide unrelated problems.
    _cross_check(c, ruleset, flow_docs, conditions_checkable=attrs_file is not None)
    item_map = _four_stage_and_item_map(c, ruleset, root)
    if item_map is not None:
        ruleset = replace(ruleset, item_map=item_map)
    if c.problems:
        raise RuleSetError(c.problems)
    return ruleset


def _four_stage_and_item_map(c: _Collector, ruleset: RuleSet, root: Path) -> ItemMap | None:
    """The manifest's ``four_stage`` references and the optional ``itemmap.yaml`` (new side)."""
    spec = ruleset.manifest.four_stage
    if spec is not None:
        doc = _doc_for(c, "ruleset.yaml")
        base: Key = ("four_stage",)
        for number, stage in spec.stages.items():
            if number not in (1, 2, 3, 4):
                c.problems.append(doc.problem((*base, "stages", number), "stages are the national stages 1, 2, 3, 4"))
            if stage.lead not in ruleset.departments:
                c.problems.append(doc.problem((*base, "stages", number, "lead"), f"unknown department {stage.lead!r}"))
        for key in ("joint_drawing_review", "commitment_verification"):
            if getattr(spec, key) not in ruleset.items:
                c.problems.append(doc.problem((*base, key), f"unknown item {getattr(spec, key)!r}"))
        for key, src in (("source", s) for s in [*spec.source, spec.cap.source]):
            if src not in ruleset.manifest.sources:
                c.problems.append(doc.problem((*base, key), f"unknown source {src!r}"))
    map_doc = c.read(root / "itemmap.yaml", required=False)
    if map_doc is None:
        return None
    item_map = c.model(map_doc, ItemMap, map_doc.data)
    if item_map is None:
        return None
    rs = ruleset
    pools = (rs.flags, rs.departments, rs.items, rs.flowcharts, rs.attributes, rs.manifest.sources)
    for path, message in new_side_problems(item_map, *(set(pool) for pool in pools)):
        c.problems.append(map_doc.problem(path, message))
    return item_map


def _flowchart(c: _Collector, doc: Document, fid: str) -> Flowchart | None:
    data = dict(doc.data)
    if "id" in data:
        c.problems.append(doc.problem(("id",), "the flowchart id is the file name; do not repeat it"))
        return None
    steps = data.get("steps")
    if isinstance(steps, dict):
        data["steps"] = {k: ({"id": k, **v} if isinstance(v, dict) else v) for k, v in steps.items()}
    return c.model(doc, Flowchart, {"id": fid, **data})


def _doc_for(c: _Collector, name: str) -> Document:
    for key, doc in c.docs.items():
        if Path(key).name == name:
            return doc
    raise KeyError(name)


def _cross_check(
    c: _Collector,
    ruleset: RuleSet,
    flow_docs: dict[str, Document],
    *,
    conditions_checkable: bool = True,
) -> None:
    manifest, attributes, flags = ruleset.manifest, ruleset.attributes, ruleset.flags
    situations, not_applicable = ruleset.situations, ruleset.not_applicable
    departments, items, materials = ruleset.departments, ruleset.items, ruleset.materials
    flowcharts, baseline, invariants = ruleset.flowcharts, ruleset.baseline, ruleset.invariants
    sources = manifest.sources

    def known(doc: Document, path: Key, value: str, pool: Iterable[str], what: str) -> None:
        pool = list(pool)
        if value not in pool:
            shown = ", ".join(pool[:40]) + (" ..." if len(pool) > 40 else "")
            c.problems.append(doc.problem(path, f"unknown {what} {value!r}; allowed: {shown}"))

    def check_cond(doc: Document, base: Key, cond: Cond, allow_flags: bool) -> None:
        if not conditions_checkable:
            return
        for leaf in cond.leaves():
            path = (*base, *leaf.rel)
            if leaf.attribute in attributes:
                allowed = attributes[leaf.attribute].values
                for value in sorted(leaf.values, key=str):
                    if value not in allowed:
                        c.problems.append(
                            doc.problem(
                                path, f"unknown value {value!r} of {leaf.attribute}; allowed: {', '.join(allowed)}"
                            )
                        )
            elif leaf.attribute in flags and allow_flags:
                for value in leaf.values:
                    if not isinstance(value, bool):
                        c.problems.append(
                            doc.problem(path, f"flag {leaf.attribute} takes true or false, got {value!r}")
                        )
            else:
                pool = list(attributes) + (list(flags) if allow_flags else [])
                extra = "" if allow_flags or leaf.attribute not in flags else " (flags never select a situation)"
                c.problems.append(
                    doc.problem(path, f"unknown attribute {leaf.attribute!r}{extra}; allowed: {', '.join(pool)}")
                )

    try:
        attr_doc = _doc_for(c, "attributes.yaml")
        for aid, attr in attributes.items():
            if attr.asked_when is not None:
                check_cond(attr_doc, ("attributes", aid, "asked_when"), attr.asked_when, False)
        overlap = set(attributes) & set(flags)
        for name in sorted(overlap):
            c.problems.append(attr_doc.problem(("flags", name), f"{name!r} is both an attribute and a flag"))
    except KeyError:
        pass

    try:
        sit_doc = _doc_for(c, "situations.yaml")
    except KeyError:
        sit_doc = None
    if sit_doc is not None:
        for sid, sit in situations.items():
            base = ("situations", sid)
            check_cond(sit_doc, (*base, "when"), sit.when, False)
            for src in sit.source:
                known(sit_doc, (*base, "source"), src, sources, "source")
            flow = flowcharts.get(sit.flowchart)
            if flow is None:
                known(sit_doc, (*base, "flowchart"), sit.flowchart, flowcharts, "flowchart")
                continue
            for step_id, variant in sit.variants.items():
                step = flow.steps.get(step_id)
                if step is None:
                    c.problems.append(
                        sit_doc.problem(
                            (*base, "variants", step_id),
                            f"flowchart {flow.id} has no step {step_id!r}; allowed: {', '.join(flow.steps)}",
                        )
                    )
                elif variant not in step.variants:
                    c.problems.append(
                        sit_doc.problem(
                            (*base, "variants", step_id),
                            f"step {step_id} of {flow.id} has no variant {variant!r}; "
                            f"allowed: {', '.join(step.variants) or '(none defined)'}",
                        )
                    )
        for nid, rule in not_applicable.items():
            base = ("not_applicable", nid)
            check_cond(sit_doc, (*base, "when"), rule.when, False)
            if rule.consider is not None:
                known(sit_doc, (*base, "consider"), rule.consider, situations, "situation")
        clash = set(situations) & set(not_applicable)
        for name in sorted(clash):
            c.problems.append(sit_doc.problem(("not_applicable", name), f"id {name!r} is used by a situation too"))

    try:
        item_doc = _doc_for(c, "items.yaml")
        for iid, item in items.items():
            known(item_doc, (iid, "department"), item.department, departments, "department")
            for i, member in enumerate(item.members):
                known(item_doc, (iid, "members", i), member, departments, "department")
            for key in ("materials", "produces"):
                for i, mid in enumerate(getattr(item, key)):
                    known(item_doc, (iid, key, i), mid, materials, "material")
            for i, src in enumerate(item.source):
                known(item_doc, (iid, "source", i), src, sources, "source")
            for fact, tags in item.provenance.items():
                for i, src in enumerate(tags):
                    known(item_doc, (iid, "provenance", fact, i), src, sources, "source")
            if item.merged_into is not None:
                known(item_doc, (iid, "merged_into"), item.merged_into, items, "item")
    except KeyError:
        pass
    try:
        mat_doc = _doc_for(c, "materials.yaml")
        for mid, mat in materials.items():
            if mat.issuer is not None:
                known(mat_doc, (mid, "issuer"), mat.issuer, departments, "department")
            if mat.when is not None:
                check_cond(mat_doc, (mid, "when"), mat.when, True)
    except KeyError:
        pass
    try:
        inv_doc = _doc_for(c, "invariants.yaml")
        for vid, inv in invariants.items():
            for i, cat in enumerate(inv.categories):
                known(inv_doc, (vid, "categories", i), cat, manifest.categories, "category")
            for key in ("requires_any", "forbids", "if_present"):
                for i, iid in enumerate(getattr(inv, key)):
                    known(inv_doc, (vid, key, i), iid, items, "item")
            for i, dept in enumerate(inv.forbids_departments):
                known(inv_doc, (vid, "forbids_departments", i), dept, departments, "department")
            for iid, depts in inv.departments.items():
                known(inv_doc, (vid, "departments", iid), iid, items, "item")
                for i, dept in enumerate(depts):
                    known(inv_doc, (vid, "departments", iid, i), dept, departments, "department")
            for i, src in enumerate(inv.source):
                known(inv_doc, (vid, "source", i), src, sources, "source")
            for part, ids in (inv.precedes or {}).items():
                for i, iid in enumerate(ids):
                    known(inv_doc, (vid, "precedes", part, i), iid, items, "item")
    except KeyError:
        pass

    all_flows = dict(flowcharts)
    if baseline is not None:
        all_flows["baseline"] = baseline
    for fid, flow in all_flows.items():
        doc = flow_docs[fid]
        if fid != "baseline":
            if flow.category is None:
                c.problems.append(
                    doc.problem(("category",), f"required key is missing; allowed: {', '.join(manifest.categories)}")
                )
            else:
                known(doc, ("category",), flow.category, manifest.categories, "category")
        for i, src in enumerate(flow.source):
            known(doc, ("source", i), src, sources, "source")
        if not flow.steps:
            continue
        for sid, step in flow.steps.items():
            base = ("steps", sid)
            known(doc, (*base, "item"), step.item, items, "item")
            for i, dep in enumerate(step.depends_on):
                if dep == sid:
                    c.problems.append(doc.problem((*base, "depends_on", i), "a step cannot depend on itself"))
                else:
                    known(doc, (*base, "depends_on", i), dep, flow.steps, "step")
            if step.department is not None:
                known(doc, (*base, "department"), step.department, departments, "department")
            for step_fact, tags in step.provenance.items():
                for i, src in enumerate(tags):
                    known(doc, (*base, "provenance", step_fact, i), src, sources, "source")
            for vid, var in step.variants.items():
                known(doc, (*base, "variants", vid, "item"), var.item, items, "item")
                for i, dep in enumerate(var.depends_on):
                    if dep == sid:
                        c.problems.append(
                            doc.problem((*base, "variants", vid, "depends_on", i), "a step cannot depend on itself")
                        )
                    else:
                        known(doc, (*base, "variants", vid, "depends_on", i), dep, flow.steps, "step")
                for i, mid in enumerate(var.materials):
                    known(doc, (*base, "variants", vid, "materials", i), mid, materials, "material")
            for i, member in enumerate(step.members):
                known(doc, (*base, "members", i), member, departments, "department")
            for key in ("materials", "omits"):
                for i, mid in enumerate(getattr(step, key)):
                    known(doc, (*base, key, i), mid, materials, "material")
            if step.when is not None:
                check_cond(doc, (*base, "when"), step.when, True)
        cycle = _find_cycle(
            {
                sid: [
                    d
                    for d in (*s.depends_on, *(d for v in s.variants.values() for d in v.depends_on))
                    if d in flow.steps and d != sid
                ]
                for sid, s in flow.steps.items()
            }
        )
        if cycle:
            text = " → ".join([*cycle, cycle[0]])
            c.problems.append(doc.problem(("steps", cycle[0], "depends_on"), f"steps form a cycle: {text}"))


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """One cycle in a dependency graph, as a list of step ids, or [] if there is none.

    Iterative depth-first search: a chain of thousands of steps must not overflow the stack."""
    state: dict[str, int] = {}
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(graph.get(root, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return []


_DEFAULT: dict[str, RuleSet] = {}


def default_ruleset() -> RuleSet:
    """The packaged rule-set, loaded once per process."""
    found = _DEFAULT.get("packaged")
    if found is None:
        found = _DEFAULT["packaged"] = load_ruleset()
    return found
