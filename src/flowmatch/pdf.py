"""The PDF engines: which one prints (:func:`engine`), and the system's headless Chromium.

Three engines print the notice (``docs/adr/0010-pdf-engine.md``): **Typst** (the default: the
``[pdf]`` extra, :mod:`flowmatch.typeset`, the notice typeset from its own Typst templates in
process), **Chromium** (this module: the HTML notice printed by the system's browser over the
DevTools pipe, no Python package) and **WeasyPrint** (the ``[weasyprint]`` extra,
:mod:`flowmatch.render`).  :func:`engine` picks the first one installed in that order;
``FLOWMATCH_PDF_ENGINE`` (``typst``, ``chromium`` or ``weasyprint``) chooses one.

Chromium lays the HTML notice out exactly as the browser shows and prints it (named ``@page`` sizes
give the landscape diagram pages, ``@page`` margin boxes the page numbers) and writes a tagged PDF —
structure tree with headings, tables with header cells, figures with their alt text, the document
language from ``<html lang="zh-CN">``.  :class:`ChromiumPrinter` keeps one browser per process and
prints any number of notices through it (a batch worker or the web app starts it once);
:func:`html_to_pdf` uses a process-wide printer, started on first use and closed at exit.  The
browser runs without network access (a dead proxy), without JavaScript, and from a throw-away
profile directory.  ``FLOWMATCH_CHROMIUM`` names the browser (default: ``chromium`` or Chrome on PATH).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import multiprocessing.util
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .errors import InputError, RenderError
from .fileio import write_atomic

__all__ = ["ENGINES", "ChromiumPrinter", "engine", "find_chromium", "html_to_pdf", "warm_up"]

ENGINES: tuple[str, ...] = ("typst", "chromium", "weasyprint")
"""The PDF engines, in the order :func:`engine` prefers them."""

BROWSERS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome")
ARGS = (
    "--headless",
    "--remote-debugging-pipe",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--disable-features=Translate,MediaRouter,OptimizationHints,PaintHolding",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",  # no network: every request fails
    "--renderer-process-limit=1",
    "--js-flags=--max-old-space-size=128",
)
INSTALL = (
    "PDF output needs Chromium, which was not found: on Debian apt-get install chromium fonts-wqy-microhei "
    "(or set FLOWMATCH_CHROMIUM to a Chromium/Chrome executable)"
)
PRINT = {
    "preferCSSPageSize": True,
    "printBackground": True,
    "displayHeaderFooter": False,
    "generateTaggedPDF": True,
    "generateDocumentOutline": True,
    "transferMode": "ReturnAsBase64",
    "marginTop": 0,
    "marginBottom": 0,
    "marginLeft": 0,
    "marginRight": 0,
}
TIMEOUT = 120.0  # seconds for one command (a notice prints in well under a second)


def find_chromium() -> str | None:
    """The browser to print with: ``$FLOWMATCH_CHROMIUM`` when set, else the first Chromium/Chrome on PATH."""
    named = os.environ.get("FLOWMATCH_CHROMIUM")
    if named:
        return named if Path(named).is_file() else shutil.which(named)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def engine() -> str:
    """The PDF engine to print with: ``$FLOWMATCH_PDF_ENGINE`` when set (one of :data:`ENGINES`, else an
    :class:`~flowmatch.errors.InputError` listing them), else the first installed of ``typst`` (the
    Python binding), ``chromium`` (a browser on PATH) and ``weasyprint``; with none, ``typst`` (whose
    error then says what to install).  Cheap: nothing heavy is imported."""
    named = os.environ.get("FLOWMATCH_PDF_ENGINE", "").strip().lower()
    if named:
        if named not in ENGINES:
            raise InputError(f"unknown PDF engine {named!r} in FLOWMATCH_PDF_ENGINE", allowed=ENGINES)
        return named
    from importlib.util import find_spec

    from .typeset import available

    if available():
        return "typst"
    if find_chromium() is not None:
        return "chromium"
    return "weasyprint" if find_spec("weasyprint") is not None else "typst"


class ChromiumPrinter:
    """One headless Chromium, driven over ``--remote-debugging-pipe``; prints HTML to PDF bytes.

    Not thread-safe by itself: :func:`html_to_pdf` serialises callers with a lock.
    """

    def __init__(self, executable: str | None = None) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise RenderError(INSTALL)
        self._work = Path(tempfile.mkdtemp(prefix="flowmatch-chromium-"))
        # Chromium reads commands from fd 3 and writes replies to fd 4.
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        argv = [exe, *ARGS, f"--user-data-dir={self._work / 'profile'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--no-sandbox")  # Chromium refuses to start its sandbox as root

        def wire() -> None:  # in the child, before exec
            _die_with_parent()
            read, write = os.dup(to_browser_r), os.dup(from_browser_w)  # the pipe may already sit on 3 or 4
            os.dup2(read, 3)  # dup2 makes the copy inheritable
            os.dup2(write, 4)

        try:
            self._proc = subprocess.Popen(
                [*argv, "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=wire,
                close_fds=False,  # only fds 3 and 4 are inheritable
                start_new_session=True,
            )
        except OSError as exc:
            os.close(self._to_browser)
            os.close(self._from_browser)
            raise RenderError(f"cannot start Chromium ({exe}): {exc.strerror or exc}") from None
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._buffer = b""
        self._next = 0
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None
        self._count = 0

    # -- the pipe -----------------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data) :]
        except OSError:
            raise RenderError(f"Chromium stopped unexpectedly (exit code {self._proc.poll()})") from None
        return self._next

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], TIMEOUT)
            if not ready:
                raise RenderError(f"Chromium did not answer within {TIMEOUT:g} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RenderError(f"Chromium stopped unexpectedly (exit code {self._proc.poll()})")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        found: dict[str, Any] = json.loads(raw)
        return found

    def _call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        while True:
            message = self._read()
            if message.get("id") == wanted:
                if "error" in message:
                    raise RenderError(f"Chromium could not {method}: {message['error'].get('message')}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def _wait_event(self, method: str, session: str) -> None:
        for i, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                del self._events[: i + 1]
                return
        while True:
            message = self._read()
            if message.get("method") == method and message.get("sessionId") == session:
                self._events.clear()
                return

    def _tab(self) -> str:
        if self._session is None:
            pages = [t["targetId"] for t in self._call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            # the blank tab the browser opened at start-up, or a new one
            target = pages[0] if pages else self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session: str = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=session)
            self._call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
            self._session = session
        return self._session

    # -- printing ------------------------------------------------------------------------------------
    def load(self, html: str) -> str:
        """Open a complete HTML document (self-contained: nothing is fetched) in the tab; its session."""
        session = self._tab()
        self._count += 1
        page = self._work / f"notice-{self._count % 2}.html"
        write_atomic(page, html, force=True)  # in the browser's private work directory
        self._events.clear()
        self._call("Page.navigate", {"url": page.as_uri()}, session=session)
        self._wait_event("Page.loadEventFired", session)
        return session

    def print_pdf(self, html: str) -> bytes:
        """The PDF of a complete HTML document (self-contained: nothing is fetched)."""
        session = self.load(html)
        data = self._call("Page.printToPDF", PRINT, session=session)["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        """Stop the browser and remove its profile directory (idempotent).

        The browser keeps nothing worth a graceful shutdown (a throw-away profile), so its whole
        process group is killed: a one-notice command does not wait for Chromium to tidy up."""
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except OSError:
                self._proc.kill()
            self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):  # already closed
                os.close(fd)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # the renderer and helpers die a moment after the browser
            try:
                os.killpg(self._proc.pid, 0)
            except OSError:
                break
            time.sleep(0.02)
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> ChromiumPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


WARM_PAGE = (
    "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>html{font-family:"
    "'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif}</style></head><body><h1>告知书</h1>"
    "<table><tr><th>序号</th><td>材料</td></tr></table></body></html>"
)


def _die_with_parent() -> None:
    """Linux: the browser is killed when the process that started it ends, however it ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_SHARED: dict[int, ChromiumPrinter] = {}
