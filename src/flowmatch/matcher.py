"""Matching a profile to its situation: compiled once into a decision tree, then walked.

The tree branches on one attribute at a time, always the earliest attribute (in the rule-set's
asking order) that some still-possible rule reads.  A node becomes a leaf as soon as one rule is
certainly true, so attributes that cannot change the answer are never asked and are reported as
ignored.  A match is a handful of dict lookups; nothing is evaluated from strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import FlowmatchError, InputError
from .ruleset import RuleSet, default_ruleset

Status = Literal["matched", "incomplete", "not_applicable", "invalid"]

_REMEMBER = 20_000  # results kept for repeated enquiries (a few MB at most)
_NO_FLAGS: Mapping[str, bool] = {}  # never written to
_TRUE_WORDS = {"true", "yes", "1", "y", "是", "on"}
_FALSE_WORDS = {"false", "no", "0", "n", "否", "off"}


@dataclass(frozen=True)
class Answer:
    """One answer that selected the result, with its labels."""

    attribute: str
    value: str
    label: str
    value_label: str

    def text(self) -> str:
        return f"{self.label} = {self.value_label}（{self.attribute}={self.value}）"


@dataclass(frozen=True)
class RuledOut:
    """A nearby situation excluded by one of the answers."""

    situation: str
    name: str
    attribute: str
    value: str
    needed: tuple[str, ...]

    def text(self, ruleset: RuleSet) -> str:
        attr = ruleset.attributes[self.attribute]
        got = attr.values[self.value].label
        need = "或".join(attr.values[v].label for v in self.needed)
        return f"排除 {self.situation} {self.name}：{attr.label}为“{got}”，该情形要求“{need}”"


@dataclass(frozen=True)
class Invalid:
    """One bad key or value in a profile."""

    attribute: str
    value: Any
    problem: str
    allowed: tuple[str, ...]

    def text(self) -> str:
        return f"{self.attribute}: {self.problem}; allowed: {', '.join(self.allowed)}"


@dataclass(frozen=True)
class MatchResult:
    """The answer for one profile. ``status`` says which of the other fields are filled."""

    status: Status
    situation: str | None = None
    flowchart: str | None = None
    category: str | None = None
    name: str | None = None
    selected_by: tuple[Answer, ...] = ()
    ruled_out: tuple[RuledOut, ...] = ()
    ignored: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    reason: str | None = None
    rule: str | None = None
    consider: str | None = None
    legal_basis: str | None = None
    invalid: tuple[Invalid, ...] = ()
    flags: Mapping[str, bool] = field(default_factory=dict)
    explanation: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "matched"

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §8 JSON shape (plus structured detail)."""
        return {
            "status": self.status,
            "situation": self.situation,
            "flowchart": self.flowchart,
            "category": self.category,
            "name": self.name,
            "explanation": list(self.explanation),
            "missing": list(self.missing),
            "reason": self.reason,
            "rule": self.rule,
            "consider": self.consider,
            "selected_by": {a.attribute: a.value for a in self.selected_by},
            "ruled_out": [
                {"situation": r.situation, "attribute": r.attribute, "value": r.value, "needed": list(r.needed)}
                for r in self.ruled_out
            ],
            "ignored": list(self.ignored),
            "invalid": [
                {
                    "attribute": i.attribute,
                    "value": _json_value(i.value),
                    "problem": i.problem,
                    "allowed": list(i.allowed),
                }
                for i in self.invalid
            ],
            "flags": dict(self.flags),
        }


