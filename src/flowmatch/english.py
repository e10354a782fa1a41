"""The English twins of a rule-set's free texts (issue 17): a check, not a renderer.

The English notice prints each free text of the rule-set (a legal basis, a fee, an item's result and
note, an intermediary service, a material's condition, a help text, a not-applicable reason, ...) from
its ``*_en`` twin written next to the Chinese in the YAML; where a twin is missing it falls back to the
Chinese.  So that a rule edit cannot bring Chinese back into the English notice unnoticed,
``flowmatch check`` reports every free text without its twin, with file, line and column, in a
rule-set that declares English (``languages: [zh, en]`` in ``ruleset.yaml``).

The YAML is read again here (only by the check) for the position of each text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .checker import Finding
from .ruleset import RuleSet
from .yamlsrc import Document, Key, YamlError, format_path, read

ITEM_TEXTS = ("result", "note")
FEE_TEXTS = ("name", "basis", "standard", "status")
INTERMEDIARY_TEXTS = ("kind", "purpose")
MATERIAL_TEXTS = ("condition", "note")
CENTRE_TEXTS = ("name", "address", "window", "hours", "note")


def english_findings(ruleset: RuleSet) -> list[Finding]:
    """One ``english`` finding per free text without its ``*_en`` twin (none unless the rule-set
    declares English)."""
    if "en" not in ruleset.manifest.languages:
        return []
    out: list[Finding] = []
    root = ruleset.path
    files = [
        ("ruleset.yaml", _manifest),
        ("attributes.yaml", _attributes),
        ("items.yaml", _items),
        ("materials.yaml", _materials),
        ("situations.yaml", _situations),
    ]
    files += [(f"flowcharts/{p.name}", _flowchart) for p in sorted((root / "flowcharts").glob("*.yaml"))]
    for name, walk in files:
        doc = _read(root, name)
        if doc is None:
            continue
        for path, field in walk(doc.data):
            line, col = doc.where((*path, field))
            where = f"{doc.file}:{line}:{col}"
            dotted = format_path((*path, field))
            out.append(
                Finding(
                    "english",
                    f"{dotted} has no English ({field}_en); the English notice would print the Chinese text",
                    where=where,
                )
            )
    return out


def _read(root: Path, name: str) -> Document | None:
    path = root / name
    if not path.is_file():
        return None
    try:
        return read(path, f"{root.name}/{name}")
    except YamlError:  # the loader has reported it already; the rule-set would not have loaded
        return None


def _missing(entry: Any, path: Key, fields: tuple[str, ...]) -> Iterator[tuple[Key, str]]:
    """The ``fields`` of a mapping that have a text but no ``*_en`` twin."""
    if not isinstance(entry, Mapping):
        return
    for field in fields:
        value = entry.get(field)
        if value not in (None, "", []) and not entry.get(f"{field}_en"):
            yield path, field


def _entries(data: Any) -> Iterator[tuple[Any, Any]]:
    return iter(data.items()) if isinstance(data, Mapping) else iter(())


def _list(data: Any) -> list[Any]:
    return data if isinstance(data, list) else []


def _manifest(data: Any) -> Iterator[tuple[Key, str]]:
    yield from _missing(data, (), ("disclaimer",))
    yield from _missing(
        data.get("service_centre") if isinstance(data, Mapping) else None, ("service_centre",), CENTRE_TEXTS
    )


def _attributes(data: Any) -> Iterator[tuple[Key, str]]:
    attributes = data.get("attributes") if isinstance(data, Mapping) else None
    for aid, attr in _entries(attributes):
        yield from _missing(attr, ("attributes", aid), ("help",))
        values = attr.get("values") if isinstance(attr, Mapping) else None
        for vid, value in _entries(values):
            yield from _missing(value, ("attributes", aid, "values", vid), ("help",))
    flags = data.get("flags") if isinstance(data, Mapping) else None
    for fid, flag in _entries(flags):
        yield from _missing(flag, ("flags", fid), ("help",))


def _items(data: Any) -> Iterator[tuple[Key, str]]:
    for iid, item in _entries(data):
        if not isinstance(item, Mapping):
            continue
        yield from _missing(item, (iid,), ("legal_basis", *ITEM_TEXTS))
        yield from _missing(item.get("statutory"), (iid, "statutory"), ("note",))
        yield from _missing(item.get("commitment"), (iid, "commitment"), ("letter",))
        for n, fee in enumerate(_list(item.get("fees"))):
            yield from _missing(fee, (iid, "fees", n), FEE_TEXTS)
        for n, service in enumerate(_list(item.get("intermediaries"))):
            yield from _missing(service, (iid, "intermediaries", n), INTERMEDIARY_TEXTS)


def _materials(data: Any) -> Iterator[tuple[Key, str]]:
    for mid, material in _entries(data):
        yield from _missing(material, (mid,), MATERIAL_TEXTS)


def _situations(data: Any) -> Iterator[tuple[Key, str]]:
    rules = data.get("not_applicable") if isinstance(data, Mapping) else None
    for rid, rule in _entries(rules):
        yield from _missing(rule, ("not_applicable", rid), ("reason", "legal_basis"))


def _flowchart(data: Any) -> Iterator[tuple[Key, str]]:
    yield from _missing(data, (), ("description",))
