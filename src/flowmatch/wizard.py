"""The smart questionnaire: ask only what can still change the answer, in the best order.

:func:`next_question` takes the answers so far (a plain dict, attribute → value, where a value may
be :data:`UNSURE`) and returns either the next :class:`Question` or the :class:`Outcome`.  It is a
pure function: going back is simply calling it again with one answer changed or removed.

How the next question is chosen.  Every rule (situation or not-applicable rule) has a weight: its
``frequency`` from ``situations.yaml`` when given, else the mean of the given frequencies (1 when
none is given: uniform).  A rule's weight is spread evenly over the attribute combinations it
covers, which gives a probability for every answer.  The wizard minimises the *expected number of
further questions* exactly, by dynamic programming over states.  A state is canonicalised before
it is memoised: each still-possible rule's condition is simplified under the answers (known leaves
folded away), so the thousands of answer sets that leave the same residual problem share one
entry.  The whole tree without "unsure" answers is solved once per rule-set; states reached through
"unsure" answers are solved on first use and kept.  Should a future rule-set make the exact search
too large (more than :data:`STATE_BUDGET` residual states below one state), that state falls back to
one-step information gain.

"Unsure" (不确定) answers leave the attribute unknown and never ask it again; the wizard goes on with
the rest and, when nothing askable can narrow the answer further, ends with every still-possible
rule, each flowchart with its counted working days, so the applicant sees best and worst case.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .calendar import plain_days
from .checker import Space
from .conditions import Cond
from .errors import FlowmatchError, InputError
from .matcher import Invalid, MatchResult, matcher_for
from .ruleset import RuleSet, default_ruleset

if TYPE_CHECKING:
    from .calendar import WorkCalendar
    from .scheduler import Schedule

__all__ = ["UNSURE", "Candidate", "Option", "Outcome", "Question", "Wizard", "next_question", "plan", "wizard_for"]


def _opt_days(x: float | None) -> float | int | None:
    return None if x is None else plain_days(x)


UNSURE = "unsure"
"""The answer value meaning 不确定 / not sure; accepted for any question."""

UNSURE_LABEL = "不确定"
UNSURE_GLOSS = "Not sure"
STATE_BUDGET = 50_000
_EPS = 1e-9

OutcomeStatus = Literal["matched", "not_applicable", "undetermined", "invalid"]

# A condition in canonical, hashable form: ("in", attribute, values) / ("not", c) /
# ("all" | "any", frozenset of c).  Residual conditions after simplification are either
# such a tuple or ``True`` (``False`` means the rule is ruled out and is dropped).
Canon = tuple[Any, ...]
Residual = Canon | bool


@dataclass(frozen=True)
class Option:
    """One answer to a question."""

    value: str
    label: str
    gloss: str
    help: str | None = None
    not_applicable: tuple[str, ...] = ()
    """The not-applicable rules this answer can only end in (empty: it can lead to a flow)."""

    @property
    def leads_to_flow(self) -> bool:
        return not self.not_applicable

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "label": self.label,
            "gloss": self.gloss,
            "help": self.help,
            "not_applicable": list(self.not_applicable),
        }


@dataclass(frozen=True)
class Question:
    """The next question. ``options`` are the attribute's values; :data:`UNSURE` is always allowed."""

    attribute: str
    label: str
    gloss: str
    help: str
    options: tuple[Option, ...]
    number: int
    expected_remaining: float
    answered: tuple[tuple[str, str], ...]
    unsure: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "question",
            "attribute": self.attribute,
            "label": self.label,
            "gloss": self.gloss,
            "help": self.help,
            "options": [o.to_dict() for o in self.options],
            "unsure": {"value": UNSURE, "label": UNSURE_LABEL, "gloss": UNSURE_GLOSS},
            "number": self.number,
            "expected_remaining": round(self.expected_remaining, 3),
            "answered": dict(self.answered),
            "unsure_answers": list(self.unsure),
        }


