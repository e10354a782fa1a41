"""Case tracking: cases, tasks, warnings, hash-chained events (append-only by trigger).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = "flowmatch: events are append-only"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION flowmatch_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
END $$""",
    "CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION flowmatch_events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION flowmatch_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("applicant", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("project_name", sa.String(200), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("situation", sa.String(64), nullable=False),
        sa.Column("flowchart", sa.String(64), nullable=False),
        sa.Column("ruleset_id", sa.String(200), nullable=False),
        sa.Column("ruleset_digest", sa.String(64), nullable=False),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("query_salt", sa.String(32), nullable=False),
        sa.Column("query_hash", sa.String(64), nullable=False),
        sa.Column("warn_before", sa.Float(), nullable=False),
        sa.Column("urge_after", sa.Float(), nullable=False),
        sa.Column("supervisor", sa.String(200), nullable=False),
        sa.Column("promised_days", sa.Float(), nullable=False),
        sa.Column("promised_counted_days", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.UniqueConstraint("number"),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("suspended_from", sa.String(16), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("suspended_on", sa.Date(), nullable=True),
        sa.Column("suspended_days", sa.Integer(), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("case_id", "step"),
    )
    op.create_index("ix_tasks_state_due", "tasks", ["state", "due_on"])
    op.create_index("ix_tasks_department_state", "tasks", ["department", "state"])
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.UniqueConstraint("task_id", "level", name="uq_warnings_task_level"),
    )
    op.create_index("ix_warnings_case_id", "warnings", ["case_id"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("step", sa.String(64), nullable=True),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_case_number", "events", ["case_number"])
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.execute(sa.text("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')"))
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS if dialect == "postgresql" else []:
        op.execute(sa.text(statement))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(sa.text("DROP TRIGGER IF EXISTS events_no_update"))
        op.execute(sa.text("DROP TRIGGER IF EXISTS events_no_delete"))
    elif dialect == "postgresql":
        op.execute(sa.text("DROP TRIGGER IF EXISTS events_no_update ON events"))
        op.execute(sa.text("DROP TRIGGER IF EXISTS events_no_truncate ON events"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS flowmatch_events_append_only()"))
    for table in ("counters", "chain_head", "events", "warnings", "tasks", "cases"):
        op.drop_table(table)
