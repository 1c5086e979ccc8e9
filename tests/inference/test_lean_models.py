"""The torch-only models and tokenizers of the prepared int8 path: the same outputs as the
transformers-based prepared path on the same checkpoint, and no transformers import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.inference import prepared
from engine.inference.classifier import TextClassifier
from engine.inference.generation import ReplyGenerator
from engine.inference.gpt2_decoder import GPT2Decoder
from engine.inference.lean_models import LeanBertClassifier, LeanGPT2LMHead, is_lean
from engine.inference.lean_tokenizers import LeanBPETokenizer, LeanKoBERTTokenizer, lean_tokenizer
from engine.inference.loading import load_tokenizer
from engine.inference.requests import DecodingConfig, GenerationRequest
from tests.conftest import REPO

CPU = torch.device("cpu")
BUNDLED = REPO / "models"
TEXTS = [
    "오늘 너무 불안해요",
    "기분이 좋아요!! ㅋㅋㅋ",
    "  그냥   그래요  ",
    "2,000,원이나 냈는데 1,5개만 왔어",
    "Café에서 ``커피'' 마셨어 😊",
    "[CLS] 안녕 [SEP][MASK]하세요[UNK]",
    "",
    "회사에서 발표를 망쳐서 속상해 " * 20,  # longer than max_length: truncated
]
PROMPTS = ["요즘 잠을 못 자요", "친구랑 싸웠어", "합격했어요!", "오늘 하루 진짜 길었다"]


def _prepared_copy(source: Path, tmp_path: Path, kind: prepared.Kind) -> Path:
    where = Path(shutil.copytree(source, tmp_path / source.name, ignore=shutil.ignore_patterns("onnx")))
    prepared.prepare(where, kind)
    return where


@pytest.fixture(params=["tiny", "bundled"])
def emotion_dir(request: pytest.FixtureRequest, tiny_emotion_model: Path, tmp_path: Path) -> Path:
    source = tiny_emotion_model if request.param == "tiny" else BUNDLED / "maeum-mini-emotion"
    return _prepared_copy(source, tmp_path, "classifier")


@pytest.fixture(params=["tiny", "bundled"])
def chat_dir(request: pytest.FixtureRequest, tiny_chat_model: Path, tmp_path: Path) -> Path:
    source = tiny_chat_model if request.param == "tiny" else BUNDLED / "maeum-mini-chat"
    return _prepared_copy(source, tmp_path, "causal-lm")


# Tokenizers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["tiny", "bundled", "kobert"])
def test_the_kobert_tokenizer_gives_transformers_ids(source: str, tiny_emotion_model: Path) -> None:
    where = {
        "tiny": tiny_emotion_model,
        "bundled": BUNDLED / "maeum-mini-emotion",
        "kobert": BUNDLED / "kobert-tokenizer",
    }[source]
    lean = lean_tokenizer(where)
    assert isinstance(lean, LeanKoBERTTokenizer)
    reference = load_tokenizer(str(where))
    for text in TEXTS:
        assert lean.tokenize(text) == reference.tokenize(text), text
    args = {"padding": "longest", "truncation": True, "max_length": 64, "return_tensors": "pt"}
    ours, theirs = lean(TEXTS, **args), reference(TEXTS, **args)
    assert set(ours) == set(theirs)
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key
    alone = reference([TEXTS[0]], return_tensors="np")["input_ids"].tolist()
    assert lean([TEXTS[0]], return_tensors="np")["input_ids"].tolist() == alone
    ids = theirs["input_ids"][5].tolist()
    assert lean.decode(ids) == reference.decode(ids)
    assert lean.decode(ids, skip_special_tokens=True) == reference.decode(ids, skip_special_tokens=True)


@pytest.mark.parametrize("source", ["tiny", "bundled"])
def test_the_bpe_tokenizer_gives_transformers_ids_and_text(source: str, tiny_chat_model: Path) -> None:
    where = tiny_chat_model if source == "tiny" else BUNDLED / "maeum-mini-chat"
    lean = lean_tokenizer(where)
    assert isinstance(lean, LeanBPETokenizer)
    reference = load_tokenizer(str(where))
    prompts = [f"<usr>{t}<unused1><sys>" for t in TEXTS]
    ours = lean(prompts, add_special_tokens=False)["input_ids"]
    assert ours == reference(prompts, add_special_tokens=False)["input_ids"]
    assert lean.get_vocab() == reference.get_vocab()
    assert (lean.pad_token, lean.pad_token_id, lean.eos_token) == (
        reference.pad_token,
        reference.pad_token_id,
        reference.eos_token,
    )
    assert lean.batch_decode(ours) == reference.batch_decode(ours, skip_special_tokens=False)


def test_tokenizers_with_options_the_lean_one_lacks_use_transformers(
    tiny_chat_model: Path, tmp_path: Path
) -> None:
    where = Path(shutil.copytree(tiny_chat_model, tmp_path / "chat"))
    config_file = where / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config_file.write_text(json.dumps({**config, "add_prefix_space": True}), encoding="utf-8")
    assert lean_tokenizer(where) is None
    config_file.write_text(json.dumps({**config, "tokenizer_class": "GPT2Tokenizer"}), encoding="utf-8")
    assert lean_tokenizer(where) is None


# Models -----------------------------------------------------------------------------------------


def test_the_lean_classifier_gives_the_prepared_labels(emotion_dir: Path) -> None:
    reference_model = prepared.load_prepared(emotion_dir, "classifier")  # transformers' BERT
    assert not is_lean(reference_model)
    reference = TextClassifier(reference_model, load_tokenizer(str(emotion_dir)), CPU)
    lean = TextClassifier.load(emotion_dir, CPU, precision="int8")
    assert isinstance(lean.model, LeanBertClassifier)
    assert isinstance(lean.tokenizer, LeanKoBERTTokenizer)
    assert lean.precision == "int8" and lean.labels == reference.labels
    for batch in (TEXTS, TEXTS[:1], TEXTS[1:2]):  # padded, and one message alone (no mask)
        ours, theirs = lean.probabilities(batch), reference.probabilities(batch)
        assert torch.allclose(ours, theirs, atol=1e-5), (ours - theirs).abs().max()
        assert [p.label for p in lean.classify(batch)] == [p.label for p in reference.classify(batch)]


def test_the_lean_generator_gives_the_prepared_logits_and_greedy_tokens(chat_dir: Path) -> None:
    greedy = DecodingConfig(max_new_tokens=12, min_new_tokens=12, do_sample=False)
    reference_model = prepared.load_prepared(chat_dir, "causal-lm")
    assert not is_lean(reference_model)
    reference = ReplyGenerator(reference_model, load_tokenizer(str(chat_dir)), CPU, greedy)
    lean = ReplyGenerator.load(chat_dir, CPU, greedy, precision="int8")
    assert isinstance(lean.model, LeanGPT2LMHead)
    assert lean.decoder is not None and lean.decoder.scripted and lean.precision == "int8"
    assert reference.decoder is not None
    ids = torch.tensor([[3, 9, 27, 5, 11], [7, 7, 1, 30, 2]])
    assert torch.equal(lean.decoder.logits(ids), reference.decoder.logits(ids))
    eager = GPT2Decoder(lean.model)
    eager._kernel = None  # the eager loop over the lean model's layers gives the same logits
    assert torch.allclose(eager.logits(ids), reference.decoder.logits(ids), atol=1e-5)
    for prompt in PROMPTS:
        request = [GenerationRequest(prompt)]
        assert lean.generate(request) == reference.generate(request), prompt
    batch = [GenerationRequest(p) for p in PROMPTS]
    assert lean.generate(batch) == reference.generate(batch)
    # The token ids themselves, not only the cleaned text.
    prompts = [
        lean.tokenizer([lean.build_prompt(r)], add_special_tokens=False)["input_ids"][0] for r in batch
    ]
    kwargs = {"max_new_tokens": 12, "rules": greedy, "eos_id": lean.eos_id, "pad_id": 0}
    assert lean.decoder.generate(prompts, **kwargs) == reference.decoder.generate(prompts, **kwargs)


def test_a_layout_the_lean_models_do_not_build_uses_transformers(chat_dir: Path) -> None:
    config_file = chat_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config_file.write_text(json.dumps({**config, "scale_attn_by_inverse_layer_idx": True}), encoding="utf-8")
    prepared.prepare(chat_dir, "causal-lm")  # the config hash changed
    generator = ReplyGenerator.load(chat_dir, CPU, precision="int8")
    assert not is_lean(generator.model) and generator.precision == "int8"
    assert generator.decoder is None  # generate() serves this layout, as before
    assert isinstance(generator.generate([GenerationRequest("안녕")])[0], str)


def test_lean_false_keeps_transformers_generate(chat_dir: Path) -> None:
    generator = ReplyGenerator.load(chat_dir, CPU, precision="int8", lean=False)
    assert not is_lean(generator.model) and generator.decoder is None


def test_fp32_and_an_unprepared_checkpoint_do_not_use_the_lean_models(
    tiny_emotion_model: Path, tmp_path: Path
) -> None:
    where = Path(shutil.copytree(tiny_emotion_model, tmp_path / "emotion"))
    assert not is_lean(TextClassifier.load(where, CPU, precision="int8").model)  # quantized at start-up
    prepared.prepare(where, "classifier")
    assert not is_lean(TextClassifier.load(where, CPU, precision="fp32").model)
    assert not is_lean(TextClassifier.load(where, CPU).model)  # training and evaluation: fp32


def test_the_prepared_start_path_imports_no_transformers(
    tiny_emotion_model: Path, tiny_chat_model: Path, tmp_path: Path
) -> None:
    emotion = _prepared_copy(tiny_emotion_model, tmp_path, "classifier")
    chat = _prepared_copy(tiny_chat_model, tmp_path, "causal-lm")
    script = f"""
