"""``flowmatch stats`` with the certificate database (issue 16): the requisites an applicant still
supplies, beside the published 58.6%, with the counting rule and the stated gap."""

from __future__ import annotations

import json

from click.testing import CliRunner

from flowmatch.cli import main
from flowmatch.flows import resolve
from flowmatch.ruleset import RuleSet
from flowmatch.stats import DATABASE_RULE, compare, identity_documents, stats


def test_the_database_figure_is_computed_from_the_data(ruleset: RuleSet) -> None:
    figures = stats(ruleset=ruleset)
    db = figures["database"]
    assert db["rule"] == DATABASE_RULE
    assert db["connected"] == ["fgw", "gtj", "ghj", "jw", "hbj"]
    assert db["avg_requisites"] == figures["avg_requisites"]
    # each flowchart's requisites split three ways, with nothing lost
    for f in db["per_flowchart"]:
        assert f["requisites"] == f["in_database"] + f["submitted_once"] + f["still_supplied"]
    assert db["avg_still_supplied"] < db["avg_requisites"]
    assert abs(db["reduction_vs_baseline"] - (1 - db["avg_still_supplied"] / figures["baseline"]["requisites"])) < 1e-3
    # the identity documents are found in the data, not typed in: the business licence among them
    flows = [resolve(ruleset, fid) for fid in ruleset.flowcharts]
    assert "legal_entity_certificate" in identity_documents(ruleset, flows) == db["identity_documents"]
    assert "application_form" not in db["identity_documents"]  # an original form per application


def test_the_figure_stands_beside_the_published_one_with_its_gap(ruleset: RuleSet) -> None:
    rows = {r["figure"]: r for r in compare(ruleset, stats(ruleset=ruleset))}
    row = rows["reduction_requisites_database"]
    assert row["published"] == 0.586 and row["source"] == "seed003"
    assert row["computed"] == stats(ruleset=ruleset)["database"]["reduction_vs_baseline"]
    assert row["ok"] is False and "公开资料无法把数据库的作用与流程优化分开" in row["gap"]


def test_stats_cli_prints_the_database_line_and_rule() -> None:
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("证照数据库 certificate database"))
    assert "（公布 published 58.6%）" in line and "企业仍须提交的要件平均" in line
    assert "计数规则 rule: 每个流程图按默认配置" in result.stdout
    data = json.loads(CliRunner().invoke(main, ["stats", "--json"]).stdout)
    assert data["database"]["avg_still_supplied"] > 0


def test_a_ruleset_without_a_database_has_no_database_figure(ruleset: RuleSet) -> None:
    import dataclasses

    bare = dataclasses.replace(ruleset, certificates=None)
    assert stats(ruleset=bare)["database"] is None
    assert "reduction_requisites_database" not in {
        r["figure"] for r in compare(bare, stats(ruleset=bare)) if r["computed"]
    }
