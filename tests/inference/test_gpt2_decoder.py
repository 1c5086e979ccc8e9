"""The lean GPT-2 decoding loop gives what transformers gives, only with less overhead per token."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from engine.inference.gpt2_decoder import GPT2Decoder, supports
from engine.inference.quantize import quantize_int8
from engine.inference.sampling import NgramBlocker, SamplingRules, TokenChooser

EOS, PAD = 2, 0
CPU = torch.device("cpu")


def _model(seed: int = 0, **overrides: object) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    sizes: dict[str, object] = dict(
        vocab_size=300, n_embd=64, n_layer=2, n_head=4, n_positions=96, bos_token_id=1, eos_token_id=EOS
    )
    sizes.update(overrides)
    return GPT2LMHeadModel(GPT2Config(**sizes)).eval()


def _prompts(seed: int, count: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 16, (count,), generator=g).tolist()
    return [torch.randint(5, 300, (n,), generator=g).tolist() for n in lengths]


def _hf_greedy(model: GPT2LMHeadModel, prompt: list[int], rules: SamplingRules, new: int) -> list[int]:
    ids = torch.tensor([prompt])
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=new,
        do_sample=False,
        repetition_penalty=rules.repetition_penalty,
        no_repeat_ngram_size=rules.no_repeat_ngram_size,
        eos_token_id=EOS,
        pad_token_id=PAD,
    )[0, len(prompt) :].tolist()
    return out[: out.index(EOS)] if EOS in out else out


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_logits_match_the_models_own_forward(precision: str) -> None:
    model = _model()
    if precision == "int8":
        quantize_int8(model)
    decoder = GPT2Decoder(model)
    ids = torch.tensor(_prompts(1, 3)[0])[None]
    with torch.inference_mode():
        expected = model(ids).logits[:, -1]
    mine = decoder.logits(ids)
    if precision == "fp32":
        assert torch.allclose(mine, expected, atol=1e-5)
    else:
        # int8 quantizes each call's input with one scale: the stock forward sends every position
        # through the LM head, this loop only the last, so the scales (not the weights) differ.
        assert (mine - expected).abs().max() < 0.05 * expected.std()
        assert torch.equal(mine.argmax(-1), expected.argmax(-1))


def test_greedy_tokens_match_transformers_generate_with_repetition_rules() -> None:
    model = _model()
    decoder = GPT2Decoder(model)
    rules = SamplingRules(do_sample=False, repetition_penalty=1.3, no_repeat_ngram_size=3)
    for prompt in _prompts(2, 12):
        mine = decoder.generate([prompt], max_new_tokens=24, rules=rules, eos_id=EOS, pad_id=PAD)[0]
        assert mine == _hf_greedy(model, prompt, rules, 24), prompt


def test_a_left_padded_batch_decodes_like_each_prompt_alone() -> None:
    decoder = GPT2Decoder(_model())
    rules = SamplingRules(do_sample=False, repetition_penalty=1.2, no_repeat_ngram_size=3)
    prompts = _prompts(3, 5)
    assert len({len(p) for p in prompts}) > 1  # really padded
    together = decoder.generate(prompts, max_new_tokens=20, rules=rules, eos_id=EOS, pad_id=PAD)
    alone = [
        decoder.generate([p], max_new_tokens=20, rules=rules, eos_id=EOS, pad_id=PAD)[0] for p in prompts
    ]
    assert together == alone


def test_min_new_tokens_holds_back_eos_and_eos_ends_a_reply() -> None:
    model = _model()
    with torch.no_grad():  # the final hidden state is always EOS's (enlarged) embedding: EOS wins
        model.lm_head.weight[EOS] *= 10
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.copy_(model.lm_head.weight[EOS])
    decoder = GPT2Decoder(model)
    greedy = SamplingRules(do_sample=False, repetition_penalty=1.0, no_repeat_ngram_size=0)
    [prompt] = _prompts(4, 1)
    assert decoder.generate([prompt], max_new_tokens=10, rules=greedy, eos_id=EOS, pad_id=PAD) == [[]]
    [held] = decoder.generate(
        [prompt], max_new_tokens=10, min_new_tokens=4, rules=greedy, eos_id=EOS, pad_id=PAD
    )
    assert len(held) == 4 and EOS not in held


def test_other_layouts_are_left_to_transformers() -> None:
    assert supports(_model())
    assert not supports(_model(scale_attn_by_inverse_layer_idx=True))
    assert not supports(_model(reorder_and_upcast_attn=True))
    with pytest.raises(ValueError, match="GPT-2"):
        GPT2Decoder(torch.nn.Linear(2, 2))


def test_empty_prompts() -> None:
    decoder = GPT2Decoder(_model())
    rules = SamplingRules()
    assert decoder.generate([], max_new_tokens=4, rules=rules, eos_id=EOS, pad_id=PAD) == []
    with pytest.raises(ValueError, match="at least one token"):
        decoder.generate([[]], max_new_tokens=4, rules=rules, eos_id=EOS, pad_id=PAD)


# Choosing tokens -------------------------------------------------------------------------------


def test_ngram_blocker_bans_what_would_repeat_an_ngram() -> None:
    blocker = NgramBlocker(3, [5, 6, 7, 5, 6])
    assert blocker.banned() == {7}  # "5 6 7" exists, so after "5 6" the 7 is banned
    blocker.extend([8])
    assert blocker.banned() == set()
    assert NgramBlocker(0, [1, 1, 1]).banned() == set()
    assert NgramBlocker(3, [4]).banned() == set()


def _chooser(rules: SamplingRules, prompt: list[int], **kw: int) -> TokenChooser:
    return TokenChooser(rules, [prompt], CPU, eos_id=EOS, max_new_tokens=kw.pop("new", 50), **kw)


def test_repetition_penalty_lowers_seen_tokens_like_transformers() -> None:
    logits = torch.tensor([[2.0, -2.0, 1.5, 0.5]])
    rules = SamplingRules(do_sample=False, repetition_penalty=2.0, no_repeat_ngram_size=0)
    # Token 0 (seen, positive) is halved to 1.0, token 1 (seen, negative) doubled to -4.0: token 2 wins.
    assert _chooser(rules, [0, 1]).choose(logits).tolist() == [2]
    assert _chooser(rules, [3]).choose(logits).tolist() == [0]


def test_sampling_keeps_to_top_k_and_top_p() -> None:
    torch.manual_seed(0)
    logits = torch.tensor([[4.0, 3.9, 3.8, 0.0, -1.0, -2.0]])
    top2 = SamplingRules(top_k=2, top_p=1.0, temperature=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0)
    picks = {int(_chooser(top2, [5]).choose(logits)) for _ in range(200)}
    assert picks == {0, 1}
    # The first token alone holds over 30% of the mass: top_p 0.3 keeps only it.
    narrow = SamplingRules(
        top_k=50, top_p=0.3, temperature=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0
    )
    assert {int(_chooser(narrow, [5]).choose(logits)) for _ in range(50)} == {0}
    wide = SamplingRules(
        top_k=50, top_p=0.99, temperature=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0
    )
    assert {int(_chooser(wide, [5]).choose(logits)) for _ in range(300)} >= {0, 1, 2}


def test_int8_models_run_the_scripted_stack_with_the_eager_results() -> None:
    model = _model()
    quantize_int8(model)
    scripted = GPT2Decoder(model)
    assert scripted.scripted and not GPT2Decoder(_model()).scripted  # fp32 stays eager
    eager = GPT2Decoder(model)
    eager._kernel = None
    rules = SamplingRules(do_sample=False, repetition_penalty=1.2, no_repeat_ngram_size=3)
    prompts = _prompts(5, 4)
    ids = torch.tensor(prompts[0])[None]
    assert torch.equal(scripted.logits(ids), eager.logits(ids))
    assert scripted.generate(prompts, max_new_tokens=16, rules=rules, eos_id=EOS, pad_id=PAD) == (
        eager.generate(prompts, max_new_tokens=16, rules=rules, eos_id=EOS, pad_id=PAD)
    )


def test_half_precision_models_decode_in_their_own_dtype() -> None:
    # The GPU path (bf16/fp16 weights); bf16 also runs on a CPU, which is enough to check it.
    model = _model().to(torch.bfloat16)
    decoder = GPT2Decoder(model)
    assert not decoder.scripted
    rules = SamplingRules(do_sample=False, repetition_penalty=1.2, no_repeat_ngram_size=3)
    prompts = _prompts(6, 3)
    ids = torch.tensor(prompts[0])[None]
    with torch.inference_mode():
        expected = model(ids).logits[:, -1].float()
    assert torch.allclose(decoder.logits(ids).float(), expected, atol=0.05)
    together = decoder.generate(prompts, max_new_tokens=8, rules=rules, eos_id=EOS, pad_id=PAD)
    assert len(together) == 3 and all(len(t) <= 8 for t in together)
    assert together[0] == _hf_greedy(model, prompts[0], rules, 8)
