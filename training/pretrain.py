"""Pre-training small models on a large open corpus (NSMC reviews, CC0) before fine-tuning:
masked-LM for a mini BERT, causal LM for a mini GPT-2. The output is a ``--base`` for
``maeum train emotion|intent|chat``."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import random
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from engine.inference import load_tokenizer
from training.chat import SCRATCH_SIZES as GPT_SIZES
from training.classify import SCRATCH_SIZES as BERT_SIZES
from training.common import TrainConfig, Trainer, set_seed, write_json

log = logging.getLogger(__name__)


def read_corpus(path: Path, limit: int | None = None, seed: int = 0) -> list[str]:
    """NSMC's ``id document label`` TSV (optionally gzipped), or plain text with one line each."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    if "\t" in text.split("\n", 1)[0]:
        reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
        column = "document" if "document" in (reader.fieldnames or []) else (reader.fieldnames or [""])[1]
        lines = [row.get(column) or "" for row in reader]
    else:
        lines = text.splitlines()
    texts = [unicodedata.normalize("NFC", t).strip() for t in lines]
    texts = [t for t in texts if len(t) >= 4]
    if limit is not None and len(texts) > limit:
        texts = random.Random(seed).sample(texts, limit)
    return texts


def _mask_tokens(
    input_ids: torch.Tensor, special: torch.Tensor, tokenizer: PreTrainedTokenizerBase, vocab: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's recipe: 15% of tokens are predicted; of those 80% [MASK], 10% random, 10% kept."""
    labels = input_ids.clone()
    chosen = torch.bernoulli(torch.full(labels.shape, 0.15)).bool() & ~special
    labels[~chosen] = -100
    inputs = input_ids.clone()
    masked = torch.bernoulli(torch.full(labels.shape, 0.8)).bool() & chosen
    inputs[masked] = int(tokenizer.mask_token_id)
    randomised = torch.bernoulli(torch.full(labels.shape, 0.5)).bool() & chosen & ~masked
    inputs[randomised] = torch.randint(5, vocab, labels.shape)[randomised]
    return inputs, labels


def pretrain(
    kind: str,
    texts: Sequence[str],
    config: TrainConfig,
    *,
    tokenizer_location: str,
    size: str = "mini",
    val_share: float = 0.01,
) -> dict[str, Any]:
    """``kind`` is ``mlm`` (BERT) or ``clm`` (GPT-2)."""
    set_seed(config.seed)
    tokenizer = load_tokenizer(tokenizer_location)
    texts = list(texts)
    random.Random(config.seed).shuffle(texts)
    n_val = max(8, int(len(texts) * val_share))
    val, train = texts[:n_val], texts[n_val:]
    vocab = len(tokenizer)
    model: PreTrainedModel
    if kind == "mlm":
        model = BertForMaskedLM(
            BertConfig(
                vocab_size=vocab,
                max_position_embeddings=max(128, config.max_len),
                pad_token_id=tokenizer.pad_token_id,
                **BERT_SIZES[size],
            )
        )
    else:
        model = GPT2LMHeadModel(
            GPT2Config(
                vocab_size=vocab,
                n_positions=max(128, config.max_len),
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                **GPT_SIZES[size],
            )
        )

    def batch_inputs(chunk: list[str], seed: int | None = None) -> dict[str, torch.Tensor]:
        if kind == "clm":
            chunk = [t + str(tokenizer.eos_token) for t in chunk]
        enc = tokenizer(
            chunk,
            padding="longest",
            truncation=True,
            max_length=config.max_len,
            return_tensors="pt",
            return_special_tokens_mask=kind == "mlm",
            add_special_tokens=kind == "mlm",
        )
        ids, mask = enc["input_ids"], enc["attention_mask"]
        if kind == "mlm":
            if seed is not None:
                torch.manual_seed(seed)  # the same masks every evaluation, so val loss is comparable
            special = enc["special_tokens_mask"].bool() | (mask == 0)
            ids, labels = _mask_tokens(ids, special, tokenizer, vocab)
        else:
            labels = ids.masked_fill(mask == 0, -100)
        return {
            k: v.to(trainer.device)
            for k, v in {"input_ids": ids, "attention_mask": mask, "labels": labels}.items()
        }

    def loss_fn(chunk: list[str]) -> torch.Tensor:
        return model(**batch_inputs(chunk)).loss

    def evaluate() -> dict[str, float]:
        rng_state = torch.get_rng_state()
        losses = [
            float(model(**batch_inputs(val[i : i + 128], seed=i)).loss) for i in range(0, len(val), 128)
        ]
        torch.set_rng_state(rng_state)
        return {"val_loss": sum(losses) / max(len(losses), 1)}

    trainer = Trainer(model, tokenizer, config, loss_fn, evaluate, monitor="val_loss", higher_is_better=False)
    state = trainer.fit(train)
    trainer.finish()
    report = {"task": f"pretrain-{kind}", "texts": len(train), "history": state.history}
    write_json(config.output_dir / "metrics.json", report)
    return report