import sys
from engine.inference import GenerationRequest, ModelConfig, ModelSet
models = ModelSet(ModelConfig(emotion={str(emotion)!r}, reply={str(chat)!r}, device="cpu",
                              emotion_runtime="torch"))
handlers = models.load()
handlers["emotion"](["오늘 너무 불안해요"])
reply = handlers["reply"]([GenerationRequest("요즘 잠을 못 자요")])
loaded = {{m.split(".")[0] for m in sys.modules}} & {{"transformers", "onnxruntime"}}
print(sorted(loaded), type(reply[0]).__name__)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[] str"


def test_the_token_embedding_is_read_from_its_file_and_must_be_there(chat_dir: Path) -> None:
    from engine.inference.lean_models import FileLookup

    lean = ReplyGenerator.load(chat_dir, CPU, precision="int8")
    wte = lean.model.transformer.wte  # type: ignore[union-attr]
    assert isinstance(wte, FileLookup)
    reference = prepared.load_prepared(chat_dir, "causal-lm").transformer.wte.weight
    ids = torch.tensor([[0, 5, 5, len(reference) - 1]])
    assert torch.equal(wte(ids), reference[ids])
    with pytest.raises(IndexError):
        wte(torch.tensor([[len(reference)]]))
    table = chat_dir / prepared.TABLES["causal-lm"][1]
    table.write_bytes(table.read_bytes()[:-4])
    assert prepared.stale_reason(chat_dir, "causal-lm") == f"{table.name} is missing or was changed"
    assert not is_lean(ReplyGenerator.load(chat_dir, CPU, precision="int8").model)  # quantized instead


def test_packing_on_two_threads_gives_the_weights_packing_one_by_one_gives(chat_dir: Path) -> None:
    from engine.inference import lean_models

    greedy = DecodingConfig(max_new_tokens=8, min_new_tokens=8, do_sample=False)
    ids = torch.tensor([[3, 9, 27, 5, 11]])
    logits = []
    for threads in (1, 2):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(lean_models, "PACK_THREADS", threads)
            lean = ReplyGenerator.load(chat_dir, CPU, greedy, precision="int8")
        assert lean.decoder is not None
        logits.append(lean.decoder.logits(ids))
    assert torch.equal(logits[0], logits[1])


def test_a_packing_error_reaches_the_caller() -> None:
    from engine.inference.lean_models import pack_all

    class Broken(torch.nn.Module):
        def set_weight_bias(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
            raise ValueError("cannot pack")

    jobs: list[Any] = [(Broken(), torch.zeros(4, 4), None) for _ in range(3)]
    with pytest.raises(ValueError, match="cannot pack"):
        pack_all(jobs, threads=2)