@dataclass(frozen=True)
class Candidate:
    """A rule still possible at the end: a situation with its flowchart and working days, or a
    not-applicable rule.  ``share`` is its probability under the rule weights."""

    rule: str
    kind: Literal["situation", "not_applicable"]
    name: str
    share: float
    flowchart: str | None = None
    flowchart_name: str | None = None
    working_days: float | None = None
    elapsed_working_days: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "name": self.name,
            "share": round(self.share, 4),
            "flowchart": self.flowchart,
            "flowchart_name": self.flowchart_name,
            "working_days": _opt_days(self.working_days),
            "elapsed_working_days": _opt_days(self.elapsed_working_days),
        }


@dataclass(frozen=True)
class Outcome:
    """Where the questionnaire ends.

    ``matched`` / ``not_applicable``: ``result`` is the :class:`~flowmatch.matcher.MatchResult`.
    ``undetermined``: some answers were "unsure" and several rules remain; see ``candidates``.
    ``invalid``: the answers contain unknown attributes or values; see ``invalid``.
    """

    status: OutcomeStatus
    result: MatchResult | None = None
    candidates: tuple[Candidate, ...] = ()
    answered: tuple[tuple[str, str], ...] = ()
    unsure: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    invalid: tuple[Invalid, ...] = ()
    flags: Mapping[str, bool] = field(default_factory=dict)
    explanation: tuple[str, ...] = ()

    @property
    def situations(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.kind == "situation")

    @property
    def best(self) -> Candidate | None:
        """The still-possible flowchart with the fewest counted working days."""
        timed = [c for c in self.situations if c.working_days is not None]
        return min(timed, key=lambda c: (c.working_days, c.rule)) if timed else None

    @property
    def worst(self) -> Candidate | None:
        """The still-possible flowchart with the most counted working days."""
        timed = [c for c in self.situations if c.working_days is not None]
        return max(timed, key=lambda c: (c.working_days, c.rule)) if timed else None

    def to_dict(self) -> dict[str, Any]:
        best, worst = self.best, self.worst
        return {
            "type": "outcome",
            "status": self.status,
            "result": self.result.to_dict() if self.result is not None else None,
            "candidates": [c.to_dict() for c in self.candidates],
            "best": best.to_dict() if best else None,
            "worst": worst.to_dict() if worst else None,
            "answered": dict(self.answered),
            "unsure": list(self.unsure),
            "ignored": list(self.ignored),
            "invalid": [
                {"attribute": i.attribute, "problem": i.problem, "allowed": list(i.allowed)} for i in self.invalid
            ],
            "flags": dict(self.flags),
            "explanation": list(self.explanation),
        }


# --- conditions in canonical form ------------------------------------------------------------------
def _canon(cond: Cond) -> Canon:
    if cond.op == "in":
        return ("in", cond.attribute, frozenset(str(v) for v in cond.values))
    if cond.op == "not":
        return ("not", _canon(cond.children[0]))
    return (cond.op, frozenset(_canon(c) for c in cond.children))


def _simplify(tree: Residual, answers: Mapping[str, str]) -> Residual:
    """Fold the known answers into a condition; ``True``/``False`` when it is decided."""
    if isinstance(tree, bool):
        return tree
    op = tree[0]
    if op == "in":
        value = answers.get(tree[1])
        return tree if value is None else value in tree[2]
    if op == "not":
        inner = _simplify(tree[1], answers)
        return (not inner) if isinstance(inner, bool) else ("not", inner)
    want = op == "any"
    kept = set()
    for child in tree[1]:
        got = _simplify(child, answers)
        if got is want:
            return want
        if got is not (not want):
            kept.add(got)
    if not kept:
        return not want
    if len(kept) == 1:
        return next(iter(kept))
    return (op, frozenset(kept))


