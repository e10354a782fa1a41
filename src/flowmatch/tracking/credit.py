"""统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters, the last a check digit.

The alphabet is the digits and the capitals without I, O, Z, S, V (31 characters); character *i*
(0-based) weighs ``3**i mod 31``; the check character is the one whose value is
``(31 - sum mod 31) mod 31``.
"""

from __future__ import annotations

from typing import Final

from ..errors import InputError

ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_VALUE: Final = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """The code, upper-cased and stripped, or :class:`InputError` saying what is wrong."""
    text = code.strip().upper()
    if len(text) != 18:
        raise InputError(f"统一社会信用代码 {code!r} has {len(text)} characters; a code has 18")
    bad = [ch for ch in text if ch not in _VALUE]
    if bad:
        raise InputError(
            f"统一社会信用代码 {code!r} contains {bad[0]!r}; allowed: digits and capitals except I, O, Z, S, V"
        )
    expected = check_character(text[:17])
    if text[17] != expected:
        raise InputError(
            f"统一社会信用代码 {code!r} fails the GB 32100-2015 check: the last character should be {expected!r}"
        )
    return text
