"""The smart questionnaire (flowmatch.wizard), checked against an independent oracle.

The oracle is the checker's enumeration of the attribute space: every rule compiles to a bitset
over all combinations, so "which rules are still possible after these answers" is an AND and a
few bit tests.  The tests are generated from the rule-set: every option of every question, every
full profile, and an "unsure" answer at every question of the tree.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from flowmatch.checker import Space
from flowmatch.errors import InputError
from flowmatch.matcher import matcher_for
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.wizard import UNSURE, Outcome, Question, Wizard, next_question, plan, wizard_for

FIXTURE = Path(__file__).parent / "fixtures" / "find-rules"


class Oracle:
    """Still-possible rules by bitsets over the whole attribute space."""

    def __init__(self, rs: RuleSet) -> None:
        self.rs = rs
        self.space = Space(rs)
        conds = {sid: s.when for sid, s in rs.situations.items()}
        conds.update({nid: n.when for nid, n in rs.not_applicable.items()})
        self.bits = {rid: c.bits(self.space.leaf_bits, self.space.full) for rid, c in conds.items()}

    def consistent(self, answers: Mapping[str, str]) -> int:
        out = self.space.full
        for attribute, value in answers.items():
            if attribute in self.rs.attributes and value != UNSURE:
                out &= self.space.leaf_bits(attribute, frozenset([value]))
        return out

    def possible(self, answers: Mapping[str, str]) -> set[str]:
        cons = self.consistent(answers)
        return {rid for rid, b in self.bits.items() if b & cons}

    def can_change(self, answers: Mapping[str, str], attribute: str) -> bool:
        before = self.possible(answers)
        return any(self.possible({**answers, attribute: v}) != before for v in self.rs.attributes[attribute].values)


def _rule(outcome: Outcome) -> str:
    assert outcome.result is not None
    rule = outcome.result.situation or outcome.result.rule
    assert rule is not None
    return rule


@pytest.fixture(scope="module")
def wizard(ruleset: RuleSet) -> Wizard:
    return wizard_for(ruleset)


@pytest.fixture(scope="module")
def oracle(ruleset: RuleSet) -> Oracle:
    return Oracle(ruleset)


@pytest.fixture(scope="module")
def tree(wizard: Wizard) -> list[tuple[dict[str, str], Outcome]]:
    return list(wizard.paths())


# --- every option of every question ---------------------------------------------------------------------
def test_every_option_reaches_the_right_next_question_or_outcome(wizard: Wizard, oracle: Oracle) -> None:
    stack: list[dict[str, str]] = [{}]
    questions = outcomes = 0
    while stack:
        answers = stack.pop()
        step = wizard.next(answers)
        if isinstance(step, Outcome):
            outcomes += 1
            assert step.status in ("matched", "not_applicable")
            assert oracle.possible(answers) == {_rule(step)}, answers
            continue
        questions += 1
        assert step.attribute not in answers
        assert oracle.can_change(answers, step.attribute), (answers, step.attribute)
        assert len(oracle.possible(answers)) > 1
        assert step.number == len(answers) + 1
        assert step.values == tuple(wizard.ruleset.attributes[step.attribute].values)
        stack.extend({**answers, step.attribute: value} for value in step.values)
    assert outcomes > len(wizard.ruleset.situations) and questions > 0


def test_every_situation_and_rule_is_reachable(tree: list[tuple[dict[str, str], Outcome]], ruleset: RuleSet) -> None:
    reached = {_rule(outcome) for _, outcome in tree}
    assert reached == set(ruleset.situations) | set(ruleset.not_applicable)


def test_wizard_and_matcher_agree_on_every_full_profile(
    tree: list[tuple[dict[str, str], Outcome]], ruleset: RuleSet, oracle: Oracle
) -> None:
    trie: dict[str, Any] = {}
    for answers, outcome in tree:
        node = trie
        for attribute, value in answers.items():
            node.setdefault("ask", attribute)
            assert node["ask"] == attribute, "the wizard is a tree: one question per node"
            node = node.setdefault(value, {})
        node["rule"] = _rule(outcome)
    matcher = matcher_for(ruleset)
    space = oracle.space
    for index in range(space.size):
        profile = space.profile(index)
        node = trie
        asked = 0
        while "rule" not in node:
            node = node[profile[node["ask"]]]
            asked += 1
        walk = matcher.root
        while walk.attribute is not None:
            walk = walk.children[profile[walk.attribute]]
        assert walk.rules == (node["rule"],), profile
        assert asked <= len(space.attributes)
    # and through the public API, for a sample spread over the whole space
    for index in range(0, space.size, 997):
        profile = space.profile(index)
        asked_attrs, end = wizard_for(ruleset).run(profile)
        assert isinstance(end, Outcome)
        result = matcher.match(profile)
        assert _rule(end) == (result.situation or result.rule)
        assert set(asked_attrs) <= set(profile)


def test_unsure_at_any_question_ends_with_the_right_candidates(
    tree: list[tuple[dict[str, str], Outcome]], wizard: Wizard, oracle: Oracle
) -> None:
    starts: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for answers, _ in tree:
        keys = list(answers)
        for i, attribute in enumerate(keys):
            prefix = (*((k, answers[k]) for k in keys[:i]), (attribute, UNSURE))
            starts.setdefault(prefix, answers)
    checked = 0
    for prefix, full in starts.items():
        answers = dict(prefix)
        completion = {**oracle.space.profile(0), **full}
        while True:
            step = wizard.next(answers)
            if isinstance(step, Outcome):
                break
            assert step.attribute not in answers
            answers[step.attribute] = completion[step.attribute]
        known = {k: v for k, v in answers.items() if v != UNSURE}
        possible = oracle.possible(known)
        assert {c.rule for c in step.candidates} == possible, answers
        unsure = [k for k, v in answers.items() if v == UNSURE]
        assert list(step.unsure) == unsure
        askable = [a for a in wizard.ruleset.attributes if a not in answers]
        assert not any(oracle.can_change(known, a) for a in askable), "stopped while a question could still help"
        if len(possible) == 1:
            assert step.status in ("matched", "not_applicable")
        else:
            assert step.status == "undetermined"
            assert abs(sum(c.share for c in step.candidates) - 1) < 1e-9
        checked += 1
    assert checked == len(starts) > 20


def test_unsure_outcome_lists_flowcharts_with_best_and_worst_case(ruleset: RuleSet) -> None:
    answers = {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "tender_auction_listing",
        "regime": "filing",
        "building_use": UNSURE,
    }
    out = next_question(answers, ruleset=ruleset)
    assert isinstance(out, Outcome) and out.status == "undetermined"
    sits = {c.rule for c in out.situations}
    assert sits == {"S10", "S11", "S12"}
    assert {c.rule for c in out.candidates} - sits == {"NA07", "NA08", "NA09"}
    assert out.explanation[0] == f"因“建设用途”不确定，以下 {len(out.candidates)} 种结果都有可能："
    timed = [c for c in out.situations if c.working_days is not None]
    if timed:  # the catalog has steps: best and worst case come from the scheduler
        assert out.best is not None and out.worst is not None
        assert out.best.working_days == min(c.working_days for c in timed if c.working_days is not None)
        assert out.worst.working_days == max(c.working_days for c in timed if c.working_days is not None)
    data = out.to_dict()
    assert data["status"] == "undetermined" and data["unsure"] == ["building_use"]


def test_unsure_that_does_not_matter_still_matches(ruleset: RuleSet) -> None:
    out = next_question({"kind": "pipeline", "investor": UNSURE}, ruleset=ruleset)
    assert isinstance(out, Outcome) and out.status == "matched" and out.result is not None
    assert out.result.situation == "S32"
    assert "“出资人”答了不确定，但不影响流程的确定" in out.explanation


# --- behaviour ---------------------------------------------------------------------------------------------
def test_first_question_and_questions_are_typed(ruleset: RuleSet) -> None:
    q = next_question({}, ruleset=ruleset)
    assert isinstance(q, Question)
    assert q.attribute == "kind" and q.number == 1 and q.label == "工程类别"
    assert q.expected_remaining > 1
    assert [o.value for o in q.options] == list(ruleset.attributes["kind"].values)
    data = q.to_dict()
    assert data["unsure"] == {"value": "unsure", "label": "不确定", "gloss": "Not sure"}


def test_asks_fewer_questions_than_fixed_order_and_full_form(wizard: Wizard, ruleset: RuleSet) -> None:
    matcher = matcher_for(ruleset)
    mass = dict(wizard.weights)
    fixed = 0.0
    for node in matcher.nodes():
        if node.attribute is None and node.rules:
            # the matcher's fixed order asks len(assignment) questions to reach this leaf
            share = _leaf_share(wizard, node.assignment, node.rules[0])
            fixed += share * len(node.assignment)
    total = sum(mass.values())
    assert wizard.expected_questions <= fixed / total + 1e-9
    assert wizard.expected_questions < len(ruleset.attributes)


def _leaf_share(wizard: Wizard, assignment: Mapping[str, str], rule: str) -> float:
    state = wizard._state(dict(assignment), frozenset())
    return state.mass.get(rule, 0.0)


def test_going_back_changes_one_answer_and_keeps_the_others(ruleset: RuleSet) -> None:
    answers = {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "tender_auction_listing",
        "regime": "filing",
        "building_use": "commercial_housing",
    }
    first = next_question(answers, ruleset=ruleset)
    assert isinstance(first, Outcome) and first.result is not None and first.result.situation == "S10"
    changed = {**answers, "acquisition": "allocation_new"}
    again = next_question(changed, ruleset=ruleset)
    assert isinstance(again, Outcome) and again.result is not None
    assert again.result.rule == "NA05" and again.result.consider == "S10"
    assert dict(again.answered) == changed
    assert answers["acquisition"] == "tender_auction_listing", "the function is pure: input untouched"
    assert next_question(changed, ruleset=ruleset) == again
    dropped = {k: v for k, v in answers.items() if k != "investor"}
    q = next_question(dropped, ruleset=ruleset)
    assert isinstance(q, Question) and q.attribute == "investor"


def test_irrelevant_answers_are_reported_as_ignored(ruleset: RuleSet) -> None:
    out = next_question(
        {"kind": "road_bridge", "land_nature": "collective", "management": "self_built"}, ruleset=ruleset
    )
    assert isinstance(out, Outcome) and out.status == "matched"
    assert out.ignored == ("land_nature", "management")
    assert "忽略 management=self_built：对本项目的流程选择不起作用" in out.explanation


def test_flags_are_passed_to_the_outcome(ruleset: RuleSet) -> None:
    out = next_question({"kind": "station", "removes_trees": "true"}, ruleset=ruleset)
    assert isinstance(out, Outcome) and out.flags == {"removes_trees": True}
    schedule = plan(out, None, ruleset=ruleset)
    assert schedule.flowchart == "F27"


def test_invalid_answers_give_an_invalid_outcome_never_an_exception(ruleset: RuleSet) -> None:
    out = next_question({"kind": "castle", "colour": "red"}, ruleset=ruleset)
    assert isinstance(out, Outcome) and out.status == "invalid"
    texts = [i.text() for i in out.invalid]
    assert texts[0] == "kind: unknown value 'castle'; allowed: building, road_bridge, pipeline, station"
    assert texts[1].startswith("colour: unknown attribute 'colour'; allowed: kind, land_nature")
    bad = next_question(["kind"], ruleset=ruleset)  # type: ignore[arg-type]
    assert isinstance(bad, Outcome) and bad.status == "invalid"
    assert bad.explanation == ("answers are a mapping of attribute to value, got list",)
    flag = next_question({"removes_trees": "maybe"}, ruleset=ruleset)
    assert isinstance(flag, Outcome)
    assert flag.explanation == (
        "removes_trees: flag removes_trees takes true or false, got 'maybe'; allowed: true, false",
    )


def test_plan_needs_a_matched_outcome(ruleset: RuleSet) -> None:
    out = next_question(
        {"kind": "building", "land_nature": "collective", "building_use": "industrial"}, ruleset=ruleset
    )
    assert isinstance(out, Outcome) and out.status == "not_applicable"
    with pytest.raises(InputError, match="only a matched outcome has a schedule; this one is not_applicable"):
        plan(out, None, ruleset=ruleset)


# --- a small rule-set where the asking order is not the best one -------------------------------------------
@pytest.fixture(scope="module")
def small() -> RuleSet:
    return load_ruleset(FIXTURE, cache=False)


def test_small_ruleset_asks_the_decisive_question_first(small: RuleSet) -> None:
    q = next_question({}, ruleset=small)
    assert isinstance(q, Question) and q.attribute == "use", "size comes first in the file but decides less"
    out = next_question({"use": "factory"}, ruleset=small)
    assert isinstance(out, Outcome) and out.result is not None and out.result.situation == "S3"
    # the matcher's fixed order would ask size first, but answers that already decide a rule win
    assert matcher_for(small).match({"use": "factory"}).situation == "S3"
    w = wizard_for(small)
    # S1 and S2 (frequencies 4 and 2) and S5, NA1 need two questions; S3, S4 one (weights: mean 3)
    weights = {"S1": 4.0, "S2": 2.0, "S3": 3.0, "S4": 3.0, "S5": 3.0, "NA1": 3.0}
    assert w.weights == weights
    expected = (2 * (4 + 2 + 3 + 3) + 1 * (3 + 3)) / sum(weights.values())
    assert abs(w.expected_questions - expected) < 1e-9


def test_small_ruleset_shares_follow_the_frequencies(small: RuleSet) -> None:
    out = next_question({"use": "housing", "size": UNSURE}, ruleset=small)
    assert isinstance(out, Outcome) and out.status == "undetermined"
    shares = {c.rule: round(c.share, 6) for c in out.candidates}
    assert shares == {"S1": round(4 / 6, 6), "S2": round(2 / 6, 6)}
    assert out.best is not None and out.worst is not None
    assert (out.best.rule, out.best.working_days) == ("S1", 8.0)
    assert (out.worst.rule, out.worst.working_days) == ("S2", 18.0)


def test_budget_fallback_still_reaches_the_right_outcomes(small: RuleSet, ruleset: RuleSet) -> None:
    w = Wizard(small, budget=1)
    assert w.greedy_states > 0
    oracle = Oracle(small)
    for answers, outcome in w.paths():
        assert oracle.possible(answers) == {_rule(outcome)}
    big = Wizard(ruleset, budget=3)  # information gain instead of the exact search: still right
    assert big.greedy_states > 0
    space = Space(ruleset)
    matcher = matcher_for(ruleset)
    for index in range(0, space.size, 1999):
        profile = space.profile(index)
        _, end = big.run(profile)
        result = matcher.match(profile)
        assert isinstance(end, Outcome) and _rule(end) == (result.situation or result.rule)


# --- issue 17: options that lead nowhere, stable question counts, what settles an unsure answer ------------
def test_options_marked_as_leading_nowhere_really_do(wizard: Wizard, ruleset: RuleSet) -> None:
    """An option is marked with not-applicable rules exactly when every path below it ends in one."""
    stack: list[dict[str, str]] = [{}]
    marked = 0
    while stack:
        answers = stack.pop()
        step = wizard.next(answers)
        if isinstance(step, Outcome):
            continue
        for option in step.options:
            below = {**answers, step.attribute: option.value}
            ends = (
                {_rule(o) for a, o in wizard.paths() if all(a.get(k) == v for k, v in below.items())}
                if option.not_applicable
                else set()
            )
            if option.not_applicable:
                marked += 1
                assert ends and all(e in ruleset.not_applicable for e in ends), (below, ends)
                assert set(option.not_applicable) >= ends
            else:
                stack.append(below)
    assert marked >= 5  # e.g. commercial housing on collective land


def test_question_counts_never_grow(wizard: Wizard, tree: list[tuple[dict[str, str], Outcome]]) -> None:
    for answers, _ in tree:
        keys = list(answers)
        bounds = [wizard.remaining({k: answers[k] for k in keys[:i]}) for i in range(len(keys) + 1)]
        for (lo, hi), (lo2, hi2) in itertools.pairwise(bounds):
            assert hi2 <= hi - 1 and lo2 >= lo - 1 and lo <= hi
        assert bounds[-1] == (0, 0)
    assert wizard.remaining({}) == (1, max(len(a) for a, _ in tree))


def test_settling_orders_unsure_answers_by_what_they_settle(wizard: Wizard) -> None:
    answers = {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": UNSURE,
        "regime": UNSURE,
        "building_use": UNSURE,
    }
    order = [a for a, _ in wizard.settling(answers)]
    assert order[0] == "acquisition" and set(order) <= {"acquisition", "regime", "building_use", "negotiated_origin"}
    assert wizard.settling({"kind": "pipeline", "investor": UNSURE}) == ()