def _json_value(value: Any) -> Any:
    """A value echoed back in :meth:`MatchResult.to_dict`: plain JSON only (no NaN or infinity,
    no objects; other values as their ``repr``, at most 80 characters)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if type(value) in (str, int, float, bool):
        return value
    return _safe_repr(value)


class Node:
    """A decision-tree node: either a branch on ``attribute`` or a leaf holding ``rules``."""

    __slots__ = ("assignment", "attribute", "children", "depth", "memo", "reachable", "rules")

    def __init__(self, assignment: dict[str, str], depth: int) -> None:
        self.assignment = assignment
        self.depth = depth
        self.attribute: str | None = None
        self.children: dict[str, Node] = {}
        self.rules: tuple[str, ...] = ()
        self.reachable: frozenset[str] = frozenset()
        # a leaf's result, its unasked attributes and the results of repeated enquiries (see _leaf)
        self.memo: tuple[MatchResult, tuple[str, ...], dict[tuple[str | None, ...], MatchResult]] | None = None


class Matcher:
    """A rule-set's situations compiled into a decision tree. Build once, match many times."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._conds = {sid: s.when for sid, s in ruleset.situations.items()}
        self._conds.update({nid: n.when for nid, n in ruleset.not_applicable.items()})
        self._reads = {rid: set(c.attributes()) for rid, c in self._conds.items()}
        self._order = list(ruleset.attributes)
        self.root = self._build({}, list(self._conds), 0)
        self._leaves_seen: list[Node] = []
        self._remembered = 0
        self._incomplete_results: dict[tuple[str, ...], MatchResult] = {}
        self._decided_results: dict[tuple[Any, ...], MatchResult] = {}
        # Fast path: a profile whose every (key, value) is a known attribute answer needs no
        # validation pass; the sentence for each ignorable answer is formatted once, here.
        self._pairs = frozenset((a, v) for a, attr in ruleset.attributes.items() for v in attr.values)
        self._ignored_lines = {
            (a, v): f"忽略 {a}={v}：对本项目的流程选择不起作用"
            for a, attr in ruleset.attributes.items()
            for v in attr.values
        }

    # -- compile -------------------------------------------------------------------------------
    def _build(self, assignment: dict[str, str], candidates: list[str], depth: int) -> Node:
        node = Node(assignment, depth)
        alive = []
        certain = []
        for rid in candidates:
            truth = self._conds[rid].holds(assignment)
            if truth is True:
                certain.append(rid)
            elif truth is None:
                alive.append(rid)
        if certain or not alive:
            node.rules = tuple(certain)
            node.reachable = frozenset(r for r in certain if r in self.ruleset.situations)
            return node
        needed = set().union(*(self._reads[rid] for rid in alive)) - set(assignment)
        attribute = next(a for a in self._order if a in needed)
        node.attribute = attribute
        reachable: set[str] = set()
        for value in self.ruleset.attributes[attribute].values:
            child = self._build({**assignment, attribute: value}, alive, depth + 1)
            node.children[value] = child
            reachable |= child.reachable
        node.reachable = frozenset(reachable)
        return node

    def nodes(self) -> list[Node]:
        """Every node of the tree, depth first."""
        out: list[Node] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(list(node.children.values())))
        return out

    # -- match ---------------------------------------------------------------------------------
    def validate(self, profile: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, bool], tuple[Invalid, ...]]:
        """Split a profile into attribute answers and flags, collecting every bad key or value."""
        rs = self.ruleset
        answers: dict[str, str] = {}
        flags: dict[str, bool] = {}
        bad: list[Invalid] = []
        # Only exact built-in values are compared or hashed: a str subclass is read as its text,
        # anything else is shown by its type, so no __eq__, __hash__ or __bool__ of the caller's runs.
        for raw_key, raw_value in list(profile.items()):
            key, value = _plain(raw_key), _plain(raw_value)
            attr = rs.attributes.get(key) if type(key) is str else None
            if attr is not None:
                if value is None or (type(value) is str and value == ""):
                    continue
                if type(value) is str and value in attr.values:
                    answers[key] = value
                else:
                    shown = _shown(value)
                    bad.append(Invalid(key, shown, f"unknown value {str(shown)[:80]!r}", tuple(attr.values)))
                continue
            if type(key) is str and key in rs.flags:
                parsed = as_bool(value)
                if parsed is None:
                    shown = _shown(value)
                    problem = f"flag {key} takes true or false, got {str(shown)[:80]!r}"
                    bad.append(Invalid(key, shown, problem, ("true", "false")))
                else:
                    flags[key] = parsed
                continue
            shown_key = key if type(key) is str else _safe_repr(key)
            bad.append(
                Invalid(
                    str(shown_key)[:80],
                    value if type(value) in (str, int, float, bool) else None,
                    f"unknown attribute {str(shown_key)[:80]!r}",
                    (*rs.attributes, *rs.flags),
                )
            )
        return answers, flags, tuple(bad)

    def match(self, profile: Mapping[str, Any]) -> MatchResult:
        """Match a (possibly partial) profile. Never raises on bad input: see ``status``."""
        if type(profile) is not dict and not isinstance(profile, Mapping):
            problem = f"a profile is a mapping of attribute to value, got {type(profile).__name__}"
            bad = Invalid("profile", None, problem, tuple(self.ruleset.attributes))
            return MatchResult("invalid", invalid=(bad,), explanation=(problem,))
        try:
            plain = type(profile) is dict and self._pairs.issuperset(profile.items())
        except Exception:  # an unhashable value, or one whose __hash__ or __eq__ raises: validate() names it
            plain = False
        if plain:  # only known attributes with known values: nothing to validate, no flags
            answers: Mapping[str, str] = profile
            flags: dict[str, bool] = {}
        else:
            try:
                answers, flags, bad = self.validate(profile)
            except Exception as exc:  # a mapping whose items() raises: invalid, never an exception
                problem = f"the profile could not be read: {type(exc).__name__} from its items()"
                bad = (Invalid("profile", None, problem, tuple(self.ruleset.attributes)),)
                return MatchResult("invalid", invalid=bad, explanation=(problem,))
            if bad:
                return MatchResult("invalid", invalid=bad, flags=flags, explanation=tuple(b.text() for b in bad))
        node = self.root
        get = answers.get
        attribute = node.attribute
        while attribute is not None:
            value = get(attribute)
            if value is None:
                rid = self._decided(node, answers)
                if rid is not None:  # the unanswered questions cannot change the answer
                    reads = self._reads[rid]
                    base = self.result_for(rid, {a: answers[a] for a in self._order if a in answers and a in reads})
                    return self._with_ignored(base, tuple(a for a in self._order if a not in reads), answers, flags)
                missing = self._missing(node, answers)
                if flags:
                    return _derive(self._incomplete(missing), flags=flags)
                return self._incomplete(missing)
            node = node.children[value]
            attribute = node.attribute
        memo = node.memo
        if memo is not None and not flags:  # the hot path of _leaf, inlined
            found = memo[2].get(tuple(map(get, memo[1])))
            if found is not None:
                return found
        return self._leaf(node, answers, flags)

    def leaf_parts(self, profile: Any) -> tuple[MatchResult, tuple[str, ...], tuple[str, ...]] | None:
        """For a batch (``flowmatch match -``): a profile that :meth:`match` answers from a leaf
        already reached before — only known attributes with known values, no flags, every question
        on its path answered — as the leaf's result, the ignored answers and their explanation lines
        (:meth:`ResultLines.derived_line` writes its line without building the derived result).
        None for any other profile: :meth:`match` answers it (and readies its leaf for the next)."""
        if type(profile) is not dict:
            return None
        try:
            if not self._pairs.issuperset(profile.items()):
                return None
        except Exception:  # an unhashable value, or one whose __hash__ or __eq__ raises: match() names it
            return None
        node = self.root
        get = profile.get
        attribute = node.attribute
        while attribute is not None:
            value = get(attribute)
            if value is None:
                return None
            node = node.children[value]
            attribute = node.attribute
        memo = node.memo
        if memo is None:
            return None
        base, free = memo[0], memo[1]
        ignored = tuple([a for a in free if a in profile])
        lines = self._ignored_lines
        return base, ignored, tuple([lines[a, profile[a]] for a in ignored])

    def _decided(self, node: Node, answers: Mapping[str, str]) -> str | None:
        """The one rule certainly true under these (partial) answers, if there is one.

        A certainly-true rule holds on every completion of the answers, so it is the rule of any one
        completion: walk the tree with the first value wherever an answer is missing, then evaluate
        just that rule (not every rule of the rule-set).  A leaf without exactly one rule (a rule-set
        that ``flowmatch check`` would reject) falls back to evaluating every rule."""
        probe = node
        while probe.attribute is not None:
            value = answers.get(probe.attribute)
            probe = probe.children[value] if value is not None else next(iter(probe.children.values()))
        if len(probe.rules) == 1:
            (rid,) = probe.rules
            return rid if self._conds[rid].holds(answers) is True else None
        decided = [rid for rid, cond in self._conds.items() if cond.holds(answers) is True]
        return decided[0] if len(decided) == 1 else None

    def _incomplete(self, missing: tuple[str, ...]) -> MatchResult:
        """The result asking for ``missing`` (built once per set of missing attributes)."""
        found = self._incomplete_results.get(missing)
        if found is None:
            labels = "、".join(f"{self.ruleset.attributes[a].label}（{a}）" for a in missing)
            found = MatchResult("incomplete", missing=missing, explanation=(f"还需回答：{labels}",))
            if len(self._incomplete_results) < _REMEMBER:
                self._incomplete_results[missing] = found
        return found

    def _missing(self, start: Node, answers: Mapping[str, str]) -> tuple[str, ...]:
        needed: set[str] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            if node.attribute is None:
                continue
            value = answers.get(node.attribute)
            if value is None:
                needed.add(node.attribute)
                stack.extend(node.children.values())
            else:
                stack.append(node.children[value])
        return tuple(a for a in self._order if a in needed)

    def _leaf(self, node: Node, answers: Mapping[str, str], flags: dict[str, bool]) -> MatchResult:
        if node.memo is None:
            # The result rests on the answers its rule reads, not on every answer the tree path
            # asked: the same profile must give the same result (and the same ignored answers)
            # whether or not the unread questions were answered (see the ``decided`` path above).
            if len(node.rules) != 1:
                self._leaf_result(node)  # raises: the rule-set gives no rule or several here
            (rid,) = node.rules
            reads = self._reads[rid]
            base = self.result_for(rid, {a: v for a, v in node.assignment.items() if a in reads})
            free = tuple(a for a in self._order if a not in reads)
            node.memo = (base, free, {})
            self._leaves_seen.append(node)
        base, free, seen = node.memo
        if flags:
            return self._with_ignored(base, free, answers, flags)
        # Results are immutable, so a repeated enquiry (same leaf, same ignored answers) gets the
        # result built the first time; the memory this takes is bounded by _REMEMBER.
        key = tuple(map(answers.get, free))
        found = seen.get(key)
        if found is None:
            found = self._with_ignored(base, free, answers, flags)
            self._remembered += 1
            if self._remembered > _REMEMBER:
                for leaf in self._leaves_seen:
                    assert leaf.memo is not None
                    leaf.memo[2].clear()
                self._remembered = 1
            seen[key] = found
        return found

    def _with_ignored(
        self, base: MatchResult, free: tuple[str, ...], answers: Mapping[str, str], flags: dict[str, bool]
    ) -> MatchResult:
        ignored = tuple([a for a in free if a in answers])
        if not ignored and not flags:
            return base
        lines = self._ignored_lines
        extra = tuple([lines[a, answers[a]] for a in ignored])
        return _derive(base, ignored=ignored, flags=flags, explanation=base.explanation + extra)

    def result_for(self, rule: str, assignment: Mapping[str, str]) -> MatchResult:
        """The result (with its explanation) of ``rule`` decided by these answers (built once)."""
        key = (rule, *assignment.items())
        found = self._decided_results.get(key)
        if found is None:
            node = Node(dict(assignment), 0)
            node.rules = (rule,)
            found = self._leaf_result(node)
            if len(self._decided_results) < _REMEMBER:
                self._decided_results[key] = found
        return found

    def _leaf_result(self, node: Node) -> MatchResult:
        rs = self.ruleset
        if len(node.rules) != 1:
            what = "no rule" if not node.rules else "several rules (" + ", ".join(node.rules) + ")"
            raise FlowmatchError(f"the rule-set gives {what} for {dict(node.assignment)}; run 'flowmatch check'")
        (rid,) = node.rules
        selected = tuple(
            Answer(a, v, rs.attributes[a].label, rs.attributes[a].values[v].label) for a, v in node.assignment.items()
        )
        because = [f"依据：{a.text()}" for a in selected]
        if rid in rs.situations:
            sit = rs.situations[rid]
            ruled_out = self._ruled_out(rid, node.assignment)
            lines = [f"选定 {rid} {sit.name} → 流程图 {sit.flowchart}", *because, *(r.text(rs) for r in ruled_out)]
            return MatchResult(
                "matched",
                situation=rid,
                flowchart=sit.flowchart,
                category=rs.flowcharts[sit.flowchart].category,
                name=sit.name,
                selected_by=selected,
                ruled_out=ruled_out,
                explanation=tuple(lines),
            )
        rule = rs.not_applicable[rid]
        lines = [f"不适用（{rid}）：{rule.reason}", *because]
        if rule.consider:
            lines.append(f"可考虑：{rule.consider} {rs.situations[rule.consider].name}")
        return MatchResult(
            "not_applicable",
            rule=rid,
            reason=rule.reason,
            consider=rule.consider,
            legal_basis=rule.legal_basis,
            selected_by=selected,
            explanation=tuple(lines),
        )

    def _ruled_out(self, target: str, assignment: Mapping[str, str]) -> tuple[RuledOut, ...]:
        """Nearby situations: one different answer would have selected them (or, in the same
        category, made them possible)."""
        rs = self.ruleset
        category = rs.category_of(target)
        out = []
        for sid, sit in rs.situations.items():
            if sid == target:
                continue
            want = None if rs.category_of(sid) == category else True
            decisive = []
            for attribute in assignment:
                rest = {a: v for a, v in assignment.items() if a != attribute}
                if sit.when.holds(rest) is not False:
                    decisive.append(attribute)
            if len(decisive) != 1:
                continue
            (attribute,) = decisive
            needed = tuple(
                v
                for v in rs.attributes[attribute].values
                if sit.when.holds({**assignment, attribute: v}) in (True, want)
            )
            if needed:
                out.append(RuledOut(sid, sit.name, attribute, assignment[attribute], needed))
        return tuple(out)


