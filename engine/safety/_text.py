"""Text normalisation shared by the crisis detector and the output check.

Everything here is linear in the input length: it runs on every message,
including hostile ones (20k characters, control characters, RTL overrides).
"""

from __future__ import annotations

import re
import unicodedata

# Full-width ASCII (ｋｉｌｌ, ＪＵＳＴ) is common on Korean IMEs; NFKC would fix it
# but also turns compatibility jamo (ㅈㅅ) into conjoining jamo, so map it by hand.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space

# Invisible characters people use to split words past filters: zero-width and
# bidi controls, soft hyphen, Hangul fillers, variation selectors, tag
# characters, combining marks (zalgo). Removing them re-joins the word.
_INVISIBLE = re.compile(
    "["
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
    "]+"
)
_APOSTROPHES = re.compile("['\u2018\u2019`\u00b4]")
# Keep Hangul syllables, consonant jamo (초성 slang), ASCII letters and digits.
# Vowel jamo (ㅠㅜ) and everything else become a word break.
_NON_WORD = re.compile("[^가-힣ㄱ-ㅎa-z0-9]+")
_LEET = str.maketrans({"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "7": "t"})
# Only digits touching a letter (k1ll), so "10 kms" stays a distance.
_LEET_DIGIT = re.compile("(?<=[a-z])[013457]|[013457](?=[a-z])")


def clean(text: str) -> str:
    """NFC, full-width folded, invisible characters removed; case kept."""
    text = unicodedata.normalize("NFC", text.translate(_FULLWIDTH))
    return _INVISIBLE.sub("", text)


def words(cleaned: str) -> str:
    """Lower-case word view: letters, digits, Hangul and jamo separated by single spaces."""
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", cleaned.lower())).strip()


def join_single_syllables(view: str) -> str:
    """Glue runs of one-character tokens: '죽 고 싶 어' -> '죽고싶어'.

    Spacing every syllable is the commonest way to dodge a filter; real
    sentences rarely contain two one-syllable words in a row that would
    form a crisis phrase when glued.
    """
    tokens = view.split(" ")
    out: list[str] = []
    run: list[str] = []
    for tok in tokens:
        if len(tok) == 1:
            run.append(tok)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(tok)
    if run:
        out.append("".join(run))
    return " ".join(out)


def deleet(view: str) -> str:
    """'k1ll mys3lf' -> 'kill myself'; only used for the English rules."""
    return _LEET_DIGIT.sub(lambda m: m.group().translate(_LEET), view)
