"""Issue 20, case 12: the library's edges.  ``match`` answers ``invalid`` for objects whose
``__eq__``/``__hash__``/``__bool__`` raise, for array-likes and for mappings that cannot be read;
``schedule`` refuses wrong kinds of argument with a typed :class:`InputError`; unknown flags,
situations, steps and variants are refused with the allowed values, never ignored.

(The calendar's thread safety and range and the acceptance-day rule belong to issue 11.)"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from flowmatch.errors import InputError
from flowmatch.flows import for_situation, resolve
from flowmatch.matcher import matcher_for
from flowmatch.ruleset import load_ruleset
from flowmatch.scheduler import schedule

from ._support import BASE

RS = load_ruleset(BASE, cache=False)
MATCHER = matcher_for(RS)


class RaisingEq(str):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("__eq__")

    def __hash__(self) -> int:
        raise RuntimeError("__hash__")


class RaisingHash:
    def __hash__(self) -> int:
        raise RuntimeError("__hash__")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("__eq__")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__")


class ArrayLike:
    """What numpy arrays do: == answers element-wise and truth is ambiguous."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> Any:
        return [True, False]

    def __bool__(self) -> bool:
        raise ValueError("the truth value of an array is ambiguous")


class Unreadable(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("__getitem__")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("__iter__")

    def __len__(self) -> int:
        return 1


class OddKeys(Mapping[Any, Any]):
    """A mapping whose key hashes, compares and prints only by raising."""

    def __getitem__(self, key: Any) -> Any:
        return "road"

    def __iter__(self) -> Iterator[Any]:
        yield RaisingHash()

    def __len__(self) -> int:
        return 1


class BrokenItems(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("items")


WEIRD: list[Any] = [
    {"kind": RaisingHash()},
    {"kind": ArrayLike()},
    {"removes_trees": ArrayLike()},
    {"kind": "road", "removes_trees": RaisingHash()},
    {"kind": "road", "x": RaisingHash()},
    "odd keys",
    Unreadable(),
    BrokenItems(kind="road"),
]


@pytest.mark.parametrize("profile", WEIRD, ids=range(len(WEIRD)))
def test_weird_objects_are_invalid_not_exceptions(profile: Any) -> None:
    if profile == "odd keys":
        profile = OddKeys()
    result = MATCHER.match(profile)
    assert result.status == "invalid"
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_str_subclass_is_read_as_its_text() -> None:
    """numpy.str_ and friends: the text counts, the subclass's own __eq__/__hash__ never run."""
    assert MATCHER.match({"kind": RaisingEq("road")}).status == "matched"


@pytest.mark.parametrize("flowchart", [None, {}, 5, ["F01"]])
def test_schedule_refuses_what_is_not_a_flowchart(flowchart: Any) -> None:
    with pytest.raises(InputError, match=r"^flowchart must be a flowchart id or a resolved flow, got "):
        schedule(flowchart, ruleset=RS)


@pytest.mark.parametrize("start", [20260302, 2026.0, ["2026-03-02"], b"2026-03-02"])
def test_schedule_refuses_a_start_that_is_not_a_date(start: Any) -> None:
    with pytest.raises(InputError, match=r"^start must be a date or YYYY-MM-DD text, got "):
        schedule("F01", start, ruleset=RS)


@pytest.mark.parametrize("calendar", ["x", {}, dt.date(2026, 1, 1)])
def test_schedule_refuses_a_calendar_that_is_not_one(calendar: Any) -> None:
    with pytest.raises(InputError, match=r"^calendar must be a WorkCalendar, got "):
        schedule("F01", "2026-03-02", calendar, ruleset=RS)


def test_unknown_flags_are_refused_with_the_allowed_ones() -> None:
    with pytest.raises(InputError) as err:
        schedule("F01", ruleset=RS, flags={"nope": True})
    assert str(err.value) == "unknown flag 'nope'; allowed: removes_trees"
    with pytest.raises(InputError, match="unknown flag 'nope'"):
        resolve(RS, "F01", flags={"nope": True})


def test_unknown_steps_and_variants_are_refused() -> None:
    with pytest.raises(InputError, match=r"^flowchart F01 has no step 'x' with variants"):
        schedule("F01", ruleset=RS, variants={"x": "y"})
    with_variants = [
        (fid, sid, step) for fid, f in RS.flowcharts.items() for sid, step in f.steps.items() if step.variants
    ]
    for fid, sid, step in with_variants:
        with pytest.raises(InputError) as err:
            resolve(RS, fid, variants={sid: "no-such-variant"})
        assert str(err.value) == (
            f"step {sid} of flowchart {fid} has no variant 'no-such-variant'; allowed: {', '.join(step.variants)}"
        )


def test_an_unknown_situation_is_refused() -> None:
    with pytest.raises(InputError, match=r"^unknown situation 'S99'; allowed: "):
        for_situation(RS, "S99")
