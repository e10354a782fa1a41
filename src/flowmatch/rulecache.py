"""The on-disk rule-set cache (private): a validated rule-set pickled under the content hash of its
files and of the code that builds it, in a directory only this user can write.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import typing
from pathlib import Path
from typing import Any

from .fileio import read_limited
from .yamlsrc import MAX_BYTES

_CACHE_FORMAT = 3  # 3: RuleSet frozen, with its derived cache


def _files(root: Path) -> list[Path]:
    fixed = [
        root / n
        for n in (
            "ruleset.yaml",
            "attributes.yaml",
            "situations.yaml",
            "departments.yaml",
            "items.yaml",
            "materials.yaml",
            "invariants.yaml",
            "baseline.yaml",
            "itemmap.yaml",
            "certificates.yaml",
        )
    ]
    flow_dir = root / "flowcharts"
    flows = sorted(flow_dir.glob("*.yaml")) if flow_dir.is_dir() else []
    return fixed + flows


def _digest(root: Path) -> str:
    h = hashlib.sha256(f"flowmatch-cache-{_CACHE_FORMAT}".encode())
    from . import __version__

    h.update(__version__.encode())
    here = Path(__file__).parent
    code = (
        "models.py",
        "conditions.py",
        "ruleset.py",
        "loader.py",
        "crosscheck.py",
        "derived.py",
        "yamlsrc.py",
        "itemmap.py",
    )  # the code that builds the cache
    for module in code:
        h.update((here / module).read_bytes())
    for path in _files(root):
        h.update(path.name.encode())
        # the loader's own limits: a huge, special or sparse file fails here at once (and then in the loader)
        h.update(read_limited(path, MAX_BYTES) if path.is_file() else b"\0missing")
    return h.hexdigest()


def _cache_dir() -> Path:
    env = os.environ.get("FLOWMATCH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flowmatch"


def _unpickle(fh: typing.BinaryIO) -> Any:
    """``pickle.load`` with the cyclic garbage collector paused: a rule-set is some 20,000 objects,
    whose allocation would otherwise set off collections that find nothing (about 40 % of a warm
    load)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.load(fh)
    finally:
        if enabled:
            gc.enable()


def _private(path: Path) -> bool:
    """Only this user can write ``path``: a cache others can write could carry code (pickle)."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - not POSIX: rely on the user profile's ACLs
        return True
    st = path.stat()
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022
