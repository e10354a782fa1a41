"""Safe YAML reading that keeps the position of every key.

PyYAML is used only to *compose* the node graph (libyaml's C parser when present); we build the
Python values ourselves so that:

* only the plain YAML types are accepted (no object-construction tags, whatever the loader);
* duplicate keys are an error instead of a silent overwrite;
* file size, nesting depth and alias expansion are bounded (a "billion laughs" file is refused);
* every mapping key and sequence item remembers its ``line:col`` for error messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem
from .fileio import ReadError, read_limited

try:  # pragma: no cover - depends on how PyYAML was built
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

MAX_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_NODES = 200_000
_PARSE_DEPTH = 4 * MAX_DEPTH  # streaming guard before composing; see _check_nesting

Key = tuple[str | int, ...]

_COLLECTIONS = "plain YAML maps, lists and scalars"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Document:
    """A parsed YAML file: its plain value and the position of every key path."""

    file: str
    data: Any
    marks: dict[Key, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Key) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            mark = self.marks.get(path[:cut])
            if mark is not None:
                return mark
        return (1, 1)

    def problem(self, path: Key, message: str) -> Problem:
        line, col = self.where(path)
        return Problem(self.file, line, col, format_path(path), message)


def format_path(path: Key) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class YamlError(Exception):
    """Raised inside this module; carries one located problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Key, tuple[int, int]] = {}
        self.nodes = 0
        self._scalars = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str, path: Key = ()) -> YamlError:
        mark = node.start_mark
        return YamlError(Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message))

    def build(self, node: yaml.Node, path: Key, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                node,
                f"document expands to more than {MAX_NODES} nodes (alias expansion or size limit); "
                "write the data out instead of using aliases",
                path,
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels", path)
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self.fail(node, f"tag {node.tag!r} is not allowed; allowed: {_COLLECTIONS}", path)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "merge keys ('<<') are not allowed; write the keys out", path)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "a key must be a plain scalar", path)
                key = self.build(key_node, path, depth + 1)
                if isinstance(key, (bool, dt.date)) or key is None:
                    key = key_node.value
                child = (*path, key)
                if key in out:
                    first = self.marks.get(child, (0, 0))
                    raise self.fail(key_node, f"duplicate key {key!r} (first defined at line {first[0]})", child)
                self.marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, child, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, f"tag {node.tag!r} is not allowed; allowed: {_COLLECTIONS}", path)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(node, f"tag {node.tag!r} is not allowed; allowed: plain YAML scalars", path)
        try:
            return self._scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            shown = node.value if len(node.value) <= 40 else f"{node.value[:40]}…"
            detail = str(exc).split("; use sys.set_int_max_str_digits()")[0]
            raise self.fail(node, f"bad scalar {shown!r}: {detail}", path) from None


def _check_nesting(text: str, file: str) -> None:
    """Refuse absurdly deep nesting *before* composing: libyaml's composer recurses in C and
    crashes the interpreter (SIGSEGV) at around 100,000 levels, the pure-Python one raises
    RecursionError.  The event parser is iterative, so this streaming pass is safe at any depth.
    Depths between ``MAX_DEPTH`` and ``_PARSE_DEPTH`` are left to the builder, whose message
    names the key path."""
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > _PARSE_DEPTH:
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                    raise YamlError(Problem(file, line, col, "", f"nested deeper than {MAX_DEPTH} levels"))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
    if mark is not None and "tab" not in what and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        what += " (a tab character: YAML indentation must use spaces)"
    return Problem(file, line, col, "", f"YAML syntax error: {what}")


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML forbids (control characters, U+FFFE, ...), located by line and column.
    libyaml reports a byte offset into the UTF-8 text, the pure-Python reader a character index."""
    if _Loader is not yaml.SafeLoader:  # libyaml
        before = text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "ignore")
    else:  # pragma: no cover - only without libyaml
        before = text[: exc.position]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return Problem(file, line, col, "", f"character U+{code:04X} is not allowed in YAML ({exc.reason}); remove it")


def parse_text(text: str, file: str) -> Document:
    """Parse YAML text; raise :class:`YamlError` with a located problem on any failure."""
    try:
        _check_nesting(text, file)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_syntax_problem(exc, text, file)) from None
    except yaml.reader.ReaderError as exc:
        raise YamlError(_reader_problem(exc, text, file)) from None
    except yaml.YAMLError as exc:
        raise YamlError(Problem(file, 1, 1, "", f"YAML error: {exc}")) from None
    except UnicodeEncodeError as exc:  # lone surrogates in a str that did not come from a file
        message = f"text is not valid Unicode ({exc.reason}); save it as UTF-8"
        raise YamlError(Problem(file, 1, 1, "", message)) from None
    if root is None:
        raise YamlError(Problem(file, 1, 1, "", "file is empty; expected a YAML mapping"))
    builder = _Builder(file)
    data = builder.build(root, (), 0)
    return Document(file, data, builder.marks)


def read(path: Path, display: str | None = None) -> Document:
    """Read and parse one YAML file with the size and encoding checks."""
    name = display or str(path)
    try:
        raw = read_limited(path, MAX_BYTES)  # regular files only; the size is checked before reading
    except ReadError as exc:
        raise YamlError(Problem(name, 1, 1, "", exc.reason)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        raise YamlError(Problem(name, line, col, "", "file is not valid UTF-8; save it as UTF-8")) from None
    return parse_text(text.removeprefix("\ufeff"), name)