def _reads(tree: Residual) -> set[str]:
    if isinstance(tree, bool):
        return set()
    if tree[0] == "in":
        return {tree[1]}
    if tree[0] == "not":
        return _reads(tree[1])
    out: set[str] = set()
    for child in tree[1]:
        out |= _reads(child)
    return out


# --- the solver -----------------------------------------------------------------------------------
@dataclass
class _State:
    known: dict[str, str]
    unsure: frozenset[str]
    space: int
    residuals: dict[str, Residual]
    mass: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.mass.values())


class _OverBudget(Exception):
    pass


class Wizard:
    """A rule-set's questionnaire policy. Build once per rule-set with :func:`wizard_for`."""

    def __init__(self, ruleset: RuleSet, *, budget: int = STATE_BUDGET) -> None:
        self.ruleset = ruleset
        self.budget = budget
        self.order = list(ruleset.attributes)
        self._space = Space(ruleset)
        conds = {sid: s.when for sid, s in ruleset.situations.items()}
        conds.update({nid: n.when for nid, n in ruleset.not_applicable.items()})
        self._bits = {rid: c.bits(self._space.leaf_bits, self._space.full) for rid, c in conds.items()}
        self._size = {rid: b.bit_count() for rid, b in self._bits.items()}
        self._canon = {rid: _canon(c) for rid, c in conds.items()}
        self._reads = {rid: _reads(t) for rid, t in self._canon.items()}
        self.weights = self._weights()
        # a rule's weight spread evenly over the combinations it covers (rounded: part of memo keys)
        self._ratio = {rid: round(self.weights[rid] / self._size[rid], 15) for rid in self._bits}
        self._leaf = {
            (a, v): self._space.leaf_bits(a, frozenset([v])) for a in self.order for v in ruleset.attributes[a].values
        }
        self._unsure_ok = {a: UNSURE not in ruleset.attributes[a].values for a in self.order}
        self._memo: dict[Any, tuple[float, str | None]] = {}
        self._folds: dict[tuple[Residual, str, str], Residual] = {}
        self._read_memo: dict[Residual, frozenset[str]] = {}
        self._results: dict[tuple[str, tuple[tuple[str, str], ...]], MatchResult] = {}
        self._spent = 0
        self._bounds: dict[tuple[tuple[str, str], ...], tuple[int, int]] = {}
        self.greedy_states = 0
        root = self._state({}, frozenset())
        self.expected_questions = self._solve(root)[0]

    def _weights(self) -> dict[str, float]:
        given = [s.frequency for s in self.ruleset.situations.values() if s.frequency is not None]
        default = sum(given) / len(given) if given else 1.0
        out = {sid: (s.frequency if s.frequency is not None else default) for sid, s in self.ruleset.situations.items()}
        out.update({nid: default for nid in self.ruleset.not_applicable})
        return out

    # -- states ------------------------------------------------------------------------------------
    def _state(self, known: dict[str, str], unsure: frozenset[str]) -> _State:
        space = self._space.full
        for attribute, value in known.items():
            space &= self._leaf[(attribute, value)]
        residuals: dict[str, Residual] = {}
        mass: dict[str, float] = {}
        fold = self._fold
        for rid, tree in self._canon.items():
            residual: Residual = tree
            for attribute, value in known.items():
                residual = fold(residual, attribute, value)
                if residual is False:
                    break
            if residual is False:
                continue
            count = (self._bits[rid] & space).bit_count()
            if count:
                residuals[rid] = residual
                mass[rid] = self._ratio[rid] * count
        return _State(known, unsure, space, residuals, mass)

    def _child(self, state: _State, attribute: str, value: str) -> _State:
        space = state.space & self._leaf[(attribute, value)]
        residuals: dict[str, Residual] = {}
        mass: dict[str, float] = {}
        folds = self._folds
        bits = self._bits
        ratio = self._ratio
        for rid, residual in state.residuals.items():
            key = (residual, attribute, value)
            simplified = folds.get(key)
            if simplified is None:
                simplified = folds[key] = _simplify(residual, {attribute: value})
            if simplified is False:
                continue
            count = (bits[rid] & space).bit_count()
            if count:
                residuals[rid] = simplified
                mass[rid] = ratio[rid] * count
        return _State({**state.known, attribute: value}, state.unsure, space, residuals, mass)

    def _fold(self, residual: Residual, attribute: str, value: str) -> Residual:
        """``_simplify`` for one answer, memoised (the same residuals recur across states)."""
        key = (residual, attribute, value)
        found = self._folds.get(key)
        if found is None:
            found = self._folds[key] = _simplify(residual, {attribute: value})
        return found

    def _askable(self, state: _State) -> list[str]:
        return [a for a in self.order if a not in state.known and a not in state.unsure]

    def _key(self, state: _State) -> Any:
        askable = frozenset(self._askable(state))
        unknown = frozenset(state.unsure)
        residuals = state.residuals
        ratio = self._ratio
        return askable, unknown, frozenset([(residuals[r], ratio[r]) for r in state.mass])

    def _splits(self, state: _State) -> list[tuple[str, list[tuple[str, _State]]]]:
        """Candidate questions with their children: those that can change the set of possible
        rules; failing that (answers that matter only in combination), any attribute still read."""
        possible = set(state.mass)
        useful: list[tuple[str, list[tuple[str, _State]]]] = []
        read: list[tuple[str, list[tuple[str, _State]]]] = []
        reads: set[str] = set()
        for r in possible:
            residual = state.residuals[r]
            found = self._read_memo.get(residual)
            if found is None:
                found = self._read_memo[residual] = frozenset(_reads(residual))
            reads |= found
        for attribute in self._askable(state):
            if attribute not in reads:
                continue
            children = [(v, self._child(state, attribute, v)) for v in self.ruleset.attributes[attribute].values]
            if any(set(child.mass) != possible for _, child in children):
                useful.append((attribute, children))
            else:
                read.append((attribute, children))
        return useful or read

    def _solve(self, state: _State) -> tuple[float, str | None]:
        """Expected number of further questions from ``state`` and the question to ask."""
        if len(state.mass) <= 1:
            return 0.0, None
        key = self._key(state)
        found = self._memo.get(key)
        if found is not None:
            return found
        outer = self._spent == 0
        if outer:
            self._spent = 1
        try:
            best = self._exact(state)
        except _OverBudget:
            if not outer:
                raise
            best = self._greedy(state)
            self.greedy_states += 1
        finally:
            if outer:
                self._spent = 0
        self._memo[key] = best
        return best

    def _exact(self, state: _State) -> tuple[float, str | None]:
        self._spent += 1
        if self._spent > self.budget:
            raise _OverBudget
        total = state.total
        best: tuple[float, str | None] = (0.0, None)
        for attribute, children in self._splits(state):
            cost = 1.0
            for _, child in children:
                if child.mass:
                    cost += child.total / total * self._solve(child)[0]
            if best[1] is None or cost < best[0] - _EPS:
                best = (cost, attribute)
        return best

    def _greedy(self, state: _State) -> tuple[float, str | None]:
        """One-step information gain (ties: asking order); the cost is an entropy estimate."""
        total = state.total
        best: tuple[float, str | None] = (0.0, None)
        best_entropy = math.inf
        for attribute, children in self._splits(state):
            entropy = sum(child.total / total * _entropy(child.mass) for _, child in children if child.mass)
            if entropy < best_entropy - _EPS:
                best_entropy = entropy
                best = (1.0 + entropy / max(math.log2(len(children)), 1.0), attribute)
        return best

    # -- public ------------------------------------------------------------------------------------
    def next(self, answers: Mapping[str, Any]) -> Question | Outcome:
        """See :func:`next_question`."""
        if not isinstance(answers, Mapping):
            problem = f"answers are a mapping of attribute to value, got {type(answers).__name__}"
            return Outcome(
                "invalid", invalid=(Invalid("answers", None, problem, tuple(self.order)),), explanation=(problem,)
            )
        unsure = tuple(
            a
            for a, v in answers.items()
            if isinstance(a, str) and a in self.ruleset.attributes and v == UNSURE and self._unsure_ok[a]
        )
        rest = {k: v for k, v in answers.items() if k not in unsure}
        known, flags, bad = matcher_for(self.ruleset).validate(rest)
        if bad:
            return Outcome("invalid", invalid=bad, flags=flags, explanation=tuple(b.text() for b in bad))
        state = self._state(known, frozenset(unsure))
        answered = tuple((a, known[a]) for a in answers if a in known)
        if len(state.mass) == 1:
            return self._decided(next(iter(state.mass)), state, answered, flags)
        _, attribute = self._solve(state)
        if attribute is None:
            return self._undetermined(state, answered, flags)
        cost = self._memo.get(self._key(state), (0.0, None))[0]
        options = self._options(state, attribute)
        attr = self.ruleset.attributes[attribute]
        return Question(
            attribute,
            attr.label,
            attr.gloss,
            attr.help,
            options,
            len(answered) + len(unsure) + 1,
            cost,
            answered,
            unsure,
        )

    def _options(self, state: _State, attribute: str) -> tuple[Option, ...]:
        """The attribute's values, each with the not-applicable rules it can only end in."""
        rs = self.ruleset
        out = []
        for value, x in rs.attributes[attribute].values.items():
            child = self._child(state, attribute, value)
            dead: tuple[str, ...] = ()
            if child.mass and not any(r in rs.situations for r in child.mass):
                dead = tuple(sorted(child.mass, key=lambda r: (-child.mass[r], r)))
            out.append(Option(value, x.label, x.gloss, x.help, dead))
        return tuple(out)

    def options(self, answers: Mapping[str, str], attribute: str) -> tuple[Option, ...]:
        """``attribute``'s options given the other answers (``attribute``'s own answer left out),
        each marked with the not-applicable rules it can only end in — for changing an answer."""
        rest = {k: v for k, v in answers.items() if k != attribute and k in self.ruleset.attributes}
        unsure = frozenset(a for a, v in rest.items() if v == UNSURE and self._unsure_ok[a])
        known, _, bad = matcher_for(self.ruleset).validate({k: v for k, v in rest.items() if k not in unsure})
        if bad:
            raise InputError("; ".join(b.text() for b in bad))
        return self._options(self._state(known, unsure), attribute)

    def remaining(self, answers: Mapping[str, str]) -> tuple[int, int]:
        """The fewest and the most questions still to ask from ``answers`` (the next one included),
        over every sure answer to come: the most never grows as questions are answered."""
        key = tuple(sorted((k, v) for k, v in answers.items() if k in self.ruleset.attributes))
        found = self._bounds.get(key)
        if found is not None:
            return found
        step = self.next(dict(key))
        if not isinstance(step, Question):
            found = (0, 0)
        else:
            below = [self.remaining({**dict(key), step.attribute: v}) for v in step.values]
            found = (1 + min(b[0] for b in below), 1 + max(b[1] for b in below))
        self._bounds[key] = found
        return found

    def settling(self, answers: Mapping[str, str]) -> tuple[tuple[str, float], ...]:
        """For an undetermined outcome: each "not sure" attribute that can narrow the possible
        flows, with the expected number of flows left once it is answered — fewest first."""
        rs = self.ruleset
        unsure = frozenset(a for a, v in answers.items() if a in rs.attributes and v == UNSURE and self._unsure_ok[a])
        rest = {k: v for k, v in answers.items() if k not in unsure}
        known, _, bad = matcher_for(rs).validate(rest)
        if bad:
            raise InputError("; ".join(b.text() for b in bad))
        state = self._state(known, unsure)
        flows_now = {rs.situations[r].flowchart for r in state.mass if r in rs.situations}
        total = state.total
        out = []
        for attribute in (a for a in self.order if a in unsure):
            expected = 0.0
            changes = False
            for value in rs.attributes[attribute].values:
                child = self._child(state, attribute, value)
                flows = {rs.situations[r].flowchart for r in child.mass if r in rs.situations}
                changes = changes or flows != flows_now
                expected += child.total / total * len(flows) if total else 0.0
            if changes:
                out.append((attribute, expected))
        return tuple(sorted(out, key=lambda x: (x[1], self.order.index(x[0]))))

    def _decided(
        self, rid: str, state: _State, answered: tuple[tuple[str, str], ...], flags: dict[str, bool]
    ) -> Outcome:
        rs = self.ruleset
        matcher = matcher_for(rs)
        reads = self._reads[rid]
        assignment = {a: state.known[a] for a in self.order if a in state.known and a in reads}
        key = (rid, tuple(assignment.items()))
        base = self._results.get(key)
        if base is None:
            base = self._results[key] = matcher.result_for(rid, assignment)
        ignored = tuple(a for a, _ in answered if a not in reads)
        extra = [f"忽略 {a}={state.known[a]}：对本项目的流程选择不起作用" for a in ignored]
        extra += [f"“{rs.attributes[a].label}”答了不确定，但不影响流程的确定" for a in state.unsure]
        result = replace(base, ignored=ignored, flags=flags, explanation=base.explanation + tuple(extra))
        status: OutcomeStatus = "matched" if rid in rs.situations else "not_applicable"
        candidate = self._candidate(rid, 1.0, flags, state.known)
        return Outcome(
            status, result, (candidate,), answered, tuple(state.unsure), ignored, (), flags, result.explanation
        )

    def _undetermined(self, state: _State, answered: tuple[tuple[str, str], ...], flags: dict[str, bool]) -> Outcome:
        rs = self.ruleset
        total = state.total
        ranked = sorted(state.mass, key=lambda r: (r not in rs.situations, -state.mass[r], r))
        candidates = tuple(self._candidate(r, state.mass[r] / total, flags, state.known) for r in ranked)
        labels = "、".join(rs.attributes[a].label for a in state.unsure)
        lines = [f"因“{labels}”不确定，以下 {len(candidates)} 种结果都有可能："]
        for c in candidates:
            if c.kind == "situation":
                days = f"，{plain_days(c.working_days)} 个工作日" if c.working_days is not None else ""
                lines.append(f"可能 {c.rule} {c.name} → 流程图 {c.flowchart}{days}")
            else:
                lines.append(f"可能不适用（{c.rule}）：{c.name}")
        ignored = tuple(a for a, _ in answered if not any(a in self._reads[r] for r in state.mass))
        return Outcome(
            "undetermined", None, candidates, answered, tuple(state.unsure), ignored, (), flags, tuple(lines)
        )

    def _candidate(self, rid: str, share: float, flags: Mapping[str, bool], known: Mapping[str, str]) -> Candidate:
        rs = self.ruleset
        if rid in rs.not_applicable:
            return Candidate(rid, "not_applicable", rs.not_applicable[rid].reason, share)
        sit = rs.situations[rid]
        flow = rs.flowcharts[sit.flowchart]
        days, elapsed = _working_days(rs, rid, flags, known)
        return Candidate(rid, "situation", sit.name, share, sit.flowchart, flow.name, days, elapsed)

    def paths(self) -> Iterator[tuple[dict[str, str], Outcome]]:
        """Every path of the questionnaire without "unsure" answers: (answers, outcome)."""
        stack: list[dict[str, str]] = [{}]
        while stack:
            answers = stack.pop()
            step = self.next(answers)
            if isinstance(step, Outcome):
                yield answers, step
                continue
            for value in reversed(step.values):
                stack.append({**answers, step.attribute: value})

    def run(self, profile: Mapping[str, str]) -> tuple[tuple[str, ...], Question | Outcome]:
        """Answer the wizard's questions from a full profile: the attributes asked and the end."""
        answers: dict[str, str] = {}
        extras = {k: v for k, v in profile.items() if k not in self.ruleset.attributes}
        while True:
            step = self.next({**answers, **extras})
            if isinstance(step, Outcome) or step.attribute not in profile:
                return tuple(answers), step
            answers[step.attribute] = profile[step.attribute]


