"""What the bench sends: short to medium everyday messages of the kind people write to maeum,
none of them a crisis (a crisis reply would skip the models and flatter the timing)."""

from __future__ import annotations

# What people write to maeum: short to medium everyday messages, none of them a crisis.
MESSAGES = [
    "요즘 회사 일 때문에 너무 지치고 잠도 잘 못 자요",
    "오늘 친구랑 오랜만에 만나서 정말 즐거웠어",
    "내일 발표가 있는데 너무 떨려서 아무것도 손에 안 잡혀요",
    "강아지가 아파서 병원에 다녀왔는데 마음이 무거워",
    "팀장님이 또 내 탓만 해서 진짜 화가 나",
    "그냥 하루 종일 누워만 있었어요",
    "시험 끝났다! 이제 좀 쉬어야지",
    "엄마랑 말다툼을 해서 기분이 안 좋아요",
    "혼자 밥 먹는 게 요즘 좀 쓸쓸하네요",
    "면접 결과가 언제 나올지 계속 신경 쓰여",
    "비 오는 날에는 괜히 기분이 가라앉아요",
    "동생이 대학에 합격해서 온 가족이 기뻐했어요",
    "회의 시간에 실수해서 계속 생각나요",
    "주말에 뭐 할지 아직 못 정했어",
    "월급날인데 벌써 돈이 다 나갔어요 ㅠㅠ",
    "헤어진 지 꽤 됐는데 아직도 가끔 생각나",
]
