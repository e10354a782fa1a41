"""Loading a rule-set directory (private): parse every file, validate it against the models, collect
every problem with its ``file:line:col`` like a compiler, then cross-check (:mod:`flowmatch.crosscheck`).

Reached through :func:`flowmatch.ruleset.load_ruleset`; nothing else calls it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from . import conditions
from .crosscheck import _certificates, _cross_check, _doc_for, _four_stage_and_item_map
from .errors import Problem, RuleSetError
from .models import (
    AttributesFile,
    Department,
    Flowchart,
    Invariant,
    Item,
    Manifest,
    Material,
    NotApplicable,
    Situation,
)
from .ruleset import RuleSet
from .yamlsrc import Document, Key, YamlError, read

__all__ = ["load_directory"]

M = TypeVar("M", bound=BaseModel)


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


def load_directory(root: Path) -> RuleSet:
    """Parse, validate and cross-check the rule-set directory ``root``; :class:`RuleSetError` lists every problem."""
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
    ruleset = RuleSet(
        root,
        manifest,
        attributes,
        flags,
        situations,
        not_applicable,
        departments,
        items,
        materials,
        flowcharts,
        baseline,
        invariants,
        locations=locations,
    )
    # With a broken attributes file the conditions cannot be checked, but every other reference
    # still is: one broken file must not hide unrelated problems.
    _cross_check(c, ruleset, flow_docs, conditions_checkable=attrs_file is not None)
    item_map = _four_stage_and_item_map(c, ruleset, root)
    if item_map is not None:
        ruleset = replace(ruleset, item_map=item_map)
    certificates = _certificates(c, ruleset, root)
    if certificates is not None:
        ruleset = replace(ruleset, certificates=certificates)
    if c.problems:
        raise RuleSetError(c.problems)
    return ruleset


def _flowchart(c: _Collector, doc: Document, fid: str) -> Flowchart | None:
    data = dict(doc.data)
    if "id" in data:
        c.problems.append(doc.problem(("id",), "the flowchart id is the file name; do not repeat it"))
        return None
    steps = data.get("steps")
    if isinstance(steps, dict):
        data["steps"] = {k: ({"id": k, **v} if isinstance(v, dict) else v) for k, v in steps.items()}
    return c.model(doc, Flowchart, {"id": fid, **data})
