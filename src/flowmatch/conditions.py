"""Conditions: the closed vocabulary ``all / any / not / eq / in`` — no expression strings.

A condition in YAML is a one-key mapping::

    all: [cond, ...]            # every one holds
    any: [cond, ...]            # at least one holds
    not: cond                   # negation
    eq: {attribute: value, ...} # each attribute has that value (several keys = all of them)
    in: {attribute: [v1, v2]}   # each attribute has one of the values

Parsed conditions are small immutable trees.  They can be evaluated in three-valued logic over a
partial profile (``True``/``False``/``None`` = not yet known), compiled to bitsets over the whole
attribute space (used by the checker), and listed for the attributes they read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .yamlsrc import Key

OPERATORS = ("all", "any", "not", "eq", "in")

Value = str | bool


class ConditionError(ValueError):
    """A malformed condition; ``rel`` is the key path inside the condition."""

    def __init__(self, rel: Key, message: str) -> None:
        super().__init__(message)
        self.rel = rel


@dataclass(frozen=True)
class Cond:
    """A parsed condition node. ``rel`` is its key path inside the YAML condition."""

    op: str
    rel: Key
    children: tuple[Cond, ...] = ()
    attribute: str = ""
    values: frozenset[Value] = frozenset()

    # -- reading -----------------------------------------------------------------------------
    def attributes(self) -> Iterator[str]:
        if self.attribute:
            yield self.attribute
        for child in self.children:
            yield from child.attributes()

    def leaves(self) -> Iterator[Cond]:
        if self.op == "in":
            yield self
        for child in self.children:
            yield from child.leaves()

    # -- evaluation ----------------------------------------------------------------------------
    def holds(self, profile: Mapping[str, Any]) -> bool | None:
        """Three-valued truth over a partial profile (``None``: depends on a missing answer)."""
        if self.op == "in":
            if self.attribute not in profile:
                return None
            return profile[self.attribute] in self.values
        if self.op == "not":
            inner = self.children[0].holds(profile)
            return None if inner is None else not inner
        unknown = False
        want = self.op == "any"
        for child in self.children:
            got = child.holds(profile)
            if got is None:
                unknown = True
            elif got is want:
                return want
        return None if unknown else not want

    def bits(self, leaf_bits: Callable[[str, frozenset[Value]], int], full: int) -> int:
        """Compile to a bitset over an enumerated space, given the bitset of each leaf."""
        if self.op == "in":
            return leaf_bits(self.attribute, self.values)
        if self.op == "not":
            return full & ~self.children[0].bits(leaf_bits, full)
        parts = [child.bits(leaf_bits, full) for child in self.children]
        out = full if self.op == "all" else 0
        for part in parts:
            out = (out & part) if self.op == "all" else (out | part)
        return out


def parse(data: Any, rel: Key = ()) -> Cond:
    """Parse YAML data into a :class:`Cond`; raise :class:`ConditionError` on the first problem."""
    allowed = ", ".join(OPERATORS)
    if not isinstance(data, dict) or len(data) != 1:
        raise ConditionError(rel, f"a condition is a mapping with exactly one operator; allowed: {allowed}")
    ((op, arg),) = data.items()
    here = (*rel, op)
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(here, f"'{op}' takes a non-empty list of conditions")
        return Cond(op, rel, tuple(parse(item, (*here, i)) for i, item in enumerate(arg)))
    if op == "not":
        return Cond("not", rel, (parse(arg, here),))
    if op in ("eq", "in"):
        if not isinstance(arg, dict) or not arg:
            raise ConditionError(here, f"'{op}' takes a mapping of attribute to value")
        leaves = []
        for attribute, value in arg.items():
            key = (*here, attribute)
            if op == "eq":
                if isinstance(value, (list, dict)) or value is None:
                    raise ConditionError(key, "'eq' takes a single value; use 'in' for a list")
                values: frozenset[Value] = frozenset([value])
            else:
                if not isinstance(value, list) or not value:
                    raise ConditionError(key, "'in' takes a non-empty list of values")
                if any(isinstance(v, (list, dict)) or v is None for v in value):
                    raise ConditionError(key, "'in' values must be plain values")
                values = frozenset(value)
            leaves.append(Cond("in", key, attribute=str(attribute), values=values))
        return leaves[0] if len(leaves) == 1 else Cond("all", rel, tuple(leaves))
    raise ConditionError(here, f"unknown operator {op!r}; allowed: {allowed}")


def to_data(cond: Cond) -> Any:
    """The condition back as plain data (for JSON output)."""
    if cond.op == "in":
        values = sorted(cond.values, key=str)
        return {"eq": {cond.attribute: values[0]}} if len(values) == 1 else {"in": {cond.attribute: values}}
    if cond.op == "not":
        return {"not": to_data(cond.children[0])}
    return {cond.op: [to_data(child) for child in cond.children]}
