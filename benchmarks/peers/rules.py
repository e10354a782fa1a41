"""The packaged situations in the formats of rule-engine and business-rules, generated from YAML.

The encodings are produced from the raw ``situations.yaml`` and ``attributes.yaml`` (read with
``yaml.safe_load``, not through flowmatch's parser), in file order: situations, then
not-applicable rules.  Each peer answers with the id of the first rule that holds, which is the
answer because ``flowmatch check`` proves the rules exclusive; ``verify`` checks that claim
against flowmatch on every complete profile before anything is timed.

Run ``python benchmarks/peers/rules.py`` to print both encodings.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

Rules = list[tuple[str, Any]]  # (rule id, raw YAML condition)


def raw_rules(root: Path) -> tuple[dict[str, list[str]], Rules]:
    """Attribute domains and the (id, condition) list from a rule-set directory."""
    attrs = yaml.safe_load((root / "attributes.yaml").read_text(encoding="utf-8"))["attributes"]
    domains = {aid: list(a["values"]) for aid, a in attrs.items()}
    data = yaml.safe_load((root / "situations.yaml").read_text(encoding="utf-8"))
    rules = [(sid, s["when"]) for sid, s in data["situations"].items()]
    rules += [(nid, n["when"]) for nid, n in (data.get("not_applicable") or {}).items()]
    return domains, rules


# --- rule-engine -----------------------------------------------------------------------------------
def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value))


def to_rule_engine(cond: Any) -> str:
    """A condition as a rule-engine expression, e.g. ``kind == "building" and investor in [...]``."""
    ((op, arg),) = cond.items()
    if op in ("all", "any"):
        joiner = " and " if op == "all" else " or "
        return "(" + joiner.join(to_rule_engine(c) for c in arg) + ")"
    if op == "not":
        return f"not {to_rule_engine(arg)}"
    parts = []
    for attribute, value in arg.items():
        if op == "eq":
            parts.append(f"{attribute} == {_string(value)}")
        else:
            parts.append(f"{attribute} in [{', '.join(_string(v) for v in value)}]")
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def rule_engine_matcher(rules: Rules) -> Callable[[Mapping[str, Any]], str | None]:
    import rule_engine

    compiled = [(rid, rule_engine.Rule(to_rule_engine(cond))) for rid, cond in rules]

    def match(profile: Mapping[str, Any]) -> str | None:
        for rid, rule in compiled:
            if rule.matches(profile):
                return rid
        return None

    return match


# --- business-rules --------------------------------------------------------------------------------
_NEVER = "\0never"


def _leaf(attribute: str, value: Any) -> dict[str, Any]:
    return {"name": attribute, "operator": "equal_to", "value": value}


def _one_of(attribute: str, values: list[Any]) -> dict[str, Any]:
    if not values:
        return _leaf(attribute, _NEVER)
    return _leaf(attribute, values[0]) if len(values) == 1 else {"any": [_leaf(attribute, v) for v in values]}


def to_business_rules(cond: Any, domains: Mapping[str, list[str]], negate: bool = False) -> dict[str, Any]:
    """A condition as business-rules JSON.  business-rules has no ``not``: negations are pushed to
    the leaves (De Morgan), where ``not attribute in V`` becomes ``attribute in (domain - V)``."""
    ((op, arg),) = cond.items()
    if op == "not":
        return to_business_rules(arg, domains, not negate)
    if op in ("all", "any"):
        group = {"all": "any", "any": "all"}[op] if negate else op
        return {group: [to_business_rules(c, domains, negate) for c in arg]}
    leaves = []
    for attribute, value in arg.items():
        values = [value] if op == "eq" else list(value)
        if negate:
            values = [v for v in domains[attribute] if v not in values]
        leaves.append(_one_of(attribute, values))
    if len(leaves) == 1:
        return leaves[0]
    return {"any" if negate else "all": leaves}


def business_rules_rules(rules: Rules, domains: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"conditions": to_business_rules(cond, domains), "actions": [{"name": "select", "params": {"rule": rid}}]}
        for rid, cond in rules
    ]


def business_rules_matcher(rules: Rules, domains: Mapping[str, list[str]]) -> Callable[[Mapping[str, Any]], str | None]:
    from business_rules import run_all
    from business_rules.actions import BaseActions, rule_action
    from business_rules.fields import FIELD_TEXT
    from business_rules.variables import BaseVariables, string_rule_variable

    def variable(attribute: str) -> Callable[[Any], Any]:
        def get(self: Any) -> Any:
            return self.profile.get(attribute)

        get.__name__ = attribute
        return string_rule_variable(get)

    def init_variables(self: Any, profile: Mapping[str, Any]) -> None:
        self.profile = profile

    variables = type(
        "ProfileVariables", (BaseVariables,), {"__init__": init_variables, **{a: variable(a) for a in domains}}
    )

    class Selected(BaseActions):  # type: ignore[misc]
        def __init__(self) -> None:
            self.rule: str | None = None

        @rule_action(params={"rule": FIELD_TEXT})  # type: ignore[misc]
        def select(self, rule: str) -> None:
            self.rule = rule

    rule_list = business_rules_rules(rules, domains)

    def match(profile: Mapping[str, Any]) -> str | None:
        actions = Selected()
        run_all(rule_list, variables(profile), actions, stop_on_first_trigger=True)
        return actions.rule

    return match


# --- the other two peers ---------------------------------------------------------------------------
def naive_matcher(ruleset: Any) -> Callable[[Mapping[str, Any]], str | None]:
    """A plain loop over flowmatch's own parsed conditions (``Cond.holds``), no compilation."""
    conds = [(sid, s.when) for sid, s in ruleset.situations.items()]
    conds += [(nid, n.when) for nid, n in ruleset.not_applicable.items()]

    def match(profile: Mapping[str, Any]) -> str | None:
        for rid, cond in conds:
            if cond.holds(profile) is True:
                return rid
        return None

    return match


def dict_matcher(order: tuple[str, ...], table: Mapping[tuple[str, ...], str]) -> Callable[[Mapping[str, Any]], str]:
    """The practical limit: one dict lookup on the full attribute tuple."""
    key = operator.itemgetter(*order)
    table = dict(table)

    def match(profile: Mapping[str, Any]) -> str:
        return table[key(profile)]

    return match


if __name__ == "__main__":  # pragma: no cover - a look at the generated encodings
    from flowmatch.ruleset import default_rules_path

    domains, rules = raw_rules(default_rules_path())
    for rid, cond in rules:
        print(f"{rid}  rule-engine:    {to_rule_engine(cond)}")
        print(f"{rid}  business-rules: {json.dumps(to_business_rules(cond, domains), ensure_ascii=False)}")
