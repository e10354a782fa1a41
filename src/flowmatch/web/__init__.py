"""The web questionnaire, search and browse pages (the optional ``[web]`` extra).

``flowmatch serve`` runs :func:`create_app` under uvicorn on 127.0.0.1; tests use it with
Starlette's ``TestClient``.  See :mod:`flowmatch.web.app`.
"""

from __future__ import annotations

from .app import FlowmatchApp, create_app

__all__ = ["FlowmatchApp", "create_app"]