def _entropy(mass: Mapping[str, float]) -> float:
    total = sum(mass.values())
    return -sum(m / total * math.log2(m / total) for m in mass.values() if m > 0)


def _profile_attributes(rs: RuleSet) -> frozenset[str]:
    """Attributes that a step's or a material's condition reads (they can change a schedule)."""
    cache = rs.derived
    if cache.wizard_profile_attributes is None:
        conds = [s.when for f in rs.flowcharts.values() for s in f.steps.values() if s.when is not None]
        conds += [m.when for m in rs.materials.values() if m.when is not None]
        cache.wizard_profile_attributes = frozenset(a for c in conds for a in c.attributes() if a in rs.attributes)
    return cache.wizard_profile_attributes


def _working_days(
    rs: RuleSet, situation: str, flags: Mapping[str, bool], known: Mapping[str, str]
) -> tuple[float | None, float | None]:
    """Counted and elapsed working days of a situation's flowchart; ``None`` while it has no steps."""
    from .flows import for_situation
    from .scheduler import schedule

    relevant = _profile_attributes(rs)
    known = {k: v for k, v in known.items() if k in relevant}
    key = (situation, tuple(sorted(flags.items())), tuple(sorted(known.items())))
    days = rs.derived.wizard_days
    found = days.get(key)
    if found is None:
        try:
            flow = for_situation(rs, situation, flags=flags, profile=known)
            if not flow.pre_construction:
                found = (None, None)
            else:
                plan = schedule(flow, ruleset=rs)
                found = (plan.working_days, plan.elapsed_working_days)
        except (FlowmatchError, KeyError, ValueError):
            found = (None, None)
        days[key] = found
    return found


