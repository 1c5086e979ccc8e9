"""What the bot says on Telegram and Discord, in one place: 존댓말, warm, short.

Adapters only pick and format these; the engine's own replies (conversation, crisis card, mood
summary) come from the engine.
"""

from __future__ import annotations

# Who maeum is and is not; repeated in /start, /help and the consent prompt on purpose.
NOT_A_THERAPIST = (
    "마음은 전문 상담사가 아니고, 응급 상황에서는 도움을 드리기 어려워요.\n"
    "위급하거나 스스로를 해칠 것 같을 때는 바로 연락해 주세요: "
    "자살예방상담 109 · 경찰 112 · 구급 119"
)


def storage_notice(retention_days: int) -> str:
    return (
        "제가 저장하는 것은 감정 이름과 점수, 그리고 시간뿐이에요. 보내 주신 글 자체는 저장하지 않아요.\n"
        f"기록은 {retention_days}일이 지나면 지워지고, 언제든 /forget 으로 모두 지울 수 있어요."
    )


def start_text(retention_days: int) -> str:
    return (
        "안녕하세요, 마음이에요. 오늘 있었던 일이나 지금 기분을 편하게 들려주세요. 곁에서 들을게요.\n\n"
        f"{NOT_A_THERAPIST}\n\n"
        f"{storage_notice(retention_days)}"
    )


CONSENT_QUESTION = "감정 기록을 저장해도 괜찮으실까요? 동의하지 않으셔도 대화는 그대로 할 수 있어요."


def consent_prompt(retention_days: int) -> str:
    return (
        "한 가지만 여쭤볼게요. 기분 흐름을 /mood 로 보여 드리려면 감정 기록을 저장해야 해요.\n"
        f"{storage_notice(retention_days)}\n\n"
        f"{CONSENT_QUESTION}"
    )


CONSENT_YES_BUTTON = "동의"
CONSENT_NO_BUTTON = "동의하지 않음"
CONSENT_GRANTED = (
    "고마워요. 이제부터 감정 기록을 저장할게요. 마음이 바뀌면 /forget 으로 언제든 지울 수 있어요."
)
CONSENT_DECLINED = "알겠어요. 아무것도 저장하지 않을게요. 대화는 언제든 편하게 이어 가셔도 돼요."
NOT_YOUR_BUTTON = "이 버튼은 질문을 받은 분만 누를 수 있어요."

HELP = (
    "마음은 이렇게 쓰시면 돼요.\n"
    "• 그냥 편하게 말을 걸어 주세요. 이야기를 듣고 답해 드릴게요.\n"
    "• /mood — 이번 주 기분 흐름 (예: /mood 4w 는 4주)\n"
    "• /export — 저장된 내 기록을 파일로 받기\n"
    "• /forget — 저장된 내 기록을 모두 지우기\n"
    "• /checkin 21:00 — 매일 그 시간에 안부 묻기 (끄기: /checkin off)\n"
    "• /timezone Asia/Seoul — 내 시간대 맞추기\n"
    "• /start — 마음 소개와 저장 동의\n\n"
    f"{NOT_A_THERAPIST}"
)

DISCORD_HELP = (
    "마음은 이렇게 쓰시면 돼요.\n"
    "• `/talk` 로 이야기를 들려주세요. 저에게 DM을 보내셔도 돼요.\n"
    "• `/mood` — 기분 흐름 (weeks로 기간 선택), `/export` — 내 기록 받기, `/forget` — 내 기록 지우기\n"
    "• `/checkin` — 매일 정한 시간에 DM으로 안부 묻기, `/timezone` — 내 시간대 맞추기\n"
    "• `/consent` — 감정 기록 저장 동의를 언제든 바꾸기\n"
    "기분과 기록은 본인에게만 보여요.\n\n"
    f"{NOT_A_THERAPIST}"
)

# Commands, as the platforms list them.
TELEGRAM_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "마음 소개와 저장 동의"),
    ("mood", "기분 흐름 보기 (예: /mood 4w)"),
    ("export", "내 기록 받기"),
    ("forget", "내 기록 모두 지우기"),
    ("checkin", "매일 안부 알림 (예: /checkin 21:00, 끄기: /checkin off)"),
    ("timezone", "내 시간대 (예: /timezone Asia/Seoul)"),
    ("help", "도움말"),
)

