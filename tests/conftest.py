"""Shared fixtures: tiny real checkpoints built and saved here, loaded through the users' code path."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel

from training.tokenizers import train_chat_tokenizer, train_kobert_style_tokenizer

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "tests" / "fixtures"
PRODUCT_LABELS = ["일상", "기쁨", "불안", "슬픔", "분노", "우울"]

CORPUS = [
    "오늘 점심은 김치찌개를 먹었어요",
    "내일 시험인데 너무 떨려서 잠이 안 와",
    "합격 소식 듣고 너무 기뻐서 소리 질렀어",
    "강아지가 아파서 마음이 너무 아파요",
    "팀장님 때문에 진짜 화가 나서 미치겠어",
    "요즘 아무것도 하기 싫고 계속 누워만 있어",
    "친구랑 영화 보고 왔는데 재밌었어요",
    "비가 와서 우산을 챙겼어",
    "회사에서 발표를 망쳐서 속상해",
    "엄마랑 싸워서 기분이 안 좋아요",
    "주말에 여행 가기로 했어요 신난다",
    "돈이 없어서 걱정이에요",
    "헤어진 지 한 달이 지났는데 아직도 보고 싶어",
    "층간소음 때문에 너무 짜증나",
    "그냥 하루 종일 멍하니 있었어요",
    "퇴근하고 헬스장 갈 거야",
    "오랜만에 가족이랑 저녁 먹었어요",
    "면접 결과가 언제 나올지 불안해",
    "고양이가 오늘따라 귀여워요 ㅋㅋ",
    "버스를 놓쳐서 지각했어 ㅠㅠ",
] * 3


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_emotion_model(models_dir: Path) -> Path:
    """A 2-layer BERT classifier with a KoBERT-format tokenizer; labels deliberately not in the
    product order, so a test can tell label mapping comes from the config."""
    out = models_dir / "emotion"
    tokenizer = train_kobert_style_tokenizer(CORPUS, out / "_tok", vocab_size=300)
    torch.manual_seed(0)
    labels = ["우울", "일상", "분노", "기쁨", "슬픔", "불안"]
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        pad_token_id=tokenizer.pad_token_id,
    )
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_chat_model(models_dir: Path) -> Path:
    out = models_dir / "chat"
    tokenizer = train_chat_tokenizer(CORPUS, vocab_size=400)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=128,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def postgres_url() -> str | None:
    """The machine's PostgreSQL (trust auth, database ``test``) when it answers, else None.

    CI sets MAEUM_REQUIRE_POSTGRES=1: there a missing server fails the run instead of skipping."""
    url = os.environ.get("MAEUM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return url
    except OSError:
        if os.environ.get("MAEUM_REQUIRE_POSTGRES") == "1":
            raise RuntimeError("MAEUM_REQUIRE_POSTGRES=1 but nothing answers on 127.0.0.1:5432") from None
        return None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'maeum.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on a real, freshly emptied PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'maeum.db'}"
        return
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    _reset_postgres(url)
    yield url
    _reset_postgres(url)


async def reset_postgres_async(url: str) -> None:
    """Empty the database's public schema (for tests already inside an event loop)."""
    from sqlalchemy import text

    from engine.store.db import create_engine_for

    engine = create_engine_for(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _reset_postgres(url: str) -> None:
    import asyncio

    asyncio.run(reset_postgres_async(url))


def require_ray() -> None:
    """Skip a Ray test where ``ray[serve]`` is not installed, except in CI (``MAEUM_REQUIRE_RAY=1``),
    where a missing Ray fails the run instead of hiding the scale-out tests."""
    if os.environ.get("MAEUM_REQUIRE_RAY") == "1":
        import ray.serve  # noqa: F401
    else:
        pytest.importorskip("ray.serve", reason="ray[serve] is not installed (pip install 'maeum[serve]')")
