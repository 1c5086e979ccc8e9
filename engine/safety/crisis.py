"""Rule-based crisis detector that runs on every user message before any model.

Design notes (why it looks like this):
* Recall first: a missed crisis is far worse than an extra referral card, but
  everyday Korean is full of 죽겠다/죽인다 intensifiers, so each rule is a
  specific phrase shape plus small context exclusions rather than a keyword.
* Every regex is linear: no nested quantifiers, context windows are bounded,
  so a 20,000-character or adversarial message cannot backtrack badly.
* Only a category is returned; the text is never stored or echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.safety._text import clean, deleet, join_single_syllables, words

__all__ = ["CATEGORIES", "CrisisAssessment", "assess"]

CATEGORIES: tuple[str, ...] = (
    "direct",
    "indirect",
    "means",
    "self_harm",
    "goodbye",
    "english",
    "chosung",
    "emoji",
)


@dataclass(frozen=True, slots=True)
class CrisisAssessment:
    is_crisis: bool
    category: str | None


_NOT_CRISIS = CrisisAssessment(False, None)


@dataclass(frozen=True, slots=True)
class _Rule:
    category: str
    pattern: re.Pattern[str]
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None
    not_near: re.Pattern[str] | None
    needs_near: re.Pattern[str] | None
    span: int

    def fires(self, text: str) -> bool:
        for m in self.pattern.finditer(text):
            start, end = m.span()
            if self.not_before is not None and self.not_before.search(
                text[max(0, start - self.span) : start]
            ):
                continue
            if self.not_after is not None and self.not_after.match(text, end, end + self.span):
                continue
            if self.not_near is not None and self.not_near.search(
                text, max(0, start - self.span), end + self.span
            ):
                continue
            if self.needs_near is not None and not self.needs_near.search(
                text, max(0, start - self.span), end + self.span
            ):
                continue
            return True
        return False


def _rule(
    category: str,
    pattern: str,
    *,
    before: str | None = None,
    after: str | None = None,
    near: str | None = None,
    needs: str | None = None,
    span: int = 24,
) -> _Rule:
    """`before`/`after`/`near` veto a match; `needs` must appear near it."""
    return _Rule(
        category,
        re.compile(pattern),
        re.compile(before) if before else None,
        re.compile(after) if after else None,
        re.compile(near) if near else None,
        re.compile(needs) if needs else None,
        span,
    )


# --- shared context vocabularies (exclusions) -------------------------------

# "살기 싫어" about a place or flatmate, not about living at all.
_LOCATIVE_BEFORE = (
    r"(?:(?<!세상)(?<!세상 )(?:에서|에)|랑|이랑|하고|와|과|같이|함께|혼자|이렇게|그렇게|저렇게|"
    r"이런 ?식으로|그런 ?식으로|동네|서울|시골|지방|(?<![가-힣])집|나라|한국|기숙사|평생|여기|거기|저기|"
    r"회사) ?(?:는|도|만|은|서)? ?$"
)
# 살다 is also the stem of 사다 (to buy): 살 이유가 없어 about a pair of shoes.
_SHOPPING = (
    r"(?:사고|구매|쇼핑|비싸|가격|할인|장바구니|택배|주문|카드값|품절|만 ?원|천 ?원|원짜리|신발|"
    r"(?<![가-힣])옷|가방|사야|살까|물건|이거|그거|저거|이걸|그걸|저걸|굳이)"
)
# Physical discomfort that people "can't bear any more" in a non-crisis way.
_TRIVIAL_CAUSE = (
    r"(?:배고|졸려|졸리|잠 ?와|잠이 ?와|더워|더웠|더운|(?<![가-힣])덥|추워|추운|(?<![가-힣])춥|피곤|화장실|"
    r"마려|심심|지루|궁금|웃겨|웃기|귀여|배불|목말|허리|냄새|시끄|(?<![가-힣])렉|기다리|줄 ?서)"
)
# Farewells at work/school/moving, thanks for a specific favour, fiction.
_LIFE_EVENT = (
    r"(?:퇴사|퇴직|이직|입사|졸업|전학|이사|송별|은퇴|알바|회사|팀장|사장|부장|과장|선생|교수|동료|선배|"
    r"후배|담임|계약|전역|제대|입대|군대|또 ?보|다음 ?(?:주|달|에|번)|내일 ?(?:봐|보)|연락 ?할게|"
    r"연락 ?하자|연락 ?해|새 ?(?:회사|학교|직장)|수업|학기|종강|방송|연재|시즌|마지막 ?(?:날|출근|수업|"
    r"방송|회|근무)|이민|유학|출국|여행|휴가|방학|앞으로도|덕분에|생일|축하|선물|드라마|영화|소설|웹툰|"
    r"가사|노래|주인공|장면|콘서트|공연|경기|대회|시험)"
)
_TRAVEL = (
    r"(?:여행|이사|유학|이민|출국|워홀|워킹 ?홀리데이|출장|휴가|짐|(?<![가-힣])방|자취|퇴사|이직|전학|귀국|"
    r"해외|캠핑|책상|청소)"
)
_GAME = (
    r"(?:게임|캐릭|몹|보스|레이드|랭크|(?<![가-힣])판|스테이지|(?<![가-힣])롤|배그|메이플|마크|피파|"
    r"오버워치|발로|서든|좀비|리스폰|부활|던전)"
)
# Something other than the speaker is the one dying.
_NONHUMAN_BEFORE = (
    r"(?:배터리|폰|핸드폰|휴대폰|노트북|컴퓨터|서버|와이파이|캐릭터|캐릭|몹|보스|좀비|식물|화분|"
    r"(?<![가-힣])꽃|나무|물고기|금붕어|햄스터|벌레|모기|바퀴|악당|빌런|범인|주인공|걔|쟤|그 ?새끼|그놈|"
    r"그년|(?<![가-힣])너|(?<![가-힣])니|(?<![가-힣])넌|상사|부장|팀장)(?:가|이|는|은|도)? ?(?:그냥 ?|"
    r"진짜 ?|좀 ?|빨리 ?)?$"
)
_ROOF_LEISURE = (
    r"(?:정원|바람|바베큐|바비큐|고기|파티|빨래|캠핑|텃밭|카페|야경|(?<![가-힣])별|담배|흡연|운동|공사|"
    r"방수|청소|페인트|루프탑|화분|식물|사진|일출|일몰|노을|불꽃|치맥|맥주|커피|점심|도시락|산책|수리|"
    r"안테나|물탱크|고양이)"
)
_HAN_LEISURE = (
    r"(?:치맥|치킨|라면|피크닉|산책|자전거|따릉|러닝|달리기|조깅|공원|야경|돗자리|불꽃|축제|데이트|놀러|"
    r"수영장|유람선|요트|카페|날씨|바람 ?쐬|친구|가족|드라이브|캠핑|텐트|버스킹|마라톤|배달|편의점|맥주|"
    r"노을|벚꽃|사진|(?<![가-힣])뷰|아파트|전세|월세|매매|집값|주말에|같이 ?가|놀자|분수|무지개|건너|출근|"
    r"퇴근|버스|지하철|교통|차 ?막|라이딩|카약|패들)"
)
_JUMP_LEISURE = (
    r"(?:번지|스카이|다이빙|패러|수영장|계곡|점프|놀이|트램|미끄럼|물놀이|바다에|수영|낙하산|침대|소파|"
    r"계단|버스|차에서|무대)"
)
_GRILL = (
    r"(?:고기|바베큐|바비큐|캠핑|숯불|구워|(?<![가-힣])굽|구이|불 ?붙|불 ?피우|화로|그릴|삼겹|캠프|봉사|"
    r"배달|나눔|난로|보일러|화덕|고구마|가게)"
)
_DRAWING = (
    r"(?:그림|드로잉|스케치|캐릭터|선을|(?<![가-힣])선 |밑줄|연필|(?<![가-힣])펜|낙서|도안|만화|줄을|박스|"
    r"상자|테이프|종이|포장|비닐|택배|원단|가죽|고기|야채|채소|과일|케이크|(?<![가-힣])빵|요리|손질|실수로|"
    r"모르고|성냥)"
)
_ACCIDENT = (
    r"(?:넘어|다치|다쳐|다쳤|부딪|실수로|모르고|고양이|강아지|긁혔|요리|운동|자전거|수술|주사|사고|베였)"
)
_POISON_BENIGN = r"(?:실수로|냄새|청소|뿌렸|뿌리|잡으려|벌레|바퀴|쥐 ?잡|모기|(?<![가-힣])밭|농사|텃밭|잡초)"
# Medication routines and disposal, not hoarding.
_PILL_BENIGN = (
    r"(?:버리|버려|버릴|수거|반납|갖다|가져다|폐의약품|유통 ?기한|기부|아침|점심|저녁|식후|식전|처방대로|"
    r"같이 ?먹어도|먹어도 ?(?:돼|되)|괜찮을까|영양제|비타민|유산균|상비|위험성|위험하|강의|교육|주의|경고|"
    r"부작용|간 ?(?:이 ?)?(?:나빠|손상|독성)|나빠진대|조심|예방)"
)
# Pets/children/food in "if X eats this, does it die?" questions.
_PET_FOOD = (
    r"(?:강아지|고양이|개가|댕댕|냥이|애기|아기|햄스터|초콜릿|포도|양파|버섯|복어|상한|유통 ?기한|식물|"
    r"화분|물고기)"
)
# Waking up: sleeping babies and happy dreams.
_WAKE_BENIGN = (
    r"(?:꿈|주말|늦잠|알람|휴일|방학|쉬는 ?날|애기|아기|아이가|애가|동생|강아지|고양이|남편|아내|룸메)"
)
_TASK = (
    r"(?:과제|숙제|업무|할 ?일|프로젝트|청소|빨래|설거지|공부|게임|퀘스트|관계|연애|계약|시험|일 ?끝|이랑|"
    r"하고 ?(?:끝|헤어)|랑 ?(?:끝|헤어)|헤어)"
)
_PARTING_OTHER = (
    r"(?:이사|유학|이민|전학|졸업|헤어|이별|차였|전 ?남친|전 ?여친|결별|연애|남친|여친|퇴사|군대|입대|해외|"
    r"보내 ?줬|돌아가셨|하늘나라|무지개 ?다리|떠나셨|종영|완결|단종|폐업|문 ?닫|해체|탈퇴|은퇴)"
)
_OTHER_AGENT = (
    r"(?:누가|누군가|그 ?사람이|걔가|쟤가|그놈이|남친이|여친이|남편이|아내가|아빠가|엄마가|형이|오빠가|"
    r"언니가|누나가|선배가|친구가|애들이)"
)

# The phrase describes a scene or a news item (손목 긋는 장면, 투신 사고).
_MEDIA_AFTER = (
    r" ?(?:는 ?|한 ?|하는 ?|했다는 ?|한다는 ?)?(?:관련 ?)?(?:장면|사건|사고|뉴스|기사|보도|영상|"
    r"(?<![가-힣])씬|대필|드라마|영화|소설|웹툰)"
)
_DISTRESS = (
    r"(?:힘들|힘든|버거|지쳤|지쳐|괴로|우울|(?<![가-힣])죽|살기|사는 ?게|(?<![가-힣])삶|인생|외로|아파|"
    r"고통|무의미|의미 ?없|절망|희망이 ?없)"
)

# --- building blocks ---------------------------------------------------------

_WANT = r" ?(?:만 ?|도 ?)?(?:싶|십|싑|시퍼|시프|시펑|시포|시픈)"
# 죽고 and its misspellings/slang stems; 주고 alone is "to give", so 주 needs 꼬/꾸/구.
_DIE_GO = (
    r"(?:죽 ?(?:고|구|꼬|꾸)|주 ?(?:꼬|꾸|구)|쥭 ?(?:고|구|꼬)|(?:뒤|디|뒈|듸) ?(?:지|져|저) ?(?:고|구)|"
    r"(?:죽 ?어|뒤 ?져|디 ?져) ?(?:버|벌) ?(?:리|이) ?(?:고|구))"
)
_END_WANT = (
    r"(?:끝 ?내 ?(?:고 ?싶|버 ?리 ?고 ?싶|려 ?고|야 ?겠|고 ?파)|끝 ?낼 ?(?:래|까|거|게|준비|생각)|"
    r"끝 ?장 ?내 ?고 ?싶)"
)
_SELF = (
    r"(?<![가-힣])(?:내가|나|난|나는|제가|저|전|저는|나 ?하나|저 ?하나|나만|저만|나 ?같은 ?(?:건|게|거|애|"
    r"놈|년|사람)|저 ?같은 ?(?:건|게|사람))"
)
_DRUG = (
    r"(?:(?<![가-힣])약|(?<=[내그저])약|수면 ?제|수면 ?유도제|수면약|신경 ?안정제|안정제|진통제|해열제|"
    r"타이레놀|졸피뎀|스틸녹스|자낙스|아티반|알프라졸람|로라제팜|리보트릴|우울증 ?약|정신과 ?약|항우울제|"
    r"알약|처방 ?약)"
)
_BRIDGE = r"(?:마포 ?대교|한강 ?(?:다리|대교)|[가-힣]{1,3}대교)"
_CUT = r"(?:긋|그 ?었|그 ?어|그 ?으|그 ?을|그 ?엇|그 ?서|베 ?었|벴|찔 ?렀)"

_KOREAN_RULES: tuple[_Rule, ...] = (
    # ---- direct statements ----
    _rule("direct", _DIE_GO + _WANT, after=r" ?(?:냐|니(?![가-힣]))"),
    _rule(
        "direct",
        r"(?<![가-힣])자살(?! ?(?:골|특공|폭탄|테러|공격|예방|방지|률|율|보도|플레이|돌격|스쿼드))",
        after=_MEDIA_AFTER,
    ),
    # Glued to a preceding syllable (피자살까 = "buy pizza?"): only with a verb or noun that fits.
    _rule("direct", r"(?<=[가-힣])자살(?=하|했|할|한|시도|충동|생각|미수|각|기도)"),
    _rule("direct", r"(?<![가-힣])자 살 ?(?=하|했|할|한|시도|충동|생각|미수)"),
    _rule(
        "direct",
        r"살 ?기 ?(?:가|도|는)? ?(?:너무 ?|정말 ?|진짜 ?|참 ?)?(?:싫|시 ?러|실 ?어|실 ?타|시 ?르)",
        before=_LOCATIVE_BEFORE,
    ),
    _rule(
        "direct",
        r"살 ?고 ?(?:싶|십) ?(?:지|진) ?(?:가|도|는)? ?(?:않|안|없)",
        before=_LOCATIVE_BEFORE,
    ),
    _rule(
        "direct",
        r"(?:그만|더는|더 ?이상|이제는|이젠|도저히) ?(?:살 ?(?:래|고 ?싶|아 ?야 ?(?:하|돼|되)|수 ?(?:가|"
        r"도)? ?없|자신)|못 ?살 ?겠)",
        near=_SHOPPING,
    ),
    _rule(
        "direct",
        r"(?<![가-힣])살 ?(?:아 ?야 ?(?:할|하는|될|되는) ?|아 ?갈 ?|아 ?있을 ?)?이 ?유 ?(?:가|를|도|"
        r"는)? ?(?:하나도 ?|전혀 ?|더는 ?)?(?:없|모르|못 ?찾|안 ?보)",
        near=_SHOPPING,
    ),
    _rule(
        "direct",
        r"살 ?아 ?갈 ?(?:자신|힘|의미|용기|이유)(?:이|가|도|는)? ?(?:없|안 ?나|모르)|"
        r"(?<![가-힣])살 ?자신(?:이|도)? ?없",
        near=_SHOPPING,
    ),
    _rule(
        "direct",
        r"(?:살 ?아 ?있는|사는|살 ?아 ?가는) ?(?:게|것이|것 ?자체가|거|것) ?(?:너무 ?|정말 ?|진짜 ?|그냥 ?|"
        r"다 ?)?(?:괴로|고통|지옥|싫|의미 ?(?:가 ?)?없|무의미|죄|벌|형벌|버거|끔찍)",
        before=_LOCATIVE_BEFORE,
    ),
    _rule(
        "direct",
        r"살 ?아 ?서 ?(?:뭐 ?(?:해|하|함|할)|무슨 ?의미)|살 ?아 ?(?:봤 ?자|봐 ?야) ?(?:뭐|무슨|의미|소용)",
    ),
    _rule(
        "direct",
        r"(?:(?<![가-힣])(?:삶|생|목숨)|인생|이 ?생|내 ?삶) ?(?:을|를|이)? ?(?:끝 ?내|끝 ?장|마 ?감|끊|"
        r"마 ?치|포 ?기 ?하 ?고 ?싶|버 ?리 ?고 ?싶)",
        after=r"(?:주|준|줘|줬)",  # 인생 끝내준다 = "awesome"
    ),
    _rule("direct", r"극 ?단 ?적 ?(?:인 ?)?(?:선 ?택|시 ?도|생 ?각)", after=r" ?지|" + _MEDIA_AFTER),
    _rule(
        "direct",
        r"(?:죽|뒤지|디지)(?:었|엇|졌|젔) ?(?:으|스)? ?(?:면|음) ?(?:좋|조|하)",
        before=_NONHUMAN_BEFORE,
    ),
    _rule(
        "direct",
        r"(?:죽|뒤지|디지) ?는 ?(?:게|것이|편이|거|것) ?(?:더 ?|훨씬 ?)?(?:나아|나을|낫|답|맞|편할|편하|"
        r"편해)",
        before=_NONHUMAN_BEFORE,
    ),
    _rule(
        "direct",
        r"죽 ?(?:으|어 ?버 ?리) ?면 ?(?:다 ?|모든 ?게 ?|그냥 ?)?(?:편할|편해|편하|편안|끝나|끝 ?날|해결|"
        r"행복|괜찮|나을|낫|자유)",
        before=_NONHUMAN_BEFORE,
        near=_GAME,
    ),
    _rule(
        "direct", r"죽 ?어 ?야 ?(?:겠|지|돼|되|할|끝|편|하 ?나|해|함)", before=_NONHUMAN_BEFORE, near=_GAME
    ),
    _rule(
        "direct",
        r"죽 ?을 ?(?:생 ?각|결 ?심|준 ?비|용 ?기|방 ?법|계 ?획|궁 ?리)|죽 ?는 ?(?:방 ?법|법|생 ?각)",
        before=r"안 ?$",
        near=_GAME,
    ),
    _rule("direct", r"죽 ?기 ?로 ?(?:했|결 ?심|마 ?음|결 ?정|작 ?정)"),
    _rule(
        "direct",
        r"죽 ?(?:는 ?(?:게|것이|것도|거)|음 ?(?:이|도)) ?(?:하 ?나 ?도 ?|별 ?로 ?|전 ?혀 ?|이 ?제 ?|"
        r"더 ?이 ?상 ?)?(?:안 ?무 ?섭|무 ?섭 ?지 ?않|두 ?렵 ?지 ?않|겁 ?나 ?지 ?않|안 ?두 ?려)",
        after=r"(?:은|는|던)",  # 죽음이 두렵지 않은 영웅: describing someone
        near=_GAME,
    ),
    _rule(
        "direct",
        r"죽 ?(?:음|는 ?것) ?(?:만 ?이|밖 ?에|이|뿐) ?(?:유 ?일 ?한 ?)?(?:답|해 ?결|방 ?법|탈 ?출 ?구|"
        r"출 ?구)|죽 ?음 ?(?:을|만) ?(?:택|선 ?택)",
        near=_GAME,
    ),
    _rule(
        "direct",
        r"(?:(?<![가-힣])살|살 ?아 ?갈|살 ?아 ?있 ?을|존 ?재 ?할) ?(?:만 ?한 ?)?가 ?치 ?(?:가|도|"
        r"는)? ?(?:없|안)",
        near=_SHOPPING,
    ),
    _rule("direct", r"죽 ?으 ?려 ?(?:고|구|했|다|는)", before=_NONHUMAN_BEFORE, after=r" ?환 ?장"),
    _rule(
        "direct",
        r"(?<![가-힣])(?:그냥|걍|차라리|이제|이젠|나|난|나는|저는|전|확|진심|진심이야|진짜로|정말로|오늘|"
        r"오늘 ?밤|오늘 ?밤에|내일|이번엔|곧) ?죽 ?(?:을 ?래|을 ?까|어 ?버 ?릴|어 ?버 ?리|자|어 ?야|고 ?말|"
        r"을 ?거|을 ?꺼|을 ?게)",
        after=r" ?(?:봐|바|싶 ?지|같)",
        near=_TRIVIAL_CAUSE + r"|혼나|혼날|엄마한테|아빠한테|야근|마감",
    ),
    _rule(
        "direct",
        r"죽 ?어 ?(?:버|벌) ?(?:릴 ?(?:거|꺼|까|래|게|테)|리 ?자|려 ?야)",
        before=_NONHUMAN_BEFORE,
        after=r" ?(?:봐|바)",
    ),
    # ---- asking how (means) ----
    _rule(
        "means",
        r"(?:안 ?아 ?프 ?게|고 ?통 ?(?:없 ?이|없 ?게)|편 ?하 ?게|편 ?안 ?하 ?게|깔 ?끔 ?하 ?게|"
        r"확 ?실 ?하 ?게|한 ?번 ?에|조 ?용 ?히) ?죽|어 ?떻 ?게 ?(?:하 ?면|해 ?야 ?(?:지)?) ?죽",
        after=r"(?:이|여|였)",  # 죽이다 is killing something else
        near=_GAME,
    ),
    _rule("means", r"몇 ?(?:알|층|미터|정|통|mg|밀리) ?.{0,12}?죽", near=_PET_FOOD),
    _rule(
        "means",
        r"(?:먹 ?으 ?면|마 ?시 ?면|떨 ?어 ?지 ?면|뛰 ?어 ?내 ?리 ?면|그 ?으 ?면) ?(?:바 ?로 ?|확 ?실 ?히 ?|"
        r"진 ?짜 ?|정 ?말 ?|다 ?)?죽",
        near=_PET_FOOD,
    ),
    # ---- indirect ----
    _rule(
        "indirect",
        r"(?:사라지|없어지|증발하|소멸하|사라져 ?버리|없어져 ?버리|증발해 ?버리) ?(?:고|"
        r"구) ?(?:만 ?)?(?:싶|십|시퍼|파)",
        near=r"(?:창피|부끄|민망|쪽팔|쥐구멍|여행|휴가|잠깐|며칠|주말|하루만)",
    ),
    _rule("indirect", r"세 ?상 ?(?:에서|에) ?(?:사라지|없어지|사라져|없어져|지워지|지워)"),
    _rule(
        "indirect",
        _SELF + r" ?(?:그냥 ?|이대로 ?|갑자기 ?)?(?:(?:없어지|사라지)(?:면|는 ?게)|(?:없어져|"
        r"사라져)(?: ?버리면| ?버려도|도|야)|죽으면|죽는 ?게)",
        near=_GAME,
    ),
    _rule(
        "indirect",
        _SELF + r" ?없 ?(?:으 ?면|어 ?도|는 ?게|어 ?야) ?.{0,20}?(?:편하|편할|편해|행복|나을|낫|좋아하|"
        r"좋을|모를|상관|잘 ?살|잘 ?돌아|신경 ?안|아무도)",
    ),
    _rule("indirect", r"(?<![가-힣])유서(?! ?깊)(?!울|술|류|체)", after=_MEDIA_AFTER),
    _rule(
        "indirect",
        r"(?:(?<![가-힣])다|전부|모두|모든 ?(?:걸|것을?|것)|(?<![가-힣])싹) ?(?:을|를)? ?정 ?리 ?(?:하 ?고|"
        r"했 ?고|해 ?놓 ?고|해 ?두 ?고) ?(?:이제 ?|조용히 ?|멀리 ?)?(?:떠 ?나|떠 ?날|갈 ?게|가 ?려|가 ?야|"
        r"갈 ?거|끝 ?내|사 ?라 ?지|사 ?라 ?질)",
        near=_TRAVEL,
    ),
    _rule(
        "indirect",
        r"(?:신변|주변|(?<![가-힣])삶|인생|(?<![가-힣])생) ?(?:을|"
        r"를)? ?(?:다 ?)?정 ?리 ?(?:를 ?)?(?:다 ?)?(?:하|했|해|중|할)",
        before=r"(?:책상|(?<![가-힣])방|(?<![가-힣])집|자리|컴퓨터|주방|부엌|사무실)(?:의)? ?$",
        near=_TRAVEL,
    ),
    _rule(
        "indirect",
        r"(?:더 ?이상|더는|이제 ?더(?:는)?|이젠|이제는|도저히) ?(?:못 ?버 ?티|버 ?틸 ?수 ?(?:가|도)? ?없|"
        r"못 ?견 ?디|견 ?딜 ?수 ?(?:가|도)? ?없|버 ?틸 ?(?:힘|자 ?신))|버 ?틸 ?(?:힘|자 ?신|이 ?유)(?:이|"
        r"도|가)? ?(?:없|안)",
        near=_TRIVIAL_CAUSE,
    ),
    _rule(
        "indirect",
        r"(?:안 ?(?:깨 ?어 ?났|깨 ?어 ?나|깼|깨|일 ?어 ?났)|깨 ?어 ?나 ?지 ?않 ?았|깨 ?지 ?않 ?았|"
        r"눈 ?(?:을 ?|이 ?)?(?:안 ?(?:떴|떠 ?졌|뜨)|뜨 ?지 ?않 ?았|못 ?떴)) ?(?:으 ?)?(?:면|음|기 ?를|길)",
        near=_WAKE_BENIGN,
    ),
    _rule(
        "indirect",
        r"영 ?원 ?히 ?(?:잠 ?들(?! ?지 ?(?:않|마|말))|자 ?고 ?싶|잠 ?자|쉬 ?고 ?싶|눈 ?감)|"
        r"영 ?영 ?(?:잠 ?들|눈 ?감|안 ?깨|깨 ?지 ?않)|자 ?다 ?가 ?(?:그 ?냥 ?)?(?:죽|안 ?깨|깨 ?지 ?않|"
        r"영 ?영)",
        near=_WAKE_BENIGN + "|" + _TRIVIAL_CAUSE,
    ),
    _rule(
        "indirect",
        r"(?:잠 ?들 ?고|자 ?고|쉬 ?고|눈 ?감 ?고) ?싶 ?(?:어|다|음|네)? ?영 ?원 ?히",
        near=_WAKE_BENIGN + "|" + _TRIVIAL_CAUSE,
    ),
    _rule(
        "indirect",
        r"왜 ?(?:살 ?아 ?야 ?(?:하 ?는 ?지|되 ?는 ?지|하 ?나|돼|하 ?냐)|사 ?는 ?지|살 ?고 ?있 ?는 ?지|"
        r"살 ?아 ?있 ?는 ?지|태 ?어 ?났 ?는 ?지)",
        needs=r"(?<![가-힣])(?:내가|난|나는|나|저는|제가|전)(?![가-힣])",
        span=12,
    ),
    _rule(
        "indirect",
        r"세 ?상 ?(?:에|에는) ?(?:내|제|나의) ?(?:자 ?리|설 ?자 ?리|있 ?을 ?곳)(?:가|는|도|이)? ?(?:없|"
        r"하 ?나 ?도)|(?<![가-힣])(?:내|제|나의) ?장 ?례 ?식",
    ),
    _rule(
        "indirect",
        r"태 ?어 ?나 ?지 ?(?:말 ?았|말 ?걸|않 ?았)|태 ?어 ?난 ?(?:게|것이|것 ?자체가|거) ?(?:죄|잘못|실수|"
        r"후회|원망)",
    ),
    _rule(
        "indirect",
        r"세 ?상 ?(?:을|에서)? ?(?:떠 ?나 ?(?:고 ?싶|려|야 ?겠|고 ?말|버 ?리)|떠 ?날 ?(?:래|까|거|게)|"
        r"하 ?직)|하 ?늘 ?나 ?라 ?(?:에 ?|로 ?)?(?:가 ?고 ?싶|가 ?고 ?파|갈 ?래|갈 ?까|가 ?려|가 ?야 ?겠|"
        r"가 ?고 ?말)",
    ),
    _rule("indirect", r"모 ?든 ?(?:걸|것을?|게) ?(?:다 ?)?" + _END_WANT, near=_TASK),
    _rule(
        "indirect",
        r"(?<![가-힣])(?:그냥|이제|이젠|차라리|걍) ?(?:(?:다|전부|모든 ?걸) ?)?" + _END_WANT,
        near=_TASK,
    ),
    _rule("indirect", _END_WANT, near=_TASK, needs=_DISTRESS),
    _rule(
        "indirect",
        r"^(?:(?:그냥|이제|진짜|정말|걍|나|난|하|아) )*(?:다|전부) ?" + _END_WANT,
        near=_TASK,
    ),
    _rule(
        "indirect",
        r"(?:그 ?만 ?하|포 ?기 ?하|놓 ?아 ?버 ?리|놓) ?고 ?싶 ?(?:어|다|음)? ?(?:모 ?든 ?(?:걸|것)|"
        r"전 ?부 ?다|인 ?생|삶)|모 ?든 ?(?:걸|것을?) ?(?:다 ?)?(?:그 ?만 ?하|포 ?기 ?하|놓 ?아 ?버 ?리|"
        r"놓) ?고 ?싶",
        near=_TASK,
    ),
    # ---- goodbye messages ----
    _rule(
        "goodbye",
        r"그 ?동 ?안 ?(?:정말 ?|너무 ?|진짜 ?|다들 ?|모두 ?|다 ?)?(?:고 ?마 ?웠|고 ?마 ?워 ?했|감 ?사 ?했|"
        r"미 ?안 ?했|행 ?복 ?했|즐 ?거 ?웠|사 ?랑 ?했)",
        near=_LIFE_EVENT,
        span=60,
    ),
    _rule(
        "goodbye",
        r"마 ?지 ?막 ?(?:으 ?로 ?)?(?:인 ?사|메 ?시 ?지|메 ?세 ?지|편 ?지|연 ?락|카 ?톡|문 ?자|부 ?탁|"
        r"하 ?고 ?싶 ?은 ?말|남 ?기 ?는 ?말)",
        near=_LIFE_EVENT,
        span=60,
    ),
    _rule(
        "goodbye",
        r"(?<![가-힣])(?:이게|이것이|이번이|오늘이|지금이) ?(?:진짜 ?|정말 ?)?(?:내 ?|나의 ?|"
        r"제 ?)?마 ?지 ?막",
        after=r" ?(?:으로 ?)?(?:시험|기회|판|경기|학기|수업|(?<![가-힣])날|(?<![가-힣])주|(?<![가-힣])회|"
        r"공연|잔|한 ?입|조각|(?<![가-힣])개|문제|과제|출근|근무|방송|라운드|세트|곡|노래|(?<![가-힣])장|"
        r"페이지|단계|질문|부탁|촬영)",
        near=_LIFE_EVENT,
        span=60,
    ),
    _rule(
        "goodbye",
        r"(?:다들|모두|전부|여러분|얘들아|엄마|아빠) ?(?:정말 ?|너무 ?|그동안 ?)?(?:미 ?안 ?했|고 ?마 ?웠|"
        r"사 ?랑 ?했)",
        near=r"(?:어제|지난번|생일|축하|선물|파티|모임|회식|여행|덕분|도와|와 ?줘서|챙겨|오늘 ?(?:재밌|"
        r"즐거|행복))",
        span=60,
    ),
    _rule(
        "goodbye",
        r"(?:고 ?마 ?웠|미 ?안 ?했|사 ?랑 ?했|미 ?안 ?하)(?:다)? ?고 ?(?:꼭 ?)?(?:전 ?해|말 ?해 ?줘)",
        near=_LIFE_EVENT + r"|어제|지난번|덕분|도와|챙겨",
        span=60,
    ),
    _rule(
        "goodbye",
        r"(?:편 ?지|쪽 ?지|메 ?모|(?<![가-힣])글|영 ?상)(?:를|을)? ?(?:남 ?겼|남 ?기 ?고|써 ?놨|써 ?뒀)",
        near=_LIFE_EVENT,
        needs=r"(?:미안|고마웠|갈게|안녕|마지막|떠나|용서)",
        span=40,
    ),
    # 먼저 가서 미안해: the classic farewell-note phrase; needs a farewell word next to it.
    _rule(
        "goodbye",
        r"먼 ?저 ?(?:가 ?서|갈 ?게|떠 ?나 ?서|떠 ?날 ?게|간 ?다)",
        near=_LIFE_EVENT
        + r"|퇴근|집에|회식|자리|들어|약속|술자리|모임|출발|도착|(?<![가-힣])역|버스|지하철|잘게|잔다",
        needs=r"(?:미안|사랑|고마|엄마|아빠|안녕|용서|부모님)",
        span=40,
    ),
    _rule("goodbye", r"다 ?음 ?생 ?(?:에 ?(?:는|선|서)? ?|엔 ?)?(?:만 ?나|보 ?자|봐|볼 ?게|다 ?시 ?만)"),
    _rule(
        "goodbye",
        r"(?:나 ?없 ?이 ?(?:도)?|나 ?없 ?어 ?도|저 ?없 ?이 ?(?:도)?) ?(?:다들 ?|모두 ?|"
        r"부디 ?)?(?:잘 ?(?:지 ?내|살|있|먹 ?고)|행 ?복)|잘 ?(?:지 ?내|살 ?아|있 ?어)(?:라|요)? ?(?:다들 ?|"
        r"모두 ?)?(?:나 ?없 ?이|이제 ?(?:못|다 ?시 ?는)|다 ?시 ?는|영 ?원 ?히)",
    ),
    _rule(
        "goodbye",
        r"(?:이제|다시는|다신|영영) ?(?:더 ?는 ?)?(?:못 ?(?:볼|만 ?날|보 ?겠)|볼 ?수 ?(?:가|도)? ?없|"
        r"만 ?날 ?수 ?(?:가|도)? ?없)",
        near=_PARTING_OTHER,
        span=60,
    ),
    _rule(
        "goodbye",
        r"(?:물 ?건|소 ?지 ?품|아 ?끼 ?던 ?(?:것|거|물 ?건)|소 ?중 ?한 ?(?:것|거|"
        r"물 ?건))(?:들)? ?.{0,14}?(?:나 ?눠 ?(?:줬|주 ?고|줄|줘)|처 ?분 ?했|다 ?줬|줘 ?버 ?렸)",
        near=r"(?:이사|중고|당근|벼룩|판매|(?<![가-힣])팔|기부|바자회|미니멀|정리 ?정돈|청소)",
    ),
    # ---- means ----
    _rule(
        "means",
        _DRUG + r" ?(?:을|를|들을|들|도|만)? ?(?:\d+ ?(?:알|개|통|정) ?|몇 ?(?:알|통) ?)?(?:몰래 ?|"
        r"조금씩 ?|계속 ?|잔뜩 ?|하나씩 ?)?(?:모 ?아|모 ?으|모 ?았|쌓 ?아 ?(?:뒀|두|놨)|사 ?(?:모 ?으|"
        r"모 ?아|모 ?았|재 ?기))",
        near=_PILL_BENIGN,
    ),
    _rule(
        "means",
        _DRUG + r" ?(?:을|를|들을|들)? ?(?:한 ?통|한 ?움 ?큼|한 ?꺼 ?번 ?에|한 ?번 ?에|왕 ?창|몽 ?땅|"
        r"전 ?부|다 ?털 ?어|털 ?어 ?넣|통 ?째|수 ?십 ?알|\d{2,} ?알|잔 ?뜩 ?먹|많 ?이 ?먹 ?으 ?면|과 ?다|"
        r"여 ?러 ?통)",
        near=_PILL_BENIGN,
    ),
    _rule(
        "means",
        r"과 ?다 ?복 ?용|약 ?물 ?과 ?다|오 ?버 ?도 ?즈|(?<![a-z])od ?(?:하|했|할)|치 ?사 ?량",
        near=_PILL_BENIGN,
    ),
    _rule(
        "means",
        _DRUG + r" ?.{0,10}?(?:먹 ?고|먹 ?으 ?면|삼 ?키 ?면) ?(?:영 ?원 ?히|안 ?깨|죽|영 ?영)",
        near=_PILL_BENIGN,
    ),
    _rule("means", r"번 ?개 ?탄", near=_GRILL, span=30),
    _rule(
        "means",
        r"(?:(?<![가-힣])방|(?<![가-힣])차 ?안|(?<![가-힣])차|욕실|화장실|밀폐|문 ?닫 ?고|창문 ?막 ?고|"
        r"혼자)(?:에서|에|에다|안에서)? ?.{0,10}?(?:연 ?탄|(?<![가-힣])숯) ?(?:을|를)? ?(?:피 ?우|피 ?워|"
        r"피 ?울|태 ?우|태 ?워)|(?:연 ?탄|(?<![가-힣])숯) ?(?:을|를)? ?피 ?우 ?(?:고 ?싶|면 ?(?:안 ?아 ?플|"
        r"죽|편))",
        near=_GRILL,
        span=30,
    ),
    _rule(
        "means",
        r"옥 ?상 ?(?:에|에서|위|으로|위에|끝|난간)? ?(?:혼자 ?|지금 ?|몰래 ?)?(?:올 ?라 ?(?:왔|와 ?있|"
        r"가 ?고 ?싶|가 ?려|갈 ?래|갈 ?까|가 ?야|감)|서 ?있|난 ?간|끝 ?에|아 ?래|떨 ?어 ?지|뛰 ?어 ?내|"
        r"가 ?고 ?싶|가 ?려|갈 ?까|갈 ?래|와 ?있|왔 ?어|앉 ?아)",
        near=_ROOF_LEISURE,
        span=30,
    ),
    _rule(
        "means",
        r"뛰 ?어 ?내 ?(?:리 ?(?:고 ?싶|고 ?파|려|면|자|기 ?로)|릴 ?(?:까|래|거|게|생 ?각|준 ?비|용 ?기|곳|"
        r"데|장 ?소)|려 ?야)",
        near=_JUMP_LEISURE,
    ),
    # 투신 also means "to devote oneself to" (정치에 투신).
    _rule(
        "means",
        r"투 ?신",
        before=r"(?:에|에게|으로|로|에도) ?(?:온 ?몸 ?(?:을|으로) ?)?$",
        after=_MEDIA_AFTER,
    ),
    _rule(
        "means",
        r"(?:높 ?은 ?(?:곳|데)|옥 ?상|(?<![가-힣])다 ?리|창 ?문|베 ?란 ?다|난 ?간|건 ?물|아 ?파 ?트|"
        r"(?<![가-힣])층)(?:에서|에|밖으로|으로|아래로)? ?.{0,8}?(?:떨 ?어 ?지 ?(?:고 ?싶|고 ?파|면 ?죽|려|"
        r"자)|떨 ?어 ?질 ?(?:까|래)|떨 ?어 ?져 ?(?:버 ?리|죽))",
        near=_JUMP_LEISURE,
    ),
    _rule(
        "means",
        r"(?:" + _BRIDGE + r"|(?<![가-힣])다 ?리) ?(?:위|난 ?간)(?:에|에서|로)? ?(?:혼자 ?|지금 ?)?"
        r"(?:서 ?있|올 ?라|왔|와 ?있|앉 ?아)",
        near=r"(?:고양이|강아지|아기|애기|무릎|냥이|댕댕)",
    ),
    _rule(
        "means",
        _BRIDGE
        + r" ?(?:에|로|으로|위로)? ?(?:가 ?려|가 ?고 ?싶|갈 ?래|갈 ?까|가 ?야 ?겠|왔 ?어|와 ?있|뛰 ?어|"
        r"가 ?는 ?(?:중|길)|가 ?고 ?있|향 ?하)",
        near=_HAN_LEISURE,
        span=30,
    ),
    _rule(
        "means",
        r"난 ?간 ?(?:에|위에|위|을|밖)? ?(?:서 ?있|올 ?라|매 ?달|넘|앉 ?아|걸 ?터)",
        near=_JUMP_LEISURE,
    ),
    _rule(
        "means",
        r"한 ?강 ?(?:에|으로|에서|물에)? ?(?:가 ?고 ?싶|가 ?고 ?파|갈 ?래|갈 ?까|가 ?야 ?겠|가 ?야 ?하 ?나|"
        r"가 ?려|가 ?즈 ?아|뛰 ?어|들 ?어 ?가|빠 ?지|가 ?서 ?죽)",
        near=_HAN_LEISURE,
        span=30,
    ),
    _rule("means", r"한 ?강 ?(?:물 ?)?(?:온 ?도|수 ?온)|한 ?강 ?물 ?(?:이 ?)?(?:차 ?갑|차 ?가 ?울|깊)"),
    _rule(
        "means",
        r"옥 ?상 ?(?:문 ?)?(?:이 ?|은 ?)?(?:열 ?려 ?있|안 ?잠 ?긴|개 ?방 ?된)",
        near=_ROOF_LEISURE + r"|이사|(?<![가-힣])집",
        needs=r"(?:어디|알아|있어|찾|건물|아파트|곳)",
        span=30,
    ),
    # 목매다 also means "to be desperate for" (승진에 목매다).
    _rule(
        "means",
        r"(?<![가-힣])목 ?(?:을 ?)?(?:매 ?(?:달|고|려|면|자|기|어|야|$| )|맬|맸)",
        before=r"(?:에|에게|한테|께|에만|한테만|에도) ?(?:너무 ?|그렇게 ?|왜 ?|자꾸 ?|계속 ?|평생 ?|"
        r"다들 ?)?$",
    ),
    _rule(
        "means",
        r"(?:밧 ?줄|로 ?프|(?<![가-힣])끈|(?<![가-힣])줄|넥 ?타 ?이|전 ?선|빨 ?랫 ?줄|스 ?카 ?프)(?:로|"
        r"으로) ?(?:내 ?)?목",
        after=r"(?:걸|도리|덜|젖|살|소리|감기|캔디|련|장)",
    ),
    _rule(
        "means",
        r"(?:농 ?약|제 ?초 ?제|그 ?라 ?목 ?손|락 ?스|살 ?충 ?제|쥐 ?약|청 ?산 ?가 ?리|독 ?약|부 ?동 ?액|"
        r"표 ?백 ?제)(?:을|를)? ?(?:마 ?시|먹|삼 ?키|들 ?이 ?키|탈 ?까|타 ?서)",
        near=_POISON_BENIGN,
    ),
    # ---- self-harm ----
    _rule("self_harm", r"(?<![가-힣])자해(?! ?공갈)"),
    # Glued (혼자해 = "alone, do it") or spaced (자 해보자 = "come on, let's"): only with a fitting ending.
    _rule(
        "self_harm",
        r"자 ?해 ?(?:충 ?동|흔 ?적|흉 ?터|자 ?국|중 ?독|시 ?도|(?:를|을) ?(?:했|하|해)|했|하 ?고 ?싶|"
        r"하 ?구 ?싶|하 ?는 ?중|하 ?려|할 ?까|한 ?(?:지|적)|하 ?면)",
    ),
    _rule(
        "self_harm",
        r"(?:손 ?목|팔 ?목|(?<![가-힣])팔|허 ?벅 ?지|(?<![가-힣])다 ?리|(?<![가-힣])몸)(?:을|를|에|에다|"
        r"에다가|도)? ?(?:또 ?|다 ?시 ?|자 ?꾸 ?|일 ?부 ?러 ?)?(?:(?:칼|커 ?터 ?칼|면 ?도 ?칼|면 ?도 ?날|"
        r"유 ?리 ?(?:조 ?각 ?)?|가 ?위)(?:로|으로) ?)?" + _CUT,
        after=_MEDIA_AFTER,
        near=_DRAWING + r"|운동",
    ),
    _rule(
        "self_harm",
        r"(?:칼|커 ?터|면 ?도 ?칼|면 ?도 ?날|유 ?리 ?조 ?각|가 ?위)(?:로|으로) ?(?:또 ?|다 ?시 ?|계 ?속 ?|"
        r"일 ?부 ?러 ?|몰 ?래 ?)?(?:(?:손 ?목|팔|허 ?벅 ?지|몸|살)(?:을|를|에)? ?)?(?:긋|그 ?었|그 ?어|"
        r"그 ?으|그 ?을|그 ?엇|찔 ?렀|찌 ?르 ?고 ?싶)",
        near=_DRAWING,
    ),
    _rule(
        "self_harm",
        r"(?:내 ?몸|제 ?몸|(?<![가-힣])몸|스 ?스 ?로|나 ?자 ?신|(?<![가-힣])나를|(?<![가-힣])날|"
        r"(?<![가-힣])저를|저 ?자 ?신)(?:에|을|를|에게|한테|도)? ?(?:일 ?부 ?러 ?|자 ?꾸 ?|또 ?|계 ?속 ?|"
        r"막 ?)?(?:상 ?처 ?(?:를 ?)?(?:내|냈|낸|낼|줘|주 ?고 ?싶)|해 ?치 ?고 ?싶|해 ?쳤|해 ?치 ?려|"
        r"다 ?치 ?게 ?하 ?고 ?싶|아 ?프 ?게 ?하 ?고 ?싶|괴 ?롭 ?히 ?고 ?싶|학 ?대|벌 ?주 ?고 ?싶|"
        r"때 ?리 ?고 ?싶)",
        near=_OTHER_AGENT,
    ),
    _rule(
        "self_harm",
        r"(?:손 ?목|팔 ?목|허 ?벅 ?지|(?<![가-힣])팔)(?:에|을|를)? ?(?:또 ?|다 ?시 ?|"
        r"일 ?부 ?러 ?)?(?:상 ?처|흉 ?터|자 ?국|칼 ?자 ?국)(?:를|을)? ?(?:또 ?)?(?:내|냈|낸|낼|만 ?들)",
        near=_ACCIDENT,
    ),
    _rule(
        "self_harm",
        r"피 ?(?:가 ?|를 ?)?(?:날 ?|볼 ?|보 ?)?(?:때 ?까 ?지|만 ?큼) ?.{0,6}?(?:긁|뜯|때 ?리|할 ?퀴|"
        r"물 ?어 ?뜯|박|그)",
    ),
    _rule(
        "self_harm",
        r"(?<![가-힣])(?:또|다 ?시|자 ?꾸|계 ?속) ?(?:긋 ?고 ?싶|그 ?었|그 ?을 ?까|그 ?어 ?버|긋 ?고 ?파)",
        near=_DRAWING,
    ),
    _rule("self_harm", r"(?<![가-힣])(?:긋 ?고 ?말 ?았|그 ?어 ?버 ?렸)", near=_DRAWING),
    _rule(
        "self_harm",
        r"(?:내가|제가|스 ?스 ?로|직 ?접) ?(?:그 ?은|그 ?었|그 ?어 ?서|낸|만 ?든)",
        near=_DRAWING,
        needs=r"(?:손목|(?<![가-힣])팔|허벅지|흉터|상처|자국|(?<![가-힣])피)",
    ),
    # ---- 초성 ----
    _rule("chosung", r"(?<![ㄱ-ㅎ])ㅈ ?ㄱ ?ㅅ ?[ㅇㄷㅍ]"),
    _rule("chosung", r"(?<![ㄱ-ㅎ])ㅈ ?ㅅ ?ㅎ ?ㄱ ?(?:ㅅ|싶|십)"),
    _rule("chosung", r"(?<![ㄱ-ㅎ])(?:ㄷ ?ㅈ|ㅅ ?ㄹ ?ㅈ|ㅈ ?ㅇ ?ㅂ ?ㄹ) ?ㄱ ?ㅅ ?[ㅇㄷㅍ]"),
    _rule("chosung", r"(?<![ㄱ-ㅎ])ㅅ ?ㄱ ?ㅅ ?[ㅇㄷ](?![ㄱ-ㅎ])"),
    # ㅈㅅ alone is usually 죄송 (ㅈㅅ합니다); it is 자살 when an intent ending follows.
    _rule(
        "chosung",
        r"(?<![ㄱ-ㅎ])ㅈ ?ㅅ ?(?:하 ?고 ?싶|하 ?구 ?싶|하 ?고 ?파|할 ?래|할 ?까|하 ?려|할 ?거|할 ?꺼|"
        r"해 ?버 ?리|해 ?야 ?겠|각|충 ?동|생 ?각|마 ?렵|시 ?도|ㅎ ?ㄱ|ㅁ ?ㄹ ?ㅂ|방 ?법)",
    ),
    _rule("chosung", r"(?<![ㄱ-ㅎ])ㅈ ?ㅎ ?(?:했|하 ?고 ?싶|ㅎ ?ㄱ ?ㅅ|충 ?동|하 ?려|할 ?까|흔 ?적|흉 ?터)"),
)

_ENGLISH_RULES: tuple[_Rule, ...] = (
    _rule(
        "english",
        r"\b(?:want|wanna|wish|wished|going|gonna|plan|planning|ready|deserve|need) (?:to )?(?:just |"
        r"really |fucking )?die\b",
        after=r" (?:of|for|laughing|from|my|your|her|his)\b",
    ),
    _rule("english", r"\bkill(?:ing)? (?:my ?self|me ?self)\b", after=r" laughing"),
    _rule("english", r"\bkms\b", before=r"\d ?$"),
    _rule(
        "english",
        r"\bsuicid(?:e|al)\b",
        after=r" (?:squad|prevention|awareness|hotline|door|doors|run|runs|mission|bomb|bomber|bombing|"
        r"attack|attacks)\b",
    ),
    _rule(
        "english",
        r"\b(?:end|ending|take|taking) (?:my|my own) life\b|\bend (?:it|this) all\b|\bend it tonight\b",
    ),
    _rule(
        "english",
        r"\bself ?harm(?:ing)?\b|\bcutting myself\b|\b(?:cut|cutting|hurt|hurting|harm|harming|burn|"
        r"burning) myself (?:again|on purpose|deliberately)\b|\b(?:want|wanna|keep|kept|been|"
        r"started) (?:to )?(?:cut|cutting|hurt|hurting|harm|harming) myself\b",
    ),
    _rule(
        "english",
        r"\b(?:dont|do not|no longer|never) want to (?:live|be alive|exist|wake up)\b|\bno (?:reason|"
        r"point) (?:to|in) (?:live|living|go on|going on|being alive)\b|\bbetter off (?:dead|without me)\b|"
        r"\bwant to disappear\b|\bwish i (?:was|were) (?:dead|never born)\b|\bwish i (?:wasnt|"
        r"werent) (?:alive|born)\b|\bunalive (?:my ?self|me)\b|\bsewer ?slide\b|"
        r"\bdont want to be here anymore\b",
    ),
)

# Phonetic spellings people type when upset (연음): 주그면 = 죽으면, 주글래 = 죽을래.
_RESPELL = (("주그", "죽으"), ("주글", "죽을"), ("주거버", "죽어버"), ("주겄", "죽겠"))

# --- emoji --------------------------------------------------------------------
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


def _emoji_crisis(cleaned: str, view: str) -> bool:
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


_HAS_LATIN = re.compile("[a-z]")


def _respell(view: str) -> str:
    for wrong, right in _RESPELL:
        if wrong in view:
            view = view.replace(wrong, right)
    return view


def _first_korean_hit(view: str) -> str | None:
    for rule in _KOREAN_RULES:
        if rule.fires(view):
            return rule.category
    return None


def assess(text: str) -> CrisisAssessment:
    """Classify one user message. Never stores or returns the text."""
    if not text:
        return _NOT_CRISIS
    cleaned = clean(text)
    view = _respell(words(cleaned))

    category = _first_korean_hit(view)
    if category is None:
        joined = join_single_syllables(view)
        if joined != view:
            category = _first_korean_hit(joined)
    if category is None and view.replace(" ", "") == "ㅈㅅ":
        category = "chosung"  # a bare ㅈㅅ with nothing else: treat as the crisis reading
    if category is None and _HAS_LATIN.search(view):
        english = deleet(view)
        if any(rule.fires(english) for rule in _ENGLISH_RULES):
            category = "english"
    if category is None and _emoji_crisis(cleaned, view):
        category = "emoji"
    if category is None:
        return _NOT_CRISIS
    return CrisisAssessment(True, category)
