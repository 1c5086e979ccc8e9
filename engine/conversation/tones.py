"""What an everyday message implies without a feeling word: work finished ("마감함 ㅋ"), a long
day ("12시간 타고 9만원"), the same trouble again ("또 리젝ㅋ"), a slow day at work ("콜 없음"),
money running short, a small joy, a meal, a funny moment, a day to look forward to, a request for
praise, what to eat.

On the judged sets these messages were read as 일상 (or not read at all), and the replies that
assume no feeling ("그런 일이 있었군요. 이야기해 주셔서 고마워요.", "그 이야기 더 듣고 싶어요.")
were good for 12% of them (37 of 308): "수고 인정 없이", "웃긴 이야기에 무미건조", "칭찬해 달라는데
칭찬 없이". A tone here is only the reply's feeling sentence; like the named feelings, every
sentence is written whole. A tone applies only where maeum would otherwise assume no feeling (the
reading is 일상, or unsure and not clearly hard); a confident reading of a hard feeling keeps its
own replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Tone:
    name: str
    pattern: re.Pattern[str]
    after: tuple[str, ...]  # the sentence after the event said back ("마감하셨군요. …")
    alone: tuple[str, ...]  # the whole reply when the event is not said back
    light: bool = False  # a good-humoured tone: not for a message that also tells of trouble
    unless: re.Pattern[str] | None = None  # words that turn the tone around ("야근지옥 탈출")


def _t(
    name: str,
    pattern: str,
    after: tuple[str, ...],
    alone: tuple[str, ...],
    light: bool = False,
    unless: str | None = None,
) -> Tone:
    return Tone(name, re.compile(pattern), after, alone, light, re.compile(unless) if unless else None)


# Trouble told in passing; a light tone would not fit ("급식 마라탕 ㅋㅋ" is fun, "2% 인상이래
# ㅋㅋㅋ 장난하나" is not).
_TROUBLE = re.compile(
    r"망했|망함|망쳤|못 ?(?:했|하|잡|받|자|먹)|안 ?(?:됨|돼|되)|싫|아프|아파|아팠|힘들|짜증|ㅡㅡ|장난하|어이"
    r"|황당|미치겠|죽겠|빡|열받|화나|ㅠ|ㅜ|걱정|불안|무섭|서럽|슬프|우울|눈물|울었|울뻔|쫄림|벌점|지각|놓쳐"
    r"|떨어|탈락|잃|날렸|날림|날아갔|때우|후들|삐끗|고장|민원|혼났|혼남|귀찮|피곤|졸려|빼고|척 ?하|척함"
    r"|정상인가"
)
# A question about the thing ("컵라면 뭐가 젤 맛있음?", "재밌게 할 만한 활동 있을까요?") is not a
# small joy told.
_ASKING = re.compile(r"뭐가|어디|추천|무슨|어떤|몇 |어케|어떻게|[을할될]까|나을|[까나]요?\?")

_FOOD = (
    r"(?:급식|짬밥|학식|점심|저녁|아침|간식|야식|라면|떡볶이|치킨|피자|국밥|마라탕|제육|김밥|삼김|도시락"
    r"|햄버거|고기|삼겹살|국수|짜장면|짬뽕|초밥|아이스크림|디저트|파스타|찌개)"
)

TONES: tuple[Tone, ...] = (
    # "코인으로 천만원 날렸어요. 와이프는 아직 몰라요", "주식으로 퇴직금 일부 잃었습니다": read as
    # uncertain (기쁨 0.39 for the second), then "그 이야기 조금 더 들려주실래요?" after it (curt).
    _t(
        "잃은 돈",
        r"(?:코인|주식|투자|퇴직금|적금|전세금|보증금|\d+ ?만 ?원|천만 ?원|억).{0,12}"
        r"(?:날렸|날림|날아갔|잃었|잃음|손해 ?봤)",
        ("많이 속상하고 마음이 무거우시겠어요.", "마음이 정말 무거우시겠어요."),
        (
            "큰돈을 잃으면 마음이 정말 무겁죠. 혼자 끌어안고 계시지 않아도 돼요, 제가 들을게요.",
            "많이 속상하고 마음이 무거우시겠어요. 그 마음 여기서 편하게 꺼내 주셔도 돼요.",
        ),
    ),
    # "아버지가 치매 진단 받으셨어요": a diagnosis told without a feeling word.
    _t(
        "진단",
        r"(?:진단|판정)(?:을|이)? ?(?:받|나왔|나옴)",
        ("걱정이 많이 되시겠어요.", "마음이 많이 무거우시겠어요."),
        (
            "마음이 많이 무거우시겠어요. 그 이야기 천천히 들려주셔도 돼요.",
            "걱정이 많이 되시겠어요. 제가 여기서 같이 들을게요.",
        ),
        unless=r"완치|음성|이상 ?없|정상|괜찮대|다행",
    ),
    # "오늘 야근 안 하고 6시 정각에 퇴근함 이게 얼마만이냐", "수능 끝났다ㅏㅏ 해방이다": the joy of a
    # rare free evening; "그 이야기 더 듣고 싶어요" after it read as not sharing it.
    _t(
        "오랜만의 여유",
        r"칼퇴|정시 ?퇴근|정각에 ?퇴근|해방|탈출|얼마 ?만이냐|얼마만이야",
        ("정말 반가운 일이네요!", "오랜만의 여유, 정말 좋으시겠어요!"),
        (
            "오랜만의 여유네요, 정말 좋으시겠어요! 오늘은 마음 편히 쉬셨으면 좋겠어요.",
            "정말 반가운 일이네요! 오늘은 그 여유를 마음껏 누리셨으면 좋겠어요.",
        ),
        light=True,
        unless=r"줄 ?알|야근 ?\d|\d ?번째",  # "칼퇴하는 줄 알았대요ㅋㅋ 저 이번주 야근 4번째인데"
    ),
    # "오늘 저녁 뭐 해먹지.. 냉장고에 계란이랑 애호박밖에 없음": 0 of 6 good as "그러셨군요. 요즘 또
    # 어떤 일들이 있으셨어요?" on the judged sets.
    _t(
        "메뉴 고민",
        r"뭐 ?(?:먹|해 ?먹|시켜 ?먹)(?:지|을까|냐|나|을지)|메뉴 ?(?:고민|추천)",
        ("메뉴 고르기는 늘 어려운 숙제죠.", "끼니 메뉴 정하는 게 은근 제일 어렵죠."),
        (
            "메뉴 고르기는 매번 어려운 숙제죠. 오늘은 어떤 맛이 당기세요?",
            "끼니 메뉴 정하는 게 은근 제일 어렵죠. 따뜻한 국물이랑 든든한 밥 중에 뭐가 더 당기세요?",
        ),
    ),
    _t(
        "칭찬",
        r"칭찬(?:해|좀|받|해줘)|잘했지|대단하지|대단한 ?듯|자랑 ?(?:좀|할게|하고 ?싶)",
        ("정말 대단해요, 칭찬 많이 해 드리고 싶어요!", "정말 잘하셨어요, 스스로 칭찬해 주셔도 돼요!"),
        ("와, 정말 대단해요! 칭찬 많이 해 드리고 싶어요.", "정말 잘하셨어요! 그 이야기 듣는 저도 뿌듯해요."),
    ),
    _t(
        "해냄",
        r"결승골|골 ?넣었|골 ?넣음|홈런|역전승|이겼|우승|1등|일등|완주|합격|붙었|달성",
        ("정말 축하드려요!", "정말 대단해요, 축하드려요!"),
        (
            "와, 정말 축하드려요! 듣는 저도 덩달아 기분이 좋아져요.",
            "정말 대단해요, 축하드려요! 그동안 애쓰신 보람이 있으시겠어요.",
        ),
        unless=r"떨어|불합|못 ?(?:했|붙|넣)|안 ?(?:됐|되|붙)|실패|탈락|졌|먹혔|내줬",
    ),
    # "사장님이 나 면접 간다고 셔츠 다려주심ㅠㅠ 넘 감동이야": kindness received, not an event to ask
    # about ("들려주셔서 고마워요. 제가 여기서 계속 들을게요.": 0 of 2 good).
    _t(
        "받은 마음",
        r"감동|뭉클|(?:챙겨|다려|싸|사다|만들어|갖다|가져다|데려다|보내) ?주(?:심|셨|시더|고 ?가|었|더라|네)"
        r"|주고 가셨",
        ("마음 써 주는 사람이 곁에 있다는 게 참 따뜻하죠.", "듣는 저도 마음이 뭉클해지네요."),
        (
            "마음 써 주는 사람이 곁에 있다는 게 참 따뜻하죠. 듣는 저도 마음이 뭉클해져요.",
            "그 마음이 얼마나 고맙고 뭉클하셨을지 느껴져요. 참 따뜻한 순간이네요.",
        ),
        unless=r"안 ?(?:챙겨|주)|못 ?(?:챙겨|주)",
    ),
    _t(
        "반복",
        r"(?<![가-힣])또 ?(?:[가-힣]+ ?){0,4}(?:ㅋ|ㅎ|번째)|\d+ ?번째"
        r"|(?:두|세|네|다섯|열|열두|열세|열네) ?번째"
        r"|벌써 (?:\d|두|세|네|몇)|웃음(?:밖에|만) ?(?:안 ?)?나|결국 처음|원점",
        ("같은 일이 몇 번이고 반복되면 정말 진이 빠지시겠어요.", "자꾸 반복되니 허탈하기도 하시겠어요."),
        (
            "같은 일이 자꾸 반복되면 정말 진이 빠지죠. 그 마음 여기서 편하게 풀어놓으셔도 돼요.",
            "몇 번이고 반복되면 웃음밖에 안 나올 만큼 허탈하죠. 정말 애쓰고 계시네요.",
        ),
    ),
    _t(
        "일 없는 날",
        r"매출 ?0|일감 ?0|일감이 (?:없|끊)|콜(?:이)? ?없|공쳤"
        r"|손님(?:이)? ?(?:없|한 ?팀|두 ?팀|세 ?팀|\d+ ?팀)"
        r"|(?:구독자|조회수) .{0,8}0",
        ("일이 뜸할 때는 몸보다 마음이 더 지치죠.", "일이 없으면 마음이 더 조급하고 무거워지죠."),
        (
            "일이 뜸할 때는 몸보다 마음이 더 지치죠. 요즘 많이 애쓰고 계시네요.",
            "일이 없으면 마음이 더 조급하고 무거워지죠. 그래도 자리를 지키느라 애쓰셨어요.",
        ),
    ),
    _t(
        "빠듯함",
        r"통장(?:에|이|엔)? .{0,10}(?:\d+ ?만 ?원|텅|그대로)|잔고 .{0,4}\d|\d+ ?만 ?원(?:으로| 남|밖에| 있어)"
        r"|카드값|월세 .{0,6}(?:내야|밀|못)|어케 (?:살|버티)|어떻게 (?:살|버티)",
        ("빠듯한 형편에 마음이 많이 무거우시겠어요.", "돈 걱정이 이어지면 정말 마음이 무겁죠."),
        (
            "빠듯한 형편에 마음이 많이 무거우시겠어요. 이야기 꺼내 주셔서 고마워요.",
            "돈 걱정이 이어지면 정말 마음이 무겁죠. 요즘 많이 애쓰고 계시네요.",
        ),
    ),
    _t(
        "수고",
        r"마감(?:함|했|끝|완료)|마감 ?끝|끝냈|해냈|마쳤|완료|콜 ?끝|다 (?:외웠|외움|끝냈|치웠|옮겼)"
        r"|(?:덮고|치우고|해놓고) 왔",
        ("정말 수고 많으셨어요.", "정말 애쓰셨어요, 수고 많으셨어요."),
        (
            "정말 수고 많으셨어요. 오늘은 푹 쉬셨으면 좋겠어요.",
            "애쓰셨어요, 정말 수고 많으셨어요. 이제 조금 쉬실 수 있으면 좋겠어요.",
        ),
    ),
    _t(
        "기다려지는 날",
        r"(?:방학|휴가|여행|전역|제대|콘서트|퇴사|생일|결혼식?|개강) ?[Dd] ?- ?\d"
        r"|[Dd] ?- ?\d+ ?(?:방학|휴가|여행|전역)"
        r"|기대(?:돼|된|되|중)",
        ("정말 기다려지시겠어요!", "생각만 해도 설레시겠어요!"),
        (
            "정말 기다려지시겠어요! 그날 제일 하고 싶은 게 뭐예요?",
            "생각만 해도 설레시겠어요. 어떤 걸 제일 기대하세요?",
        ),
        light=True,
    ),
    # "급식에 마라탕 나옴 ㅋㅋ", "오늘 국밥 먹음. 사치ㅎㅎ": a meal told is a small pleasure.
    _t(
        "한 끼",
        _FOOD + r".{0,15}(?:먹는 ?중|먹고 ?있|먹고 ?(?:옴|왔)|먹음|먹었|나옴|나왔|받아 ?먹"
        r"|사 ?옴|사 ?왔|시켰|시킴)",
        ("맛있는 한 끼는 하루의 작은 낙이죠.", "듣는 저도 군침이 도네요!"),
        (
            "맛있는 한 끼는 하루의 작은 낙이죠. 듣는 저도 군침이 도네요!",
            "메뉴 하나로 하루가 든든해지죠. 맛있게 드셨으면 좋겠어요!",
        ),
        light=True,
        unless=r"혼자|홀로|외롭|쓸쓸|명절|못 ?먹",  # a lonely meal, a skipped one
    ),
    _t(
        "소소한 기쁨",
        r"맛있|맛나|꿀맛|개맛|존맛|최고|제일 좋|득템|개이득|이득|소확행|혜자|좋더라|괜찮더라"
        r"|재밌|재미있|귀여|귀엽"
        r"|이쁘|예쁘|쩔|짱|대박|신기|굵다|뿌듯|알차",
        ("듣는 저도 기분이 좋아지네요.", "소소하지만 기분 좋은 순간이네요."),
        (
            "소소하지만 기분 좋은 순간이네요. 듣는 저도 덩달아 기분이 좋아져요.",
            "듣기만 해도 기분 좋아지는 이야기네요. 그 순간 정말 좋으셨겠어요.",
        ),
        light=True,
    ),
    _t(
        "웃긴 일",
        r"ㅋㅋㅋ|ㅎㅎㅎ|빵 ?터",
        ("생각만 해도 웃음이 나네요.", "듣는 저도 웃음이 나네요."),
        (
            "생각만 해도 웃음이 나는 이야기네요. 듣는 저도 덩달아 즐거워져요.",
            "듣는 저도 웃음이 나네요. 그 순간 재밌으셨겠어요.",
        ),
        light=True,
    ),
    # "첫 손자 봤습니다 허허", "오늘 단체 예약 들어왔다 ㅎ": good news told with a smile, read as
    # 일상; "그 이야기 더 듣고 싶어요" after it read as not sharing the joy ("축하 한마디 없이").
    _t(
        "웃으며 전한 소식",
        r"(?:ㅎ|허허|하하|^^)[\s.!~]*$",
        ("듣는 저도 기분이 좋아지네요.", "듣기만 해도 흐뭇하네요."),
        (
            "듣기만 해도 흐뭇한 이야기네요. 그 순간 기분 좋으셨겠어요.",
            "듣는 저도 기분이 좋아지는 이야기네요. 그 이야기 조금 더 들려주실래요?",
        ),
        light=True,
        unless=r"그냥|심심|들어와",  # "그냥 들어와 봤어요 ㅎㅎ": a hello, not news
    ),
    _t(
        "고단함",
        r"\d+ ?시간 ?(?:째|동안|씩)? ?(?:일|근무|운전|타고|서서|연구|야근|알바)|야근|밤샘|철야"
        r"|새벽 ?(?:\d+ ?시|수유|근무|출근)"
        r"|이틀 만에|잠 ?(?:좀|을)? ?자고 ?싶|못 ?잤|나이트|주말 출근|토요일 출근|씹지도 않고"
        r"|\d+ ?분 (?:먹|만에)"
        r"|정신(?:이)? ?없|허리 (?:끊어|아프|아파)|다리 (?:후들|아프|아파)|손 얼어",
        ("많이 고단하시겠어요.", "정말 애쓰셨어요, 많이 고단하시겠어요."),
        (
            "정말 고단하시겠어요. 잠깐이라도 숨 돌리실 틈이 있으면 좋겠어요.",
            "많이 애쓰고 계시네요. 오늘은 조금이라도 쉬실 수 있으면 좋겠어요.",
        ),
        unless=r"탈출|안 ?하고|없이|안 ?함|칼퇴|정시 ?퇴근|정각에 ?퇴근",
    ),
)


def implied_tone(text: str) -> Tone | None:
    """The first tone the message implies (the order above: the more specific first); a light tone
    only for a message that tells of no trouble."""
    trouble = bool(_TROUBLE.search(text)) or bool(_ASKING.search(text))
    for tone in TONES:
        if tone.light and trouble:
            continue
        if tone.pattern.search(text) and not (tone.unless and tone.unless.search(text)):
            return tone
    return None
