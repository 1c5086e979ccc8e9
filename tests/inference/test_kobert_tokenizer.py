from __future__ import annotations

from pathlib import Path

import pytest

from engine.inference.kobert_tokenizer import KoBERTTokenizer
from engine.inference.loading import load_tokenizer
from tests.conftest import SHARED_DATA

KOBERT_DIR = SHARED_DATA / "kobert_tokenizer"
needs_kobert = pytest.mark.skipif(
    not (KOBERT_DIR / "tokenizer_78b3253a26.model").is_file(),
    reason="the KoBERT SentencePiece files are not in ../shared/data/kobert_tokenizer",
)


@pytest.fixture(scope="module")
def kobert() -> KoBERTTokenizer:
    return KoBERTTokenizer.from_files(
        KOBERT_DIR / "tokenizer_78b3253a26.model", KOBERT_DIR / "kobertvocab_f38b8a4d6d.json"
    )


@needs_kobert
def test_official_ids(kobert: KoBERTTokenizer) -> None:
    encoded = kobert("한국어 모델을 공유합니다.")
    assert encoded["input_ids"] == [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]
    assert kobert.tokenize("한국어 모델을 공유합니다.") == [
        "▁한국",
        "어",
        "▁모델",
        "을",
        "▁공유",
        "합니다",
        ".",
    ]


@needs_kobert
def test_vocabulary_layout(kobert: KoBERTTokenizer) -> None:
    assert kobert.vocab_size == 8002
    assert [kobert.unk_token_id, kobert.pad_token_id, kobert.cls_token_id, kobert.sep_token_id] == [
        0,
        1,
        2,
        3,
    ]
    assert kobert.mask_token_id == 4


@needs_kobert
def test_save_and_reload_through_loader(kobert: KoBERTTokenizer, tmp_path: Path) -> None:
    kobert.save_pretrained(tmp_path)
    assert (tmp_path / "spiece.model").is_file() and (tmp_path / "vocab.txt").is_file()
    reloaded = load_tokenizer(str(tmp_path))
    assert isinstance(reloaded, KoBERTTokenizer)
    assert reloaded("한국어 모델을 공유합니다.")["input_ids"] == [
        2,
        4958,
        6855,
        2046,
        7088,
        1050,
        7843,
        54,
        3,
    ]


@needs_kobert
def test_batches_pad_to_longest_not_64(kobert: KoBERTTokenizer) -> None:
    batch = kobert(["안녕", "오늘 하루는 정말 길고 힘들었어요"], padding="longest", return_tensors="pt")
    longest = len(kobert("오늘 하루는 정말 길고 힘들었어요")["input_ids"])
    assert batch["input_ids"].shape == (2, longest) and longest < 64
    assert batch["input_ids"][0, -1].item() == kobert.pad_token_id
    assert batch["attention_mask"][0].sum().item() == len(kobert("안녕")["input_ids"])


@needs_kobert
def test_unknown_pieces_map_to_unk_and_odd_input_survives(kobert: KoBERTTokenizer) -> None:
    ids = kobert("🫠🫠 \u202e\x00 ㅋㅋㅋ 2,000원")["input_ids"]
    assert ids[0] == 2 and ids[-1] == 3
    assert all(0 <= i < kobert.vocab_size for i in ids)
    assert kobert("")["input_ids"] == [2, 3]


def test_tiny_kobert_style_tokenizer_roundtrip(tiny_emotion_model: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_emotion_model))
    assert isinstance(tokenizer, KoBERTTokenizer)
    ids = tokenizer("오늘 점심은 김치찌개를 먹었어요")["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "오늘 점심은 김치찌개를 먹었어요"
