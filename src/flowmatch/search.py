"""Keyword search over situations, flowcharts, items and materials.

Ranking is BM25 over a mixed vocabulary: character 1-, 2- and 3-grams of Chinese text (so partial
words and a wrong character still match: "施工许可" finds 建筑工程施工许可证 and every flowchart with
that step) and English word tokens plus their character trigrams (so "permt" still finds
"permit").  Traditional characters are folded to simplified ones, one character at a time, with
OpenCC's dictionary (``opencc-python-reimplemented``), both when indexing and in the query; full-
width forms are folded by NFKC.  Every character of the folded text maps back to the original, so
the matched text is returned as ``(start, end)`` spans of what is displayed.

Fields weigh differently (title 3, English name 2, body 1).  A document is returned only when it
matches a fair share of the query's bigrams and words, so one shared character is not a hit.  The
index is built once per rule-set and kept with it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from .conditions import Cond
from .errors import InputError
from .ruleset import RuleSet, default_ruleset

__all__ = ["KINDS", "Hit", "SearchIndex", "index_for", "search"]

Kind = Literal["situation", "flowchart", "item", "material"]
KINDS: tuple[str, ...] = ("situation", "flowchart", "item", "material")
KIND_LABELS = {"situation": "情形", "flowchart": "审批流程图", "item": "审批事项", "material": "申请材料"}
MAX_QUERY = 200

_K1 = 1.2
_B = 0.75
_FIELD_WEIGHT = {"id": 3.0, "title": 3.0, "subtitle": 2.0, "body": 1.0}
_KIND_WEIGHT = {"situation": 1.0, "flowchart": 1.0, "item": 1.0, "material": 0.85}
_TOKEN_WEIGHT = {"c1": 0.25, "c2": 1.0, "c3": 1.6, "w": 2.0, "t": 0.4}
_MIN_COVERAGE = 0.6
_SNIPPET = 36

Span = tuple[int, int]


@lru_cache(maxsize=1)
def _converter() -> Any:
    """OpenCC's traditional → simplified converter (``opencc-python-reimplemented``; the official
    ``opencc`` bindings, which name the configuration ``t2s.json``, work too)."""
    try:
        from opencc import OpenCC  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the dependency is declared; keep searching without folding
        return None
    for config in ("t2s", "t2s.json"):
        try:
            return OpenCC(config)
        except Exception:  # a binding that does not know this configuration name: try the other
            continue
    return None  # pragma: no cover


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """One character, folded: NFKC, lower case, traditional → simplified."""
    text = unicodedata.normalize("NFKC", ch).lower()
    if len(text) == 1 and _is_cjk(text):
        conv = _converter()
        if conv is not None:
            out = conv.convert(text)
            if len(out) == 1:
                return str(out)
    return text


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F


def fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for out in _fold_char(ch):
            chars.append(out)
            origin.append(i)
    return "".join(chars), origin


_WORD = re.compile(r"[a-z0-9]+")


def _runs(folded: str) -> Iterable[tuple[str, str, int]]:
    """Runs of CJK characters (``"c"``) and of ASCII letters/digits (``"w"``) with their start."""
    i = 0
    n = len(folded)
    while i < n:
        ch = folded[i]
        if _is_cjk(ch):
            j = i
            while j < n and _is_cjk(folded[j]):
                j += 1
            yield "c", folded[i:j], i
            i = j
        elif ch.isascii() and ch.isalnum():
            j = i
            while j < n and folded[j].isascii() and folded[j].isalnum():
                j += 1
            yield "w", folded[i:j], i
            i = j
        else:
            i += 1


def _trigrams(word: str) -> list[str]:
    padded = f"#{word}#"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def tokens(folded: str) -> list[str]:
    """Index tokens of folded text: CJK n-grams (1–3), English words and their trigrams."""
    out: list[str] = []
    for kind, run, _ in _runs(folded):
        if kind == "c":
            for n in (1, 2, 3):
                out.extend(f"c{n}:{run[i : i + n]}" for i in range(len(run) - n + 1))
        else:
            out.append(f"w:{run}")
            if len(run) >= 3 and run.isalpha():
                out.extend(f"t:{g}" for g in _trigrams(run))
    return out


@dataclass(frozen=True)
class _Query:
    text: str
    weights: dict[str, float]
    keys: tuple[tuple[str, ...], ...]  # groups: a group is matched when any of its tokens is
    chars: tuple[str, ...]  # the query's CJK characters (unigram tokens)
    grams: tuple[str, ...]  # CJK strings to highlight
    words: tuple[str, ...]  # English words to highlight


def _query(text: str) -> _Query:
    folded, _ = fold(text)
    weights: dict[str, float] = {}

    def add(token: str, weight: float) -> None:
        weights[token] = weights.get(token, 0.0) + weight

    keys: list[tuple[str, ...]] = []
    grams: list[str] = []
    words: list[str] = []
    chars: list[str] = []
    for kind, run, _ in _runs(folded):
        if kind == "c":
            chars.extend(f"c1:{ch}" for ch in run)
            for n in (1, 2, 3):
                for i in range(len(run) - n + 1):
                    add(f"c{n}:{run[i : i + n]}", _TOKEN_WEIGHT[f"c{n}"])
            if len(run) == 1:
                keys.append((f"c1:{run}",))
                grams.append(run)
            else:
                keys.extend((f"c2:{run[i : i + 2]}",) for i in range(len(run) - 1))
                grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            add(f"w:{run}", _TOKEN_WEIGHT["w"])
            group = [f"w:{run}"]
            if len(run) >= 3 and run.isalpha():
                trigrams = _trigrams(run)
                for g in trigrams:
                    add(f"t:{g}", _TOKEN_WEIGHT["t"])
                group.append("t*:" + "|".join(trigrams))
            keys.append(tuple(group))
            words.append(run)
    return _Query(
        text,
        dict(weights),
        tuple(keys),
        tuple(dict.fromkeys(chars)),
        tuple(dict.fromkeys(grams)),
        tuple(dict.fromkeys(words)),
    )


@dataclass(frozen=True)
class Hit:
    """One search result, with the matched text as spans of ``title``, ``subtitle`` and ``snippet``."""

    kind: str
    id: str
    title: str
    subtitle: str
    score: float
    title_spans: tuple[Span, ...] = ()
    subtitle_spans: tuple[Span, ...] = ()
    snippet: str = ""
    snippet_spans: tuple[Span, ...] = ()
    flowchart: str | None = None
    related: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "score": round(self.score, 4),
            "title_spans": [list(s) for s in self.title_spans],
            "subtitle_spans": [list(s) for s in self.subtitle_spans],
            "snippet": self.snippet,
            "snippet_spans": [list(s) for s in self.snippet_spans],
            "flowchart": self.flowchart,
            "related": list(self.related),
        }


@dataclass
class _Doc:
    kind: str
    id: str
    title: str
    subtitle: str
    body: str
    flowchart: str | None = None
    related: tuple[str, ...] = ()
    tf: dict[str, float] = field(default_factory=dict)
    folded: dict[str, tuple[str, list[int]]] = field(default_factory=dict)


class SearchIndex:
    """An inverted index over a rule-set's texts. Build once per rule-set with :func:`index_for`."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.folding = "opencc" if _converter() is not None else "none"
        self.docs: list[_Doc] = list(_documents(ruleset))
        fields = ("id", "title", "subtitle", "body")
        per_doc: list[dict[str, Counter[str]]] = []
        totals = dict.fromkeys(fields, 0.0)
        for doc in self.docs:
            counts = {}
            for name in fields:
                doc.folded[name] = fold(getattr(doc, name))
                text = doc.folded[name][0]
                # an id is one token (F22, ZJ07): found by exact id, never by its parts
                toks = ([f"w:{text}"] if text else []) if name == "id" else tokens(text)
                counts[name] = Counter(toks)
                totals[name] += len(toks)
            per_doc.append(counts)
        count = max(len(self.docs), 1)
        average = {name: max(totals[name] / count, 1.0) for name in fields}
        # BM25F: each field's term frequency is normalised by that field's length, then weighted
        self.postings: dict[str, dict[int, float]] = {}
        for number, (doc, counts) in enumerate(zip(self.docs, per_doc, strict=True)):
            for name, counter in counts.items():
                length = sum(counter.values())
                norm = _FIELD_WEIGHT[name] / (1 - _B + _B * length / average[name])
                for tok, tf in counter.items():
                    doc.tf[tok] = doc.tf.get(tok, 0.0) + tf * norm
            for tok, weight in doc.tf.items():
                self.postings.setdefault(tok, {})[number] = weight
        n = len(self.docs)
        self.idf = {tok: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for tok, p in self.postings.items()}

    def search(self, query: str, *, kind: str | None = None, limit: int = 20) -> list[Hit]:
        """Ranked hits for ``query`` (Chinese, simplified or traditional, or English)."""
        if not isinstance(query, str):
            raise InputError(f"the query must be text, got {type(query).__name__}")
        text = query.strip()
        if not text:
            raise InputError("请输入关键词 / the query is empty")
        if len(text) > MAX_QUERY:
            raise InputError(f"关键词太长（最多 {MAX_QUERY} 个字符）/ the query is longer than {MAX_QUERY} characters")
        if kind is not None and kind not in KINDS:
            raise InputError(f"unknown kind {kind!r}", allowed=KINDS)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InputError(f"limit must be a positive whole number, got {limit!r}")
        q = _query(text)
        if not q.keys:
            return []
        scores: dict[int, float] = {}
        for tok, qweight in q.weights.items():
            posting = self.postings.get(tok)
            if not posting:
                continue
            idf = self.idf[tok]
            for number, tf in posting.items():
                if kind is not None and self.docs[number].kind != kind:
                    continue
                scores[number] = scores.get(number, 0.0) + qweight * idf * tf * (_K1 + 1) / (tf + _K1)
        ranked = []
        for number, score in scores.items():
            coverage = self._coverage(self.docs[number], q)
            if coverage + 1e-9 < _MIN_COVERAGE:
                continue
            kind_of = self.docs[number].kind
            ranked.append((-(score * coverage * _KIND_WEIGHT[kind_of]), KINDS.index(kind_of), number))
        ranked.sort()
        return [self._hit(self.docs[number], -neg, q) for neg, _, number in ranked[:limit]]

    @staticmethod
    def _coverage(doc: _Doc, q: _Query) -> float:
        """How much of the query the document contains: the share of its key groups (bigrams,
        single characters, words) found, averaged with the share of its characters found — so
        "乡镇企业" still finds "乡（镇）村企业" while one shared word is not enough."""
        found = 0
        for group in q.keys:
            for tok in group:
                if tok.startswith("t*:"):
                    trigrams = tok[3:].split("|")
                    if sum(1 for g in trigrams if f"t:{g}" in doc.tf) * 2 >= len(trigrams):
                        found += 1
                        break
                elif tok in doc.tf:
                    found += 1
                    break
        share = found / len(q.keys)
        if not q.chars:
            return share
        chars = sum(1 for tok in q.chars if tok in doc.tf) / len(q.chars)
        return (share + chars) / 2

    def _hit(self, doc: _Doc, score: float, q: _Query) -> Hit:
        snippet, snippet_spans = _snippet(doc.body, q, doc.folded["body"])
        return Hit(
            doc.kind,
            doc.id,
            doc.title,
            doc.subtitle,
            score,
            highlight(doc.title, q, doc.folded["title"]),
            highlight(doc.subtitle, q, doc.folded["subtitle"]),
            snippet,
            snippet_spans,
            doc.flowchart,
            doc.related,
        )