CHECKIN_USAGE = "매일 안부를 여쭐 시간을 알려 주세요. 예: /checkin 21:00 (끄기: /checkin off)"
TIMEZONE_USAGE = "사시는 곳의 시간대를 알려 주세요. 예: /timezone Asia/Seoul"
TIMEZONE_SET = "시간대를 {zone}(으)로 맞췄어요. 기분 흐름과 안부 알림이 이 시간대를 따라요."
DISCORD_CHECKIN_DESCRIPTION = "매일 정한 시간에 DM으로 안부 묻기"
DISCORD_CHECKIN_TIME = "21:00처럼 24시간 형식, 끄려면 off"
DISCORD_TIMEZONE_DESCRIPTION = "내 시간대 맞추기"
DISCORD_TIMEZONE_ZONE = "예: Asia/Seoul"
DISCORD_TALK_DESCRIPTION = "마음에게 이야기하기"
DISCORD_TALK_MESSAGE = "하고 싶은 이야기"
DISCORD_MOOD_DESCRIPTION = "기분 흐름 보기 (본인에게만 보여요)"
DISCORD_MOOD_WEEKS = "몇 주 동안의 흐름을 볼까요? (1–12, 기본 1)"
DISCORD_FORGET_DESCRIPTION = "저장된 내 기록 모두 지우기"
DISCORD_EXPORT_DESCRIPTION = "저장된 내 기록을 파일로 받기"
DISCORD_HELP_DESCRIPTION = "마음 사용법"

MOOD_NOT_READY = "기분 흐름 보기는 아직 준비 중이에요. 조금만 기다려 주세요. 그동안 이야기는 언제든 들을게요."
MOOD_BAD_ARGUMENT = "기간은 주 단위로 적어 주세요. 예: /mood, /mood 4w (최대 {max_weeks}주)"
MOOD_NO_CONSENT = (
    "감정 기록 저장에 동의하지 않으셔서 보여 드릴 흐름이 없어요. 원하시면 /start 에서 동의하실 수 있어요."
)
DISCORD_MOOD_NO_CONSENT = (
    "감정 기록 저장에 동의하지 않으셔서 보여 드릴 흐름이 없어요. 원하시면 `/consent` 에서 동의하실 수 있어요."
)
DISCORD_CONSENT_DESCRIPTION = "감정 기록 저장 동의를 바꾸기"
CONSENT_NOW_YES = "지금은 감정 기록 저장에 동의하신 상태예요."
CONSENT_NOW_NO = "지금은 감정 기록을 저장하지 않고 있어요."
DISCORD_CRISIS_SENT = (
    "이야기해 주셔서 고마워요. 도움을 받을 수 있는 곳을 DM으로 보내 드렸어요. "
    "지금 위급하다면 바로 109(자살예방상담, 24시간), 112, 119에 연락해 주세요."
)

FORGET_CONFIRM = "저장된 감정 기록과 설정을 모두 지울까요? 지운 기록은 되돌릴 수 없어요."
FORGET_YES_BUTTON = "네, 모두 지워 주세요"
FORGET_NO_BUTTON = "아니요"
FORGET_DONE = "모두 지웠어요. 다시 이야기하고 싶으실 때 언제든 찾아 주세요."
FORGET_NOTHING = "지울 기록이 없었어요. 지금은 저장된 것이 하나도 없어요."
FORGET_CANCELLED = "지우지 않았어요. 기록은 그대로 있어요."
FORGET_EXPIRED = "확인 시간이 지났어요. 지우시려면 /forget 을 다시 눌러 주세요."

EXPORT_CAPTION = "저장된 기록이에요. 감정 이름과 점수, 시간만 있고 대화 내용은 없어요."
EXPORT_EMPTY_CAPTION = "저장된 기록이 없어요. 파일에도 빈 기록만 들어 있어요."
EXPORT_FILENAME = "maeum-export.json"

PRIVATE_ONLY = "기분과 기록은 개인적인 이야기라서 여기서는 보여 드리지 않아요. 저에게 1:1로 말을 걸어 주세요."
GROUP_START = (
    "안녕하세요, 마음이에요. 편하게 이야기하시려면 저에게 1:1로 말을 걸어 주세요.\n\n" + NOT_A_THERAPIST
)

# A crisis message in a group: the card goes privately; the group sees only this, with the numbers.
GROUP_CRISIS_SENT = (
    "이야기해 주셔서 고마워요. 도움을 받을 수 있는 곳을 1:1 대화로 보내 드렸어요. "
    "지금 위급하다면 바로 109(자살예방상담, 24시간), 112, 119에 연락해 주세요."
)
GROUP_CRISIS_OPEN = (
    "이야기해 주셔서 고마워요. 아래 버튼을 누르시면 1:1 대화에서 도움받을 수 있는 곳을 알려 드릴게요. "
    "지금 위급하다면 바로 109(자살예방상담, 24시간), 112, 119에 연락해 주세요."
)
GROUP_CRISIS_BUTTON = "1:1로 이야기하기"

UNKNOWN_COMMAND = "그 명령어는 제가 몰라요. /help 를 보내 주시면 쓸 수 있는 것들을 알려 드릴게요."
NOT_TEXT = "아직은 글로 된 이야기만 읽을 수 있어요. 괜찮으시면 글로 적어 주시겠어요?"
EDITED = "고치신 메시지는 제가 다시 읽지 못해요. 새 메시지로 보내 주시면 들을게요."
SOMETHING_WENT_WRONG = "죄송해요, 제 쪽에 문제가 생겼어요. 잠시 뒤에 다시 말씀해 주시겠어요?"
