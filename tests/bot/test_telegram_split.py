"""Splitting long replies for the platforms' limits, and the small shared adapter helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.common import AskedOnce
from bot.split import DISCORD_LIMIT, TELEGRAM_LIMIT, split_message, utf16_len
from bot.telegram_bot import parse_weeks


def test_short_text_is_one_piece() -> None:
    assert split_message("안녕하세요", TELEGRAM_LIMIT) == ["안녕하세요"]
    assert split_message("", TELEGRAM_LIMIT) == [""]


def test_long_text_is_cut_at_line_breaks_first() -> None:
    paragraph = "오늘 하루도 정말 수고 많으셨어요. " * 40  # ~800 characters
    text = "\n".join([paragraph.strip()] * 8)
    pieces = split_message(text, TELEGRAM_LIMIT)
    assert len(pieces) > 1 and all(utf16_len(p) <= TELEGRAM_LIMIT for p in pieces)
    assert all(p.endswith("수고 많으셨어요.") for p in pieces)  # whole paragraphs, nothing cut mid-word


def test_without_line_breaks_it_cuts_after_a_sentence() -> None:
    text = "천천히 이야기해 주세요. " * 300
    pieces = split_message(text, DISCORD_LIMIT)
    assert all(utf16_len(p) <= DISCORD_LIMIT for p in pieces)
    assert all(p.endswith("주세요.") for p in pieces)


def test_emoji_count_double_as_the_platforms_count_them() -> None:
    pieces = split_message("🙂" * 3000, TELEGRAM_LIMIT)
    assert [utf16_len(p) for p in pieces] == [4096, 1904]


@given(st.text(alphabet=st.sampled_from("가나다 .\n🙂a"), max_size=9000), st.sampled_from([50, 2000]))
def test_pieces_always_fit_and_keep_every_word(text: str, limit: int) -> None:
    pieces = split_message(text, limit)
    assert all(utf16_len(p) <= limit for p in pieces)
    assert "".join(text.split()) == "".join("".join(pieces).split())


@pytest.mark.parametrize(
    ("args", "weeks"),
    [
        ([], 1),
        (["4w"], 4),
        (["4"], 4),
        (["4주"], 4),
        (["12W"], 12),
        (["0"], None),
        (["13w"], None),
        (["올해"], None),
        (["2", "w"], 2),
    ],
)
def test_mood_period_argument(args: list[str], weeks: int | None) -> None:
    assert parse_weeks(args) == weeks


def test_consent_is_asked_once_per_person_and_again_after_forget() -> None:
    asked = AskedOnce(cap=2)
    assert asked.first_time("telegram:1") and not asked.first_time("telegram:1")
    asked.forget("telegram:1")
    assert asked.first_time("telegram:1")
    asked.first_time("telegram:2")
    asked.first_time("telegram:3")  # over the cap: the oldest is dropped, memory stays bounded
    assert asked.first_time("telegram:1")
