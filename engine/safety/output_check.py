"""Last gate on generated replies before they reach the person.

A small generative model can echo or invent harmful text, so a reply is
rejected (and replaced by a fixed fallback) when it:
* is empty;
* would itself trip the crisis detector (e.g. the model saying 저도 죽고 싶어요);
* names a method or place (자살예방 보도준칙 4.0: never describe means);
* frames death as a solution, escape or choice, or romanticises it
  (보도준칙 4.0; '극단적 선택' is also discouraged because it calls it a choice);
* encourages self-harm;
* insults or swears at the person.
False positives only cost a blander reply, so the lists are broad.
"""

from __future__ import annotations

import re

from engine.safety._text import clean, words
from engine.safety.crisis import assess
from engine.safety.referral import SAFE_FALLBACK_REPLIES

__all__ = ["choose_fallback", "is_safe_reply"]

_METHOD_OR_PLACE = re.compile(
    r"수면 ?제|수면 ?유도제|수면약|졸피뎀|스틸녹스|자낙스|신경 ?안정제|아티반|리보트릴|"
    r"항우울제 ?.{0,6}(?:많이|한꺼번에)|(?:타이레놀|진통제|해열제|(?<![가-힣])약) ?.{0,8}(?:한 ?통|"
    r"한꺼번에|왕창|몽땅|과다|여러 ?통|수십 ?알)|과다 ?복용|약물 ?과다|오버 ?도즈|치사량|번개탄|연탄|"
    r"(?<![가-힣])숯 ?(?:을|를)? ?피우|(?<![가-힣])목 ?(?:을 ?)?(?:매|맬|맸)|목매|투신|뛰어 ?내리|"
    r"뛰어 ?내릴|옥상|난간|(?:한강|마포) ?(?:다리|대교|물)|대교 ?(?:위|난간)|손목 ?(?:을 ?)?(?:긋|그어|"
    r"그었|그으)|긋기|농약|제초제|청산가리|독극물|독약|쥐약|락스 ?(?:를|을)? ?마시|밧줄|로프|질식|"
    r"가스 ?(?:를|을)? ?(?:틀|마시)|몇 ?(?:알|층)|높은 ?(?:곳|데)에서 ?(?:떨어|뛰어)|떨어지면 ?죽"
)
# 자살 only inside the name of a prevention service (자살예방상담전화 109).
# Spaced ("자 살") only as a word of its own: "혼자 살기 시작하는 건" is about living alone.
_SUICIDE_WORD = re.compile(r"자살(?! ?예방)|(?<![가-힣])자 살(?! ?예방)")
_EUPHEMISM = re.compile(r"극 ?단 ?적 ?(?:인 ?)?(?:선 ?택|시 ?도)")

_DEATH = (
    r"(?:죽음|죽는|죽으면|죽어(?!가)|죽을|세상을 ?떠나|생을 ?마감|목숨을 ?끊|삶을 ?끝|인생을 ?끝|사라지면|"
    r"없어지면|영원히 ?잠|떠나는 ?것)"
)
_SOLUTION = (
    r"(?:해결|편해|편할|편안해|자유로|해방|벗어나|벗어날|끝낼 ?수|쉴 ?수|선택|용기|방법|답이|답일|평화|"
    r"안식|나을|(?<![가-힣])낫|괜찮|이해해요|존중|아름다|고통 ?없|행복해질|나쁘지 ?않)"
)
_DEATH_AS_SOLUTION = re.compile(f"{_DEATH}.{{0,30}}{_SOLUTION}|{_SOLUTION}.{{0,15}}{_DEATH}")
_ROMANTICISING = re.compile(
    r"영원한 ?(?:안식|휴식|잠)|하늘의 ?별이 ?되|더 ?나은 ?곳으로|고통 ?없는 ?곳|아름다운 ?(?:죽음|마지막|"
    r"이별)|영원히 ?(?:쉬|잠들|편해)|편히 ?잠드"
)
_SELF_HARM = r"(?:자해|상처 ?(?:를 ?)?내|긋|그어|피를 ?내|때리)"
_ENCOURAGE = (
    r"(?:해 ?보세요|해 ?봐요|해도 ?(?:돼|되|괜찮|좋)|하셔도|하세요|하면 ?(?:나아|편해|풀려|좋)|"
    r"도움이 ?(?:돼|될)|방법이에요|추천|괜찮아요)"
)
_SELF_HARM_ENCOURAGED = re.compile(f"{_SELF_HARM}.{{0,20}}{_ENCOURAGE}")
_INSULT = re.compile(
    r"씨 ?발|(?<![가-힣])시 ?발(?!점|역)|ㅅ ?ㅂ|씨 ?바|씨 ?빨|병 ?신|ㅂ ?ㅅ|븅 ?신|미친 ?(?:놈|년|새끼|"
    r"새기|개)|(?:(?<![가-힣])개|(?<![가-힣])이|(?<![가-힣])저|(?<![가-힣])그|니|너|씨|미친) ?새 ?끼|좆|"
    r"존 ?나|(?<![가-힣])졸라|꺼 ?져|꺼지라|닥 ?쳐|닥치세요|닥치라|지 ?랄|ㅈ ?ㄹ|엿 ?먹|(?<![가-힣])등 ?신|"
    r"찐 ?따|느 ?금|니 ?애미|애미|애비|한심한 ?(?:놈|새끼|인간)|쓰레기 ?같은|(?:그냥|걍|너|니|넌|빨리|좀|"
    r"나가) ?(?:죽어|뒤져|디져|죽어라|뒤져라|디져라|죽어버려|뒈져|죽으세요)(?![가-힣])|"
    r"(?<![가-힣])(?:죽어라|뒤져라|디져라|죽어버려|뒈져|죽으세요)(?![가-힣])|\bfuck|\bshit\b|\bbitch|"
    r"\basshole|\bkys\b|kill yourself"
)
# Telling the person they are worthless.
_DEMEANING = re.compile(
    r"(?:당신|너|넌|니|그쪽)(?:은|는|이|가)? ?(?:정말 ?|진짜 ?|참 ?)?(?:쓸모 ?없|한심|가치 ?(?:가 ?)?없|"
    r"살 ?가치|없어지는 ?게 ?나|필요 ?없는 ?사람)"
)

_CHECKS: tuple[re.Pattern[str], ...] = (
    _METHOD_OR_PLACE,
    _SUICIDE_WORD,
    _EUPHEMISM,
    _DEATH_AS_SOLUTION,
    _ROMANTICISING,
    _SELF_HARM_ENCOURAGED,
    _INSULT,
    _DEMEANING,
)


def is_safe_reply(text: str) -> bool:
    """True when a generated reply may be shown as is."""
    view = words(clean(text))
    if not view:
        return False
    if assess(text).is_crisis:
        return False
    return not any(check.search(view) for check in _CHECKS)


def choose_fallback(seed: int) -> str:
    """A fixed supportive reply; deterministic so tests and logs are reproducible."""
    return SAFE_FALLBACK_REPLIES[seed % len(SAFE_FALLBACK_REPLIES)]
