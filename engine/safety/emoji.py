"""Crisis in emoji: combinations and repetitions of harm emoji, not a single 🔪 while cooking."""

from __future__ import annotations

import re

# A single harm emoji is everyday (🔪 while cooking, 💊 reminders, 🪦 "RIP my
# wallet"). Crisis when two harm emoji co-occur (🔪🩸), one is repeated three
# times (💊💊💊), a harm emoji comes with despair (😭, 🥀, 끝/안녕/죽), or the
# message is nothing but harm emoji — unless laughter or a benign context
# (cooking, illness, period, Halloween) explains it.
_HARM_EMOJI = frozenset("🔪🗡🩸🪢🪦⚰🔫💊")
_DESPAIR_EMOJI = frozenset("😭😢😞😔😩😫😿💔🥀🖤😣😖😥😓😟🙁☹😰")
_LAUGH_EMOJI = frozenset("😂🤣😆😹😁😄😅")
_HARM_RE = re.compile("[" + "".join(sorted(_HARM_EMOJI)) + "]")
_LAUGH_WORDS = re.compile(r"ㅋㅋ|ㅎㅎ|\blol\b|\blmao\b|\bhaha")
_DISTRESS_WORDS = re.compile(
    r"죽|끝내|끝낼|(?<![가-힣])끝|마지막|안녕|사라지|없어지|그만|힘들|지쳤|지쳐|우울|외로|모아|모았|미안|"
    r"고마웠|살기|버티|못하겠|싫어|싫다|괴로|고통|다 ?먹|전부|한꺼번에|몽땅|또 ?했|die|dying"
)
_EMOJI_BENIGN = re.compile(
    r"요리|손질|베였|베임|칼질|부엌|주방|반창고|생리|월경|코피|헌혈|피검사|채혈|주사|할로윈|분장|코스프레|"
    r"공포|호러|영화|드라마|게임|웹툰|감기|몸살|독감|코로나|두통|비타민|영양제|처방|병원|약국|알레르기|"
    r"비염|기침|콧물|열이|시간|통장|월급|카드값|cooking|halloween|movie|game|vitamin|period"
)


def emoji_crisis(cleaned: str, view: str) -> bool:
    harms = _HARM_RE.findall(cleaned)
    if not harms:
        return False
    if _LAUGH_WORDS.search(view) or any(ch in _LAUGH_EMOJI for ch in cleaned):
        return False
    if _EMOJI_BENIGN.search(view):
        return False
    if len(set(harms)) >= 2 or len(harms) >= 3:
        return True
    if not view:  # nothing but symbols and emoji
        return True
    return bool(_DISTRESS_WORDS.search(view)) or any(ch in _DESPAIR_EMOJI for ch in cleaned)