def _word_matches(word: str, wanted: Sequence[str]) -> bool:
    for w in wanted:
        if word == w or (len(w) >= 3 and word.startswith(w)) or (len(word) >= 3 and w.startswith(word)):
            return True
        if len(w) >= 3 and len(word) >= 3:
            a, b = set(_trigrams(w)), set(_trigrams(word))
            if len(a & b) * 2 >= len(a):
                return True
    return False


def highlight(text: str, query: str | _Query, folded_text: tuple[str, list[int]] | None = None) -> tuple[Span, ...]:
    """Spans of ``text`` that match the query (merged, in order). ``folded_text``: ``fold(text)``
    when the caller already has it."""
    q = _query(query) if isinstance(query, str) else query
    if not text:
        return ()
    folded, origin = folded_text if folded_text is not None else fold(text)
    marked = [False] * len(folded)
    for gram in q.grams:
        start = folded.find(gram)
        while start >= 0:
            for i in range(start, start + len(gram)):
                marked[i] = True
            start = folded.find(gram, start + 1)
    if q.words:
        for m in _WORD.finditer(folded):
            if _word_matches(m.group(), q.words):
                for i in range(m.start(), m.end()):
                    marked[i] = True
    spans: list[list[int]] = []
    for i, on in enumerate(marked):
        if not on:
            continue
        lo, hi = origin[i], origin[i] + 1
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], hi)
        else:
            spans.append([lo, hi])
    return tuple((a, b) for a, b in spans)