class ResultLines:
    """Results as JSON Lines, byte for byte ``json.dumps({"line": n, **result.to_dict()}, ensure_ascii=False)``.

    A batch of distinct profiles yields mostly distinct result objects that share their parts (the
    rule's answers, the ruled-out neighbours, the explanation lines), so each part is encoded once
    and the line is joined from the encoded parts.  Invalid results take ``json.dumps`` as they are."""

    _LIMIT = 200_000  # encoded parts kept (a few tens of MB at most), then the cache starts again

    def __init__(self) -> None:
        self._text: dict[Any, str] = {}
        self._parts: dict[tuple[Any, ...], tuple[Any, Any, str, str]] = {}

    def _s(self, value: str | None) -> str:
        found = self._text.get(value)
        if found is None:
            found = self._text[value] = json.dumps(value, ensure_ascii=False)
        return found

    def _strings(self, values: tuple[str, ...]) -> str:
        return "[" + ", ".join(map(self._s, values)) + "]"

    def _selected(self, answers: tuple[Answer, ...]) -> str:
        s = self._s
        return "{" + ", ".join(f"{s(a.attribute)}: {s(a.value)}" for a in answers) + "}"

    def _ruled_out(self, rows: tuple[RuledOut, ...]) -> str:
        s = self._s
        return (
            "["
            + ", ".join(
                f'{{"situation": {s(r.situation)}, "attribute": {s(r.attribute)}, "value": {s(r.value)}, '
                f'"needed": {self._strings(r.needed)}}}'
                for r in rows
            )
            + "]"
        )

    def line(self, number: int, result: MatchResult) -> str:
        """One output line (with its newline)."""
        if result.invalid or result.status == "invalid":
            return json.dumps({"line": number, **result.to_dict()}, ensure_ascii=False) + "\n"
        return self._line(number, result, result.ignored, result.explanation, result.flags)

    def derived_line(self, number: int, base: MatchResult, ignored: tuple[str, ...], extra: tuple[str, ...]) -> str:
        """The line of ``base`` (a rule's result: neither invalid nor with ignored answers) with
        ``ignored`` answers, their explanation lines ``extra`` and no flags — what :meth:`line` writes
        for the result :meth:`Matcher.match` derives so (:meth:`Matcher.leaf_parts`), without it."""
        return self._line(number, base, ignored, base.explanation + extra, _NO_FLAGS)

    def _line(
        self,
        number: int,
        result: MatchResult,
        ignored: tuple[str, ...],
        explanation: tuple[str, ...],
        flags: Mapping[str, bool],
    ) -> str:
        """``result``'s line with these ignored answers, explanation and flags (the rest its own)."""
        if len(self._text) > self._LIMIT or len(self._parts) > self._LIMIT:
            self._text.clear()
            self._parts.clear()
        s = self._s
        own = len(explanation) - len(ignored)  # the rule's own lines; then one line per ignored answer
        # Results derived from one rule's result share its answer and neighbour tuples (by identity):
        # everything but the ignored answers and the flags is encoded once per such family.
        key = (id(result.selected_by), id(result.ruled_out), result.status, result.missing, own)
        found = self._parts.get(key)
        if found is None or found[0] is not result.selected_by or found[1] is not result.ruled_out:
            head = (
                f'"status": {s(result.status)}, "situation": {s(result.situation)}, '
                f'"flowchart": {s(result.flowchart)}, "category": {s(result.category)}, "name": {s(result.name)}, '
                f'"explanation": [{", ".join(map(s, explanation[:own]))}'
            )
            tail = (
                f'], "missing": {self._strings(result.missing)}, "reason": {s(result.reason)}, '
                f'"rule": {s(result.rule)}, "consider": {s(result.consider)}, '
                f'"selected_by": {self._selected(result.selected_by)}, '
                f'"ruled_out": {self._ruled_out(result.ruled_out)}, "ignored": '
            )
            found = self._parts[key] = (result.selected_by, result.ruled_out, head, tail)
        head, tail = found[2], found[3]
        if ignored:
            extra = ", ".join(self._each(explanation[own:]))
            head = f"{head}, {extra}" if own else head + extra
            listed = f"[{', '.join(self._each(ignored))}]"
        else:
            listed = "[]"
        if flags:
            pairs = ", ".join(f"{s(k)}: {'true' if v else 'false'}" for k, v in flags.items())
            return f'{{"line": {number}, {head}{tail}{listed}, "invalid": [], "flags": {{{pairs}}}}}\n'
        return f'{{"line": {number}, {head}{tail}{listed}, "invalid": [], "flags": {{}}}}\n'

    def _each(self, values: tuple[str, ...]) -> Iterable[str]:
        """``values`` encoded, by one C-level look-up each when all were encoded before."""
        try:
            return list(map(self._text.__getitem__, values))
        except KeyError:
            return list(map(self._s, values))


