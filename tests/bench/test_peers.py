"""The peer rows (ONNX Runtime and CTranslate2 from the `bench` extra): skipped rows that say so
without the extra, and well-formed same-run comparisons with it. No timing assertions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import BenchOptions, peers
from bench.report import goals_for
from training.cli import read_labeled


def _tiny() -> BenchOptions:
    return BenchOptions(tiny=True, device="cpu", users=2, new_tokens=4)


def test_rows_are_skipped_cleanly_without_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(peers, "missing", lambda: ["ctranslate2"])
    weights = {"emotion": "random", "reply": "random"}
    # The models are never opened: nothing is loaded or imported for a skipped row.
    rows = peers.peer_rows(_tiny(), tmp_path / "none", tmp_path / "none", weights)
    assert {r.group for r in rows} == {"peers"} and len(rows) == 2
    for row in rows:
        assert row.note == "skipped: install maeum[bench] (missing: ctranslate2)"
        assert row.median_ms is None and row.n == 0
    assert not [g for g in goals_for(rows, None, None, 4) if "ONNX" in g.name or "CTranslate2" in g.name]


def test_onnx_quality_row_skips_only_for_its_own_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(peers, "missing", lambda: ["onnxruntime"])
    row = peers.onnx_quality(tmp_path / "none", [], "random", "held-out")
    assert row.group == "quality" and row.n == 0
    assert row.note == "skipped: install maeum[bench] (missing: onnxruntime)"


@pytest.mark.skipif(
    bool(peers.missing()), reason="the bench extra is not installed (pip install 'maeum[bench]')"
)
def test_peer_rows_compare_in_the_same_run(
    tiny_emotion_model: Path, tiny_chat_model: Path, tmp_path: Path
) -> None:
    emotion = Path(
        shutil.copytree(tiny_emotion_model, tmp_path / "emotion", ignore=shutil.ignore_patterns("onnx"))
    )
    weights = {"emotion": "random", "reply": "random"}
    rows = peers.peer_rows(_tiny(), emotion, tiny_chat_model, weights)
    threads = peers.thread_counts()
    assert len(rows) == 4 * len(threads) and all(r.group == "peers" for r in rows)
    for row in rows:
        assert row.median_ms is not None and row.p95_ms is not None and row.n >= 1
        assert row.extra["threads"] in threads
    onnx = [r for r in rows if r.extra["runtime"] == "onnxruntime"]
    ct2 = [r for r in rows if r.extra["runtime"] == "ctranslate2"]
    assert len(onnx) == len(ct2) == len(threads)
    assert all(r.extra["vs_torch_int8"] > 0 for r in onnx)
    assert all(r.extra["maeum_vs_ct2"] > 0 and r.extra["tokens"] == [4, 4] for r in ct2)  # same length
    names = {g.name for g in goals_for(rows, None, None, 4)}
    assert any("CTranslate2" in n for n in names) and any("ONNX Runtime" in n for n in names)

    data = tmp_path / "held_out.jsonl"
    texts = [
        ("오늘 너무 기뻐", "기쁨"),
        ("화가 나", "분노"),
        ("그냥 그래", "일상"),
        ("불안해서 잠이 안 와", "불안"),
    ]
    data.write_text(
        "\n".join(json.dumps({"text": t, "label": label}, ensure_ascii=False) for t, label in texts),
        encoding="utf-8",
    )
    quality = peers.onnx_quality(emotion, read_labeled([str(data)], None), "random", "held-out")
    assert quality.n == 4 and 0 <= quality.extra["agreement"] <= 1
    assert any(g.name == "ONNX int8 labels agree with fp32" for g in goals_for([quality], None, None, 4))