def _snippet(body: str, q: _Query, folded: tuple[str, list[int]]) -> tuple[str, tuple[Span, ...]]:
    """A window of the body around its first match, with spans relative to the window."""
    spans = highlight(body, q, folded)
    if not spans:
        return "", ()
    first = spans[0][0]
    start = max(0, first - _SNIPPET // 3)
    end = min(len(body), start + _SNIPPET * 2)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(body) else ""
    window = body[start:end]
    shift = len(prefix) - start
    inside = tuple((max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end and b > start)
    return prefix + window + suffix, inside


def _value_labels(rs: RuleSet, cond: Cond, negated: bool = False) -> list[str]:
    """Labels of the attribute values a condition asks for (not those it excludes)."""
    if cond.op == "in":
        attr = rs.attributes.get(cond.attribute)
        if negated or attr is None:
            return []
        return [attr.values[str(v)].label for v in sorted(cond.values, key=str) if str(v) in attr.values]
    out: list[str] = []
    for child in cond.children:
        out.extend(_value_labels(rs, child, negated != (cond.op == "not")))
    return out


def _documents(rs: RuleSet) -> Iterable[_Doc]:
    categories = rs.manifest.categories
    for sid, sit in rs.situations.items():
        flow = rs.flowcharts.get(sit.flowchart)
        cat = categories.get(flow.category or "") if flow else None
        values = "、".join(dict.fromkeys(_value_labels(rs, sit.when)))
        body = " ".join(
            filter(None, [f"{sit.flowchart} {flow.name}" if flow else sit.flowchart, cat.label if cat else "", values])
        )
        yield _Doc("situation", sid, sit.name, sit.name_en, body, sit.flowchart)
    item_flows: dict[str, list[str]] = {}
    for fid, flow in rs.flowcharts.items():
        cat = categories.get(flow.category or "")
        names: list[str] = []
        for step in flow.steps.values():
            for iid in (step.item, *(v.item for v in step.variants.values())):
                item_flows.setdefault(iid, [])
                if fid not in item_flows[iid]:
                    item_flows[iid].append(fid)
                item = rs.items.get(iid)
                name = step.name if step.name and iid == step.item else (item.name if item else iid)
                if name not in names:
                    names.append(name)
        parts = [cat.label if cat else "", cat.gloss if cat else "", flow.description or "", "、".join(names)]
        yield _Doc("flowchart", fid, flow.name, flow.name_en, " ".join(p for p in parts if p), fid)
    material_items: dict[str, list[str]] = {}
    for iid, item in rs.items.items():
        for mid in item.materials:
            material_items.setdefault(mid, []).append(iid)
        dept = rs.departments.get(item.department)
        parts = [dept.name if dept else item.department, item.result or "", "；".join(item.legal_basis)]
        yield _Doc(
            "item", iid, item.name, item.name_en, " ".join(p for p in parts if p), None, tuple(item_flows.get(iid, ()))
        )
    for mid, mat in rs.materials.items():
        issuer = rs.departments.get(mat.issuer or "")
        parts = [mat.condition or "", issuer.name if issuer else "", mat.note or ""]
        yield _Doc(
            "material", mid, mat.name, "", " ".join(p for p in parts if p), None, tuple(material_items.get(mid, ()))
        )


def index_for(ruleset: RuleSet) -> SearchIndex:
    """The rule-set's search index (built on first use, then kept with the rule-set)."""
    cache = ruleset.derived
    if cache.search_index is None:
        cache.search_index = SearchIndex(ruleset)
    return cache.search_index


def search(query: str, *, ruleset: RuleSet | None = None, kind: str | None = None, limit: int = 20) -> list[Hit]:
    """Search a rule-set (default: the packaged one); see :class:`SearchIndex`."""
    return index_for(ruleset or default_ruleset()).search(query, kind=kind, limit=limit)
