"""Where to ask: a practical question maeum cannot answer (a pet's dose, a blood-sugar food, a labour
rule, a visa, a benefit, a lease) gets the one public service that can, instead of a reply about
the topic that ignores the question.

Read blind, "제가 답을 드리긴 어렵지만…" and bank replies about the topic ("당뇨 때문에 식탁에 작은
변화가 생겼군요") after such a question were curt or wrong ("질문엔 답 없음", "주휴수당 질문을 알바
구직으로 잘못 읽음"). maeum still does not answer: it names who answers, for free, and says the
number. Only national lines that take such questions (국번 없이) are named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Asking for information: a question mark, or a question's ending or verb ("…되나요", "알려 주세요").
_ASKS = re.compile(
    # Not a bare "나요": "눈물 나요", "화나요" tell a feeling (a dog's death answered with the vet).
    r"\?|(?:[되돼하있없가주]나요|까요|되죠|맞죠|있나|알려 ?(?:줘|주|주세요)|가르쳐|궁금해|궁금합니다"
    r"|방법 ?(?:있|좀))"
)


@dataclass(frozen=True)
class Referral:
    name: str
    topic: re.Pattern[str]
    replies: tuple[str, ...]
    urgent: re.Pattern[str] | None = None
    urgent_replies: tuple[str, ...] = ()


def _r(
    name: str, topic: str, *replies: str, urgent: str | None = None, now: tuple[str, ...] = ()
) -> Referral:
    return Referral(name, re.compile(topic), replies, re.compile(urgent) if urgent else None, now)


_PET = r"(?:강아지|고양이|냥이|댕댕이|반려견|반려묘|앵무|햄스터|토끼|말티즈|푸들|포메|진돗개|노견|노묘)"

REFERRALS: tuple[Referral, ...] = (
    _r(
        "pet",
        _PET + r".{0,30}(?:먹어도|먹여도|줘도|몇 ?(?:개|번|회|시간)|산책|병원|아파|토해|토했|설사"
        r"|안 먹|접종|중성화|급여)"
        r"|(?:츄르|사료|간식).{0,20}(?:몇|얼마|줘도|먹어도)",
        "아이 챙기는 마음이 느껴져요. "
        "아이마다 체중과 건강이 달라서, 다니시는 동물병원 선생님께 여쭤보시는 게 가장 정확해요.",
        urgent=r"(?:밤|새벽|이틀|하루 ?종일|계속).{0,30}(?:안 먹|토|설사|숨|피)"
        r"|(?:안 먹|토|설사).{0,30}(?:밤|새벽|이틀)",
        now=("많이 걱정되시죠. 밤이라도 24시간 동물병원에 전화로 먼저 아이 상태를 여쭤보시면 좋겠어요.",),
    ),
    _r(
        "child_health",
        r"(?:아기|애기|신생아|아이|딸|아들).{0,20}(?:열이|열 ?3[0-9]|경련|토해|토했|숨을|응급실)",
        "많이 놀라고 걱정되시죠. 판단이 어려우시면 119에 전화하시면 응급실에 가야 할지 상담받으실 수 있어요.",
    ),
    _r(
        "health",
        r"(?:영양제|혈당|당뇨|혈압|증상|부작용|진통제|수면제|처방|약을|약 ?(?:먹|복용)"
        r"|먹어도 (?:되|돼|괜찮)|갱년기|디스크|관절)",
        "몸에 관한 일이라 제가 함부로 말씀드리기 조심스러워요. "
        "진료받으시는 선생님이나 약사님께 여쭤보시는 게 가장 안전해요.",
    ),
    _r(
        "labour",
        r"주휴|최저임금|최저시급|퇴직금|연차|해고|4대 ?보험|근로계약|임금 ?체불"
        r"|월급(?:을|이)? 안 (?:줘|들어)|수당|실업급여",
        "일한 만큼 제대로 받으셔야죠. "
        "고용노동부 상담센터(국번 없이 1350)에서 내 경우에 맞게 정확히 안내받으실 수 있어요.",
    ),
    _r(
        "tax",
        r"종합소득세|종소세|세금 ?신고|연말정산|3\.3 ?%|부가세|세금 ?환급",
        "세금은 헷갈리는 게 당연해요. "
        "국세청 상담센터(국번 없이 126)에 물어보시면 내 경우에 맞게 안내받으실 수 있어요.",
    ),
    _r(
        "immigration",
        r"비자|외국인 ?등록|체류 ?(?:기간|연장)|출입국|하이코리아|hikorea|영주권|귀화",
        "처음이면 정말 어렵게 느껴지죠. "
        "외국인종합안내센터(국번 없이 1345)에 전화하시면 여러 나라 말로 안내받으실 수 있어요.",
    ),
    _r(
        "welfare",
        # Not any "지원 신청" (a young farmer's grant plan) nor any "복지" (a 복지관 singing class).
        r"복지 ?(?:혜택|서비스|지원)|수급|한부모|기초연금|바우처|긴급 ?지원|장애인 ?등록|돌봄 ?서비스"
        r"|양육 ?수당|생계 ?지원",
        "혼자 알아보시기 막막하셨겠어요. "
        "보건복지상담센터(국번 없이 129)나 주민센터에서 받을 수 있는 지원을 안내해 줘요.",
    ),
    _r(
        "legal",
        r"전세 ?(?:사기|계약|보증금)|보증금|근저당|집주인.{0,10}(?:안 ?줘|돌려)|소송|고소|합의금|법적으로",
        "혼자 판단하기 어려운 일이라 더 불안하시죠. "
        "대한법률구조공단(국번 없이 132)에서 무료로 법률 상담을 받으실 수 있어요.",
    ),
)


def referral_options(text: str) -> tuple[str, ...]:
    """The replies naming who can answer the practical question ``text`` asks; () when it asks
    none, or none this module knows where to send."""
    if not _ASKS.search(text):
        return ()
    for referral in REFERRALS:
        if referral.topic.search(text):
            if referral.urgent is not None and referral.urgent.search(text):
                return referral.urgent_replies
            return referral.replies
    return ()
