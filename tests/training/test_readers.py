"""Tests for training.readers against small hand-written fixtures (tests/fixtures/)."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, SHARED_DATA
from training.readers import (
    AIHUB_TO_PRODUCT,
    IDENTITY_PRODUCT,
    KOTE_TO_PRODUCT,
    PRODUCT_LABELS,
    DatasetFormatError,
    IntentExample,
    LabeledText,
    MultiLabelText,
    QAPair,
    WellnessData,
    apply_label_map,
    kote_to_product,
    load_dataset,
    load_label_map,
    read_aihub_emotion,
    read_chatbotdata,
    read_intents_json,
    read_kote,
    read_seed_csv,
    read_text_label,
    read_wellness,
)

KOTE_DIR = SHARED_DATA / "kote"

AIHUB_CSV_TEXTS = [
    LabeledText("다음 달에 상견례가 있는데 너무 긴장돼.", "불안"),
    LabeledText("실수하면 어떡하지?", "불안"),
    LabeledText("믿었던 동생이 내 험담을 하고 다녔대.", "상처"),
    LabeledText("통장 비밀번호가 기억이 안 나.", "당황"),
    LabeledText("창피해서 물어보기가 좀 그래.", "당황"),
    LabeledText("그래도 내일 가 볼게.", "당황"),
]
AIHUB_CSV_PAIRS = [
    QAPair("다음 달에 상견례가 있는데 너무 긴장돼.", "긴장되는 게 당연해요.", "불안"),
    QAPair("실수하면 어떡하지?", "진심은 전해질 거예요.", "불안"),
    QAPair("믿었던 동생이 내 험담을 하고 다녔대.", "믿었던 만큼 더 아프셨겠어요.", "상처"),
    QAPair("통장 비밀번호가 기억이 안 나.", "은행에 가면 도와줄 거예요.", "당황"),
    QAPair("그래도 내일 가 볼게.", "좋은 생각이에요.", "당황"),
]


# --------------------------------------------------------------------------- AI Hub


def test_aihub_xlsx() -> None:
    texts, pairs = read_aihub_emotion(FIXTURES / "aihub_emotion.xlsx")
    assert texts == [
        LabeledText("드디어 원하던 회사에 합격했어!", "기쁨"),
        LabeledText("부모님께 제일 먼저 말씀드렸어.", "기쁨"),
        LabeledText("젊을 때 건강을 챙기지 못한 게 후회돼.", "슬픔"),
        LabeledText("매일 조금씩 걸어 보려고 해.", "슬픔"),
        LabeledText("반에서 아무도 나랑 얘기하지 않아.", "상처"),
        LabeledText("팀장이 내 아이디어를 자기 것처럼 발표했어.", "분노"),
        LabeledText("다음 회의 때 말해 볼까 해.", "분노"),
        LabeledText("근데 또 무시당할까 봐 걱정이야.", "분노"),
        LabeledText("그래도 해 볼게.", "분노"),
    ]
    assert pairs == [
        QAPair("드디어 원하던 회사에 합격했어!", "축하해요! 정말 노력한 보람이 있네요.", "기쁨"),
        QAPair("부모님께 제일 먼저 말씀드렸어.", "부모님도 많이 기뻐하셨겠어요.", "기쁨"),
        QAPair("젊을 때 건강을 챙기지 못한 게 후회돼.", "지금이라도 돌보시려는 마음이 소중해요.", "슬픔"),
        QAPair("반에서 아무도 나랑 얘기하지 않아.", "혼자라고 느껴져서 많이 외로웠겠어요.", "상처"),
        QAPair("팀장이 내 아이디어를 자기 것처럼 발표했어.", "정말 화가 나셨겠어요.", "분노"),
        QAPair("다음 회의 때 말해 볼까 해.", "차분히 사실을 전하는 게 좋겠어요.", "분노"),
        QAPair("근데 또 무시당할까 봐 걱정이야.", "그런 걱정이 드는 건 자연스러워요.", "분노"),
        QAPair("그래도 해 볼게.", "응원할게요.", "분노"),
        QAPair("레이블이 빠진 행이야.", "그래도 대화 쌍은 남아요.", None),
    ]


def test_aihub_xlsx_text_is_nfc() -> None:
    # The fixture stores this sentence NFD-decomposed.
    texts, _ = read_aihub_emotion(FIXTURES / "aihub_emotion.xlsx")
    assert all(unicodedata.is_normalized("NFC", t.text) for t in texts)
    assert LabeledText("반에서 아무도 나랑 얘기하지 않아.", "상처") in texts


def test_aihub_cp949_csv_with_system_response_columns() -> None:
    raw = (FIXTURES / "aihub_emotion_cp949.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # guard: the fixture really is CP949
    assert read_aihub_emotion(FIXTURES / "aihub_emotion_cp949.csv") == (AIHUB_CSV_TEXTS, AIHUB_CSV_PAIRS)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_aihub_utf8_csv(tmp_path: Path, encoding: str) -> None:
    text = (FIXTURES / "aihub_emotion_cp949.csv").read_bytes().decode("cp949")
    path = tmp_path / "aihub.csv"
    path.write_bytes(text.encode(encoding))
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_aihub_emotion(path) == (AIHUB_CSV_TEXTS, AIHUB_CSV_PAIRS)


def test_aihub_wrong_format_names_missing_column() -> None:
    with pytest.raises(DatasetFormatError, match="감정_대분류") as info:
        read_aihub_emotion(FIXTURES / "seed.csv")
    assert "seed.csv" in str(info.value)
    with pytest.raises(DatasetFormatError, match="감정_대분류"):
        read_aihub_emotion(FIXTURES / "wellness.xlsx")


def test_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\xff")
    with pytest.raises(DatasetFormatError, match="CP949"):
        read_aihub_emotion(path)


def test_not_really_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("감정_대분류,사람문장1\n기쁨,안녕\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="xlsx"):
        read_aihub_emotion(path)


# --------------------------------------------------------------------------- seed / ChatbotData


def test_seed_csv() -> None:
    assert read_seed_csv(FIXTURES / "seed.csv") == [
        LabeledText("오늘 승진 소식을 들었어요!", "기쁨"),
        LabeledText("강아지가 아파서 마음이 안 좋아", "슬픔"),
        LabeledText("다음 주 면접이 걱정돼요", "불안"),
        LabeledText("요즘 아무것도 하기 싫고, 계속 누워만 있어", "우울"),
    ]


def test_seed_csv_wrong_format() -> None:
    with pytest.raises(DatasetFormatError, match="'sentiment', 'user'"):
        read_seed_csv(FIXTURES / "chatbotdata.csv")


def test_chatbotdata() -> None:
    assert read_chatbotdata(FIXTURES / "chatbotdata.csv") == [
        QAPair("오늘 날씨 좋다", "산책 가기 좋은 날이네요.", "0"),
        QAPair("헤어진 지 한 달 됐어", "아직 마음이 많이 아프겠어요.", "1"),
        QAPair("좋아하는 사람이 생겼어", "설레는 마음이 느껴져요!", "2"),
        QAPair("커피, 차 중에 뭐 마실까", "오늘은 따뜻한 차 어때요?", "0"),
    ]


def test_chatbotdata_wrong_format() -> None:
    with pytest.raises(DatasetFormatError, match="'Q', 'A', 'label'"):
        read_chatbotdata(FIXTURES / "seed.csv")


# --------------------------------------------------------------------------- KOTE


KOTE_FIXTURE = [
    MultiLabelText("오늘 시험 끝나서 너무 신난다 ㅎㅎ", ("즐거움/신남", "행복", "기쁨", "뿌듯함")),
    MultiLabelText('친구가 "괜찮아?"라고 물어봐서 조금 울컥했다', ("슬픔", "서러움", "아껴주는")),
    MultiLabelText("택배가 또 늦게 온다니 진짜 짜증나네", ("불평/불만", "짜증", "화남/분노", "어이없음")),
    MultiLabelText("내일 발표인데 잠이 안 와요", ("불안/걱정", "부담/안_내킴", "힘듦/지침")),
    MultiLabelText("그냥 점심 뭐 먹을지 고민 중", ("없음",)),
    MultiLabelText("이걸 어떻게 받아들여야 할지 모르겠다", ("슬픔", "불안/걱정")),
    MultiLabelText("요즘은 뭘 해도 내가 쓸모없는 사람 같아", ("절망", "패배/자기혐오", "힘듦/지침", "슬픔")),
    MultiLabelText("와 저 선수 진짜 대단하다", ("존경", "놀람")),
    # label id 14 is listed twice in the file: it must vote once.
    MultiLabelText("비 오는 날엔 창밖 보는 게 좋아", ("편안/쾌적", "없음", "깨달음")),
]


def test_read_kote_fixture() -> None:
    assert read_kote(FIXTURES / "kote_sample.tsv", FIXTURES / "kote_labels.txt") == KOTE_FIXTURE


def test_kote_to_product_on_fixture() -> None:
    mapping = load_label_map(KOTE_TO_PRODUCT)
    assert kote_to_product(KOTE_FIXTURE, mapping) == [
        LabeledText("오늘 시험 끝나서 너무 신난다 ㅎㅎ", "기쁨"),
        LabeledText('친구가 "괜찮아?"라고 물어봐서 조금 울컥했다', "슬픔"),
        LabeledText("택배가 또 늦게 온다니 진짜 짜증나네", "분노"),
        LabeledText("내일 발표인데 잠이 안 와요", "불안"),  # 불안 2 : 우울 1
        LabeledText("그냥 점심 뭐 먹을지 고민 중", "일상"),  # only 없음
        # 슬픔 1 : 불안 1 tie -> dropped
        LabeledText("요즘은 뭘 해도 내가 쓸모없는 사람 같아", "우울"),
        # 존경/놀람 cast no vote -> dropped
        LabeledText("비 오는 날엔 창밖 보는 게 좋아", "일상"),  # 일상 2 : 기쁨 1
    ]


def test_kote_to_product_rejects_unmapped_label() -> None:
    with pytest.raises(ValueError, match="새레이블"):
        kote_to_product([MultiLabelText("문장", ("새레이블",))], {"기쁨": "기쁨"})


def test_kote_map_covers_all_labels_with_product_values() -> None:
    mapping = load_label_map(KOTE_TO_PRODUCT)
    labels = (FIXTURES / "kote_labels.txt").read_text(encoding="utf-8").split()
    assert len(labels) == 44
    assert set(mapping) == set(labels)
    assert {v for v in mapping.values() if v is not None} == set(PRODUCT_LABELS)
    assert "_comment" in json.loads(KOTE_TO_PRODUCT.read_text(encoding="utf-8"))


def test_kote_wrong_format() -> None:
    with pytest.raises(DatasetFormatError, match="KOTE") as info:
        read_kote(FIXTURES / "seed.csv", FIXTURES / "kote_labels.txt")
    assert "seed.csv" in str(info.value)


def test_kote_label_id_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("1\t문장\t0,44\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match=r"0\.\.43"):
        read_kote(path, FIXTURES / "kote_labels.txt")


def test_kote_tolerates_header_row(tmp_path: Path) -> None:
    path = tmp_path / "with_header.tsv"
    path.write_text("ID\ttext\tlabels\n7\t좋다\t42\n", encoding="utf-8")
    assert read_kote(path, FIXTURES / "kote_labels.txt") == [MultiLabelText("좋다", ("기쁨",))]


@pytest.mark.skipif(not KOTE_DIR.is_dir(), reason=f"real KOTE data not present at {KOTE_DIR}")
@pytest.mark.parametrize("split", ["val", "test"])
def test_real_kote(split: str) -> None:
    records = read_kote(KOTE_DIR / f"{split}.tsv", KOTE_DIR / "labels.txt")
    assert len(records) == 5000
    # Texts containing quotes are CSV-quoted in the file ("..""..""..") and must come back unquoted.
    assert not any(r.text.startswith('"') and r.text.endswith('"') and '""' in r.text for r in records)
    if split == "val":
        assert any('"강호동,은지원 코스"' in r.text and not r.text.startswith('"') for r in records)
    product = kote_to_product(records, load_label_map(KOTE_TO_PRODUCT))
    counts = Counter(r.label for r in product)
    assert set(counts) == set(PRODUCT_LABELS)
    # Sanity bounds, not exact numbers: the mapping keeps most rows and every class is present.
    assert 3500 < len(product) < 5000
    assert min(counts.values()) >= 10
    assert load_dataset(KOTE_DIR / f"{split}.tsv") == product


# --------------------------------------------------------------------------- wellness / intents


def test_wellness_xlsx() -> None:
    assert read_wellness(FIXTURES / "wellness.xlsx") == WellnessData(
        examples=[
            IntentExample("요즘 너무 우울해요", "감정/우울감"),
            IntentExample("아무것도 하기 싫어요", "감정/우울감"),
            IntentExample("가슴이 두근거리고 불안해요", "감정/불안감"),
            IntentExample("잠이 안 와요", "증상/불면"),
        ],
        answers={
            "감정/우울감": [
                "많이 지치셨군요. 천천히 이야기해 주세요.",
                "그런 날도 있어요. 제가 곁에 있을게요.",
            ],
            "감정/불안감": ["불안할 땐 숨을 천천히 쉬어 봐요."],
            "증상/불면": [],
        },
    )


def test_wellness_wrong_format() -> None:
    with pytest.raises(DatasetFormatError, match="'구분', '유저', '챗봇'"):
        read_wellness(FIXTURES / "aihub_emotion.xlsx")


def test_intents_json() -> None:
    assert read_intents_json(FIXTURES / "intents.json") == WellnessData(
        examples=[
            IntentExample("안녕", "인사"),
            IntentExample("안녕하세요", "인사"),
            IntentExample("너무 외로워", "감정/외로움"),
            IntentExample("하이", "인사"),
        ],
        answers={
            "인사": ["안녕하세요! 오늘 하루는 어땠어요?", "반가워요!"],
            "감정/외로움": ["제가 여기 있어요.", "외로운 마음을 얘기해 줘서 고마워요."],
        },
    )


def test_intents_json_wrong_format(tmp_path: Path) -> None:
    path = tmp_path / "intents.json"
    path.write_text(json.dumps([{"category": "인사", "answers": []}]), encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="utterances"):
        read_intents_json(path)
    with pytest.raises(DatasetFormatError, match="JSON"):
        read_intents_json(FIXTURES / "text_label.jsonl")


# --------------------------------------------------------------------------- text,label


def test_text_label_csv() -> None:
    assert read_text_label(FIXTURES / "text_label.csv") == [
        LabeledText("오늘은 기분이 좋아", "기쁨"),
        LabeledText("그냥, 평범한 하루였어", "일상"),
        LabeledText("시험이 걱정돼", "불안"),
    ]


def test_text_label_jsonl() -> None:
    records = read_text_label(FIXTURES / "text_label.jsonl")
    assert records == [
        LabeledText("친구랑 싸워서 속상해", "슬픔"),
        LabeledText("화가 나", "분노"),  # stored NFD in the fixture
        LabeledText("숫자 레이블도 받아요", "3"),
    ]


def test_text_label_json_array(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"text": "좋아", "label": "기쁨"}], ensure_ascii=False), encoding="utf-8")
    assert read_text_label(path) == [LabeledText("좋아", "기쁨")]


def test_text_label_wrong_format(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="'text'"):
        read_text_label(FIXTURES / "seed.csv")
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "문장"}\n', encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="'label'"):
        read_text_label(path)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="1행"):
        read_text_label(path)


# --------------------------------------------------------------------------- label maps


def test_load_label_map_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"_comment": "설명", "기쁨": "기쁨", "놀람": None}), encoding="utf-8")
    assert load_label_map(path) == {"기쁨": "기쁨", "놀람": None}


def test_load_label_map_rejects_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"기쁨": 1}), encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="기쁨"):
        load_label_map(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="JSON"):
        load_label_map(path)


def test_apply_label_map_drops_and_keeps() -> None:
    records = [LabeledText("a", "상처"), LabeledText("b", "놀람"), LabeledText("c", "기타")]
    mapping: dict[str, str | None] = {"상처": "슬픔", "놀람": None}
    assert apply_label_map(records, mapping) == [LabeledText("a", "슬픔")]
    assert apply_label_map(records, mapping, keep_unmapped=True) == [
        LabeledText("a", "슬픔"),
        LabeledText("c", "기타"),
    ]


def test_aihub_to_product_map() -> None:
    mapping = load_label_map(AIHUB_TO_PRODUCT)
    assert mapping == {
        "기쁨": "기쁨",
        "분노": "분노",
        "불안": "불안",
        "슬픔": "슬픔",
        "상처": "슬픔",
        "당황": "불안",
    }
    texts, _ = read_aihub_emotion(FIXTURES / "aihub_emotion_cp949.csv")
    relabeled = [r.label for r in apply_label_map(texts, mapping)]
    assert relabeled == ["불안", "불안", "슬픔", "불안", "불안", "불안"]


def test_identity_product_map() -> None:
    mapping = load_label_map(IDENTITY_PRODUCT)
    assert mapping == {label: label for label in PRODUCT_LABELS}
    records = [LabeledText("a", "우울"), LabeledText("b", "행복")]
    assert apply_label_map(records, mapping) == [LabeledText("a", "우울")]


# --------------------------------------------------------------------------- load_dataset


@pytest.mark.parametrize(
    ("name", "fmt", "expected_len"),
    [
        ("aihub_emotion.xlsx", None, 9),
        ("aihub_emotion_cp949.csv", None, 6),
        ("seed.csv", None, 4),
        ("text_label.csv", None, 3),
        ("text_label.jsonl", None, 3),
        ("seed.csv", "seed", 4),
        ("aihub_emotion.xlsx", "AIHUB", 9),
        ("text_label.jsonl", "text", 3),
    ],
)
def test_load_dataset(name: str, fmt: str | None, expected_len: int) -> None:
    records = load_dataset(FIXTURES / name, fmt)
    assert len(records) == expected_len
    assert all(isinstance(r, LabeledText) for r in records)


def test_load_dataset_kote_uses_sibling_labels(tmp_path: Path) -> None:
    (tmp_path / "labels.txt").write_bytes((FIXTURES / "kote_labels.txt").read_bytes())
    (tmp_path / "val.tsv").write_bytes((FIXTURES / "kote_sample.tsv").read_bytes())
    expected = kote_to_product(KOTE_FIXTURE, load_label_map(KOTE_TO_PRODUCT))
    assert load_dataset(tmp_path / "val.tsv") == expected
    assert load_dataset(tmp_path / "val.tsv", "kote") == expected


def test_load_dataset_unknown() -> None:
    with pytest.raises(DatasetFormatError, match="감정_대분류"):
        load_dataset(FIXTURES / "chatbotdata.csv")
    with pytest.raises(ValueError, match="aihub, seed, kote, text"):
        load_dataset(FIXTURES / "seed.csv", "csv")
