"""One complete profile per flowchart of both packaged rule-sets, for tests that go over every flowchart."""

from __future__ import annotations

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset

RULES = default_rules_path().parent


def _profiles(rs: RuleSet) -> dict[str, dict[str, str]]:
    """One complete profile per flowchart (the golden one where there is one), every flag on."""
    from flowmatch.checker import Space
    from flowmatch.golden import GOLDEN

    space = Space(rs)
    out: dict[str, dict[str, str]] = {}
    for sit in rs.situations.values():
        if sit.flowchart not in out:
            bits = sit.when.bits(space.leaf_bits, space.full)
            out[sit.flowchart] = space.profile((bits & -bits).bit_length() - 1)
    if rs.name == load_ruleset(RULES / "harbin-2014").name:
        out.update({fid: dict(p) for fid, p in GOLDEN.items()})
    return {fid: {**p, **dict.fromkeys(rs.flags, "true")} for fid, p in out.items()}


def _every_flowchart() -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for name in ("harbin-2014", "harbin-2019"):
        rs = load_ruleset(RULES / name)
        out += [(name, fid, profile) for fid, profile in sorted(_profiles(rs).items())]
    return out


EVERY_FLOWCHART = _every_flowchart()
"""(rule-set name, flowchart id, profile) for every flowchart of harbin-2014 and harbin-2019."""
