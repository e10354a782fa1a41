"""Alembic environment for the case-tracking tables (run by :func:`flowmatch.tracking.store.migrate`).

The caller passes an open connection in ``config.attributes["connection"]``; there is no
``alembic.ini``: the script location is this package directory.
"""

from __future__ import annotations

from alembic import context

from flowmatch.tracking.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
