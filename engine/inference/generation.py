"""Reply generation with a GPT-2-style causal LM in the seed's chat format (KoGPT2 by default).

Format: ``<usr>`` question ``<unused1>`` ``<sys>`` answer ``</s>``. Decoding keeps a KV cache
(the seed re-ran the whole sequence for every token) and uses sampling, a repetition penalty
and no-repeat n-grams (the seed looped on repeats). GPT-2 checkpoints (KoGPT2) decode in
:mod:`engine.inference.gpt2_decoder`, a lean loop over the model's own layers; any other causal LM goes
through transformers' ``generate`` with the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from engine.errors import ModelLoadError
from engine.inference import gpt2_decoder
from engine.inference.loading import check_location, load_tokenizer, model_dtype
from engine.inference.prepared import load_prepared, load_prepared_with_tokenizer
from engine.inference.quantize import apply_precision, load_dtype, precision_of, resolve_precision
from engine.inference.requests import (
    CHAT_TOKENS,
    EOS,
    DecodingConfig,
    GenerationRequest,
    clean_reply,
    format_turn,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class ReplyGenerator:
    def __init__(
        self,
        model: PreTrainedModel | torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase | Any,
        device: torch.device,
        decoding: DecodingConfig | None = None,
        *,
        lean: bool = True,
    ) -> None:
        """``lean=False`` keeps transformers' ``generate`` even for GPT-2 (the benchmark compares)."""
        self.model = model.to(device).eval()  # type: ignore[arg-type]
        self.tokenizer = tokenizer
        self.device = device
        self.decoding = decoding or DecodingConfig()
        self.precision = precision_of(self.model)
        self.tokenizer.padding_side = "left"  # batched decoding needs the prompts right-aligned
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        vocab = self.tokenizer.get_vocab()
        missing = [t for t in (*CHAT_TOKENS, EOS) if t not in vocab]
        if missing:
            raise ValueError(f"tokenizer lacks the chat tokens {missing}; train with `maeum train chat`")
        self.eos_id = int(vocab[EOS])
        config: Any = model.config
        self.max_positions = int(getattr(config, "n_positions", 1024))
        # A checkpoint trained on multi-turn data says how many earlier turns it understands.
        self.context_turns = int(getattr(config, "maeum_context_turns", 0) or 0)
        self.decoder = gpt2_decoder.GPT2Decoder(self.model) if lean and gpt2_decoder.supports(model) else None

    @classmethod
    def load(
        cls,
        location: str | Path,
        device: torch.device,
        decoding: DecodingConfig | None = None,
        precision: str | None = None,
        *,
        lean: bool = True,
    ) -> ReplyGenerator:
        """``precision`` as for :meth:`TextClassifier.load`; None keeps the device's float default."""
        location = str(location)
        resolved = resolve_precision(precision, device) if precision else None
        try:
            check_location(location)
            model: Any = None
            tokenizer: Any = None
            if resolved == "int8":
                # int8 on the CPU: the form `maeum models prepare` saved beside the checkpoint, if
                # current. The torch-only model runs in the lean loop only, so not with lean=False.
                if lean:
                    model, tokenizer = load_prepared_with_tokenizer(location, "causal-lm")
                else:
                    model = load_prepared(location, "causal-lm")
            if tokenizer is None:
                tokenizer = load_tokenizer(location)
            if model is None:
                from transformers import AutoModelForCausalLM

                dtype = load_dtype(resolved) if resolved else model_dtype(device)
                model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype)
                if resolved:
                    apply_precision(model, resolved)
            return cls(model, tokenizer, device, decoding, lean=lean)
        except Exception as exc:
            raise ModelLoadError(
                "reply", location, "MAEUM_REPLY_MODEL", "maeum train chat", type(exc).__name__
            ) from exc

    @property
    def supports_context(self) -> bool:
        return self.context_turns > 0

    def build_prompt(self, request: GenerationRequest) -> str:
        turns = request.history[-self.context_turns :] if self.context_turns else ()
        return "".join(format_turn(t.user, t.bot) for t in turns) + format_turn(request.message)

    @torch.inference_mode()
    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        if not requests:
            return []
        if self.decoder is not None:
            return self._generate_lean(requests, self.decoder)
        return self._generate_transformers(requests)

    def _generate_lean(
        self, requests: Sequence[GenerationRequest], decoder: gpt2_decoder.GPT2Decoder
    ) -> list[str]:
        cfg = self.decoding
        budget = self.max_positions - cfg.max_new_tokens
        encoded = self.tokenizer([self.build_prompt(r) for r in requests], add_special_tokens=False)
        # Keep the end of over-long prompts (the question itself), not the start.
        prompts = [list(ids)[-budget:] for ids in encoded["input_ids"]]
        new_tokens = decoder.generate(
            prompts,
            max_new_tokens=cfg.max_new_tokens,
            min_new_tokens=cfg.min_new_tokens,
            rules=cfg,
            eos_id=self.eos_id,
            pad_id=int(self.tokenizer.pad_token_id),
            device=self.device,
        )
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=False)
        return [clean_reply(t) for t in texts]

    def _generate_transformers(self, requests: Sequence[GenerationRequest]) -> list[str]:
        cfg = self.decoding
        budget = self.max_positions - cfg.max_new_tokens
        batch = self.tokenizer(
            [self.build_prompt(r) for r in requests],
            padding="longest",
            return_tensors="pt",
            add_special_tokens=False,
        )
        # Keep the end of over-long prompts (the question itself), not the start.
        input_ids = batch["input_ids"][:, -budget:].to(self.device)
        attention = batch["attention_mask"][:, -budget:].to(self.device)
        sampling = (
            {"temperature": cfg.temperature, "top_k": cfg.top_k, "top_p": cfg.top_p} if cfg.do_sample else {}
        )
        model: Any = self.model  # a transformers PreTrainedModel here (lean models have no generate)
        output = model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=cfg.max_new_tokens,
            min_new_tokens=cfg.min_new_tokens,
            do_sample=cfg.do_sample,
            repetition_penalty=cfg.repetition_penalty,
            no_repeat_ngram_size=cfg.no_repeat_ngram_size,
            eos_token_id=self.eos_id,
            pad_token_id=self.tokenizer.pad_token_id,
            use_cache=True,
            **sampling,
        )
        new_tokens = output[:, input_ids.shape[1] :]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=False)
        return [clean_reply(t) for t in texts]