_STARTING: dict[int, threading.Thread] = {}
_FAILED: dict[int, RenderError] = {}
_LOCK = threading.Lock()


def _close_shared() -> None:
    """Close this process's browser (a forked child never closes its parent's)."""
    printer = _SHARED.pop(os.getpid(), None)
    if printer is not None:
        printer.close()


atexit.register(_close_shared)


def _start(printer: ChromiumPrinter) -> None:
    try:
        printer.load(WARM_PAGE)  # the renderer process and the fonts, ready
    except RenderError as exc:
        printer.close()
        _FAILED[os.getpid()] = exc


def _no_start(_: object) -> None:
    return


def warm_up() -> None:
    """Start this process's browser in the background (the notice is still being composed meanwhile).

    Idempotent; a failure to start is raised by the next :func:`html_to_pdf`, not here.
    """
    pid = os.getpid()
    with _LOCK:
        if pid in _SHARED or pid in _STARTING:
            return
        if any(p != pid for p in (*_SHARED, *_STARTING)):  # forked: the parent's browser is not ours
            _SHARED.clear()
            _STARTING.clear()
            _FAILED.clear()
        # Started here, not in the thread: Linux kills the browser when the thread that started it ends.
        try:
            printer = ChromiumPrinter()
        except RenderError as exc:
            _FAILED[pid] = exc
            printer = None
        thread = threading.Thread(
            target=_start if printer else _no_start, args=(printer,), daemon=True, name="flowmatch-chromium"
        )
        if printer is not None:
            _SHARED[pid] = printer
            # a pool worker ends without atexit, and forgets its parent's finalizers: register here
            multiprocessing.util.Finalize(printer, _close_shared, exitpriority=10)
        _STARTING[pid] = thread
        thread.start()


def html_to_pdf(html: str) -> bytes:
    """Print a notice with this process's browser (started on first use, kept for the next notice)."""
    pid = os.getpid()
    warm_up()
    with _LOCK:
        _STARTING[pid].join()
        failed = _FAILED.pop(pid, None)
        if failed is not None:
            del _STARTING[pid]
            _SHARED.pop(pid, None)
            raise failed
        printer = _SHARED[pid]
        try:
            return printer.print_pdf(html)
        except RenderError:
            printer.close()
            del _SHARED[pid], _STARTING[pid]
            raise