def plan(
    outcome: Outcome,
    start: dt.date | str | None = None,
    *,
    ruleset: RuleSet | None = None,
    calendar: WorkCalendar | None = None,
    mode: str = "standard",
) -> Schedule:
    """The schedule of a matched outcome: its situation's flowchart with the situation's variants,
    the outcome's flags and the answers applied (what the one-time notice is rendered from)."""
    from .flows import for_situation
    from .scheduler import schedule

    if outcome.status != "matched" or outcome.result is None or outcome.result.situation is None:
        raise InputError(f"only a matched outcome has a schedule; this one is {outcome.status}")
    rs = ruleset or default_ruleset()
    flow = for_situation(rs, outcome.result.situation, flags=outcome.flags, profile=dict(outcome.answered))
    return schedule(flow, start, calendar, mode, ruleset=rs)


def wizard_for(ruleset: RuleSet) -> Wizard:
    """The rule-set's wizard (solved on first use, then kept with the rule-set)."""
    cache = ruleset.derived
    if cache.wizard is None:
        cache.wizard = Wizard(ruleset)
    return cache.wizard


def next_question(answers: Mapping[str, Any], *, ruleset: RuleSet | None = None) -> Question | Outcome:
    """The next question to ask, or the outcome when nothing left can change the answer.

    ``answers`` maps attribute ids to value ids (or :data:`UNSURE`); flags (``removes_trees:
    true``) may be included and are passed on to the outcome.  Pure: the same answers always give
    the same result, so going back is calling it again with one answer changed.  Never raises on
    bad input: unknown attributes or values give an ``invalid`` outcome.
    """
    return wizard_for(ruleset or default_ruleset()).next(answers)
