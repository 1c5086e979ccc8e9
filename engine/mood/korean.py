"""Small Korean text helpers shared by the summary and the chart."""

from __future__ import annotations

from datetime import date
from typing import Final

WEEKDAYS: Final = ("월", "화", "수", "목", "금", "토", "일")  # date.weekday() order

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
# How each digit is read aloud (영 일 이 삼 사 오 육 칠 팔 구): which readings end in a consonant.
_DIGIT_HAS_FINAL: Final = {
    "0": True,
    "1": True,
    "2": False,
    "3": True,
    "4": False,
    "5": False,
    "6": True,
    "7": True,
    "8": True,
    "9": False,
}
_NATIVE_COUNTS: Final = ("한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열")


def has_final_consonant(word: str) -> bool | None:
    """Whether the word ends in a 받침; None when it can't be told (Latin text, symbols)."""
    if not word:
        return None
    last = word[-1]
    if _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return (ord(last) - _HANGUL_FIRST) % 28 != 0
    return _DIGIT_HAS_FINAL.get(last)


def josa(word: str, after_consonant: str, after_vowel: str) -> str:
    """`word` with the particle form its last sound needs, e.g. josa("불안", "이", "가") == "불안이".

    Labels can be anything a model emits, so when the sound is unknown both forms are shown,
    the way Korean UI text conventionally does: "joy이(가)".
    """
    final = has_final_consonant(word)
    if final is None:
        return f"{word}{after_consonant}({after_vowel})"
    return word + (after_consonant if final else after_vowel)


def times(n: int) -> str:
    """ "한 번", "두 번" … for counts people would say with native numbers; digits beyond ten."""
    return f"{_NATIVE_COUNTS[n - 1]} 번" if 1 <= n <= len(_NATIVE_COUNTS) else f"{n}번"


def day_label(d: date) -> str:
    return f"{d.month}/{d.day} ({WEEKDAYS[d.weekday()]})"


def period_name(weeks: int) -> str:
    return "이번 주" if weeks == 1 else f"지난 {weeks}주"