def _derive(
    base: MatchResult,
    *,
    ignored: tuple[str, ...] | None = None,
    flags: Mapping[str, bool] | None = None,
    explanation: tuple[str, ...] | None = None,
) -> MatchResult:
    """``base`` with the ignored answers, flags or explanation of one enquiry: a new frozen result
    (``dataclasses.replace`` without its per-field ``object.__setattr__``: a batch derives one per
    profile; :class:`MatchResult` has no ``__post_init__``).  Nothing writes into ``base``."""
    out: MatchResult = object.__new__(MatchResult)
    state = out.__dict__
    state.update(base.__dict__)
    if ignored is not None:
        state["ignored"] = ignored
    if flags is not None:
        state["flags"] = flags
    if explanation is not None:
        state["explanation"] = explanation
    return out


def _plain(value: Any) -> Any:
    """A str subclass as its plain text (``str.__str__`` ignores overrides); anything else as is."""
    return str.__str__(value) if isinstance(value, str) and type(value) is not str else value


def _shown(value: Any) -> Any:
    """A bad value as an :class:`Invalid` keeps it: plain JSON types as they are, others by type name."""
    return value if type(value) in (str, int, float, bool) else type(value).__name__


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:80]
    except Exception:  # a repr that raises
        return f"<{type(value).__name__}>"


def as_bool(value: Any) -> bool | None:
    """A flag value: a bool, or one of the true/false words (true yes 1 y 是 on / false no 0 n 否 off)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def matcher_for(ruleset: RuleSet) -> Matcher:
    """The rule-set's compiled matcher (built on first use, then kept with the rule-set)."""
    cache = ruleset.derived
    if cache.matcher is None:
        cache.matcher = Matcher(ruleset)
    return cache.matcher


def match(profile: Mapping[str, Any], *, ruleset: RuleSet | None = None) -> MatchResult:
    """Match a profile against a rule-set (default: the packaged one)."""
    return matcher_for(ruleset or default_ruleset()).match(profile)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``k=v`` command-line pairs to a profile; a pair without ``=`` is an input error."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"expected attribute=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
