"""Tokenizers for serving without transformers: the same ids, from ``tokenizers`` and ``sentencepiece``.

Importing transformers costs seconds and ~20 MB before a single model class is touched, so the
prepared int8 start path (:mod:`engine.inference.lean_models`) tokenizes with these instead:

- :class:`LeanBPETokenizer`: a ``tokenizer.json`` checkpoint (KoGPT2, ``maeum train chat``) run by
  the ``tokenizers`` library that transformers' fast tokenizer wraps;
- :class:`LeanKoBERTTokenizer`: KoBERT's SentencePiece pieces looked up in its ``vocab.txt``,
  with the pipeline of transformers' slow tokenizers (split on the added tokens, then the
  pieces; ``[CLS] … [SEP]``; truncation before the special tokens).

Only what the classifier and the reply generator call is here (``__call__``, ``batch_decode``,
``get_vocab``, the special tokens). :func:`lean_tokenizer` returns None for a checkpoint whose
tokenizer has options these do not reproduce; callers then use transformers' tokenizer. The
tests hold both to transformers' ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPIECE_UNDERLINE = "▁"
# tokenizer_config classes whose behaviour is all in tokenizer.json (no Python-side rules).
_PLAIN_FAST_CLASSES = {"TokenizersBackend", "PreTrainedTokenizerFast"}


class Encoding(dict[str, Any]):
    """The part of transformers' ``BatchEncoding`` the engine uses: a dict with ``.to(device)``."""

    def to(self, device: Any) -> Encoding:
        return Encoding({k: v.to(device) if hasattr(v, "to") else v for k, v in self.items()})


def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json stores it: a string or a serialised AddedToken."""
    if isinstance(value, dict):
        value = value.get("content")
    return str(value) if value is not None else None


class _LeanTokenizer:
    model_input_names: list[str]

    def __init__(self, config: dict[str, Any], vocab: dict[str, int], padding_side: str) -> None:
        self.vocab = vocab
        self.padding_side = padding_side
        self.unk_token = _token_text(config.get("unk_token"))
        self.eos_token = _token_text(config.get("eos_token"))
        self.pad_token: str | None = _token_text(config.get("pad_token"))
        self.cls_token = _token_text(config.get("cls_token"))
        self.sep_token = _token_text(config.get("sep_token"))

    @property
    def pad_token_id(self) -> int | None:
        return self.vocab.get(self.pad_token) if self.pad_token is not None else None

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode_one(self, text: str, add_special_tokens: bool, max_length: int | None) -> list[int]:
        raise NotImplementedError

    def __call__(
        self,
        texts: str | Sequence[str],
        *,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        add_special_tokens: bool = True,
    ) -> Encoding:
        single = isinstance(texts, str)
        batch = [texts] if isinstance(texts, str) else list(texts)
        limit = max_length if truncation else None
        ids = [self.encode_one(t, add_special_tokens, limit) for t in batch]
        masks = [[1] * len(row) for row in ids]
        if padding:
            if self.pad_token_id is None:
                raise ValueError("padding needs a pad token")
            width = max((len(row) for row in ids), default=0)
            ids = [self._pad(row, width, self.pad_token_id) for row in ids]
            masks = [self._pad(row, width, 0) for row in masks]
        out = Encoding(input_ids=ids)
        if "token_type_ids" in self.model_input_names:
            out["token_type_ids"] = [[0] * len(row) for row in ids]
        if "attention_mask" in self.model_input_names:
            out["attention_mask"] = masks
        if return_tensors == "pt":
            import torch

            return Encoding({k: torch.tensor(v, dtype=torch.long) for k, v in out.items()})
        if return_tensors == "np":
            import numpy as np

            return Encoding({k: np.asarray(v, dtype=np.int64) for k, v in out.items()})
        if single:
            return Encoding({k: v[0] for k, v in out.items()})
        return out

    def _pad(self, row: list[int], width: int, value: int) -> list[int]:
        fill = [value] * (width - len(row))
        return fill + row if self.padding_side == "left" else row + fill

    def batch_decode(
        self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = False
    ) -> list[str]:
        return [self.decode(s, skip_special_tokens=skip_special_tokens) for s in sequences]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        raise NotImplementedError


class LeanBPETokenizer(_LeanTokenizer):
    """A ``tokenizer.json`` tokenizer (byte-level BPE for KoGPT2) on the ``tokenizers`` library."""

    def __init__(self, location: Path, config: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(location / "tokenizer.json"))
        self.backend.no_truncation()
        self.backend.no_padding()
        super().__init__(config, self.backend.get_vocab(with_added_tokens=True), "right")
        self.model_input_names = ["input_ids", "attention_mask"]

    def encode_one(self, text: str, add_special_tokens: bool, max_length: int | None) -> list[int]:
        ids: list[int] = self.backend.encode(text, add_special_tokens=add_special_tokens).ids
        return ids[:max_length] if max_length is not None else ids

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        text: str = self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)
        return text


def read_vocab(path: str | Path) -> list[str]:
    """Read a KoBERT vocabulary: the hub's ``vocab.txt`` or GluonNLP's ``kobertvocab_*.json``."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        tokens = json.loads(text)["idx_to_token"]
        return [str(t) for t in tokens]
    return [line.rstrip("\n") for line in text.splitlines()]


def preprocess_kobert(text: str, remove_space: bool, keep_accents: bool, do_lower_case: bool) -> str:
    """KoBERT's (XLNet's) normalisation: NFKD Hangul is recomposed by SentencePiece's own NFKC
    normaliser, so ids match the official tokenizer."""
    out = " ".join(text.strip().split()) if remove_space else text
    out = out.replace("``", '"').replace("''", '"')
    if not keep_accents:
        out = unicodedata.normalize("NFKD", out)
        out = "".join(c for c in out if not unicodedata.combining(c))
    if do_lower_case:
        out = out.lower()
    return out


def kobert_pieces(sp_model: Any, text: str) -> list[str]:
    """SentencePiece pieces of preprocessed ``text``, with XLNet's digit-comma rule (kept for parity:
    "2,000," is split so the trailing comma stands alone)."""
    pieces: list[str] = sp_model.EncodeAsPieces(text)
    out: list[str] = []
    for piece in pieces:
        if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
            sub = sp_model.EncodeAsPieces(piece[:-1].replace(SPIECE_UNDERLINE, ""))
            if piece[0] != SPIECE_UNDERLINE and sub and sub[0][0] == SPIECE_UNDERLINE:
                sub = [sub[0][1:], *sub[1:]] if len(sub[0]) > 1 else sub[1:]
            out.extend(sub)
            out.append(piece[-1])
        else:
            out.append(piece)
    return out


class LeanKoBERTTokenizer(_LeanTokenizer):
    """KoBERT's tokenizer (``spiece.model`` + ``vocab.txt``), ids as :class:`KoBERTTokenizer` gives."""

    def __init__(self, location: Path, config: dict[str, Any], added: dict[str, int]) -> None:
        import sentencepiece as spm

        self.sp_model = spm.SentencePieceProcessor()
        self.sp_model.Load(str(location / "spiece.model"))
        self.idx2token = read_vocab(location / "vocab.txt")
        token2idx = {token: i for i, token in enumerate(self.idx2token)}
        super().__init__(config, {**token2idx, **added}, "right")
        self.token2idx = token2idx
        self.added = added
        self.id2added = {i: t for t, i in added.items()}
        self.remove_space = bool(config.get("remove_space", True))
        self.keep_accents = bool(config.get("keep_accents", False))
        self.do_lower_case = bool(config.get("do_lower_case", False))
        self.model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
        # Added tokens are never split (transformers' trie: the longest match at each position).
        names = sorted(added, key=len, reverse=True)
        self._split = re.compile("(" + "|".join(re.escape(n) for n in names) + ")") if names else None
        specials = (
            self.unk_token,
            self.pad_token,
            self.cls_token,
            self.sep_token,
            _token_text(config.get("mask_token")),
        )
        self._special_ids = {self.vocab[t] for t in specials if t is not None and t in self.vocab}

    def _id(self, token: str) -> int:
        if token in self.added:
            return self.added[token]
        return self.token2idx.get(token, self.token2idx[str(self.unk_token)])

    def tokenize(self, text: str) -> list[str]:
        chunks = self._split.split(text) if self._split is not None else [text]
        out: list[str] = []
        for chunk in chunks:
            if not chunk:
                continue
            if chunk in self.added:
                out.append(chunk)
            else:
                prepared = preprocess_kobert(chunk, self.remove_space, self.keep_accents, self.do_lower_case)
                out.extend(kobert_pieces(self.sp_model, prepared))
        return out

    def encode_one(self, text: str, add_special_tokens: bool, max_length: int | None) -> list[int]:
        ids = [self._id(t) for t in self.tokenize(text)]
        if not add_special_tokens:
            return ids[:max_length] if max_length is not None else ids
        if max_length is not None:
            ids = ids[: max(max_length - 2, 0)]
        return [self.vocab[str(self.cls_token)], *ids, self.vocab[str(self.sep_token)]]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        tokens = [
            self.id2added.get(i, self.idx2token[i])
            for i in ids
            if not (skip_special_tokens and i in self._special_ids)
        ]
        return "".join(tokens).replace(SPIECE_UNDERLINE, " ").strip()


def lean_tokenizer(location: str | Path) -> _LeanTokenizer | None:
    """The transformers-free tokenizer of a local checkpoint, or None when it needs transformers'."""
    where = Path(location).expanduser()
    try:
        config: dict[str, Any] = json.loads((where / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cls = config.get("tokenizer_class")
    if cls == "KoBERTTokenizer" and (where / "spiece.model").is_file() and (where / "vocab.txt").is_file():
        added = _kobert_added_tokens(config)
        return LeanKoBERTTokenizer(where, config, added) if added is not None else None
    if cls in _PLAIN_FAST_CLASSES and (where / "tokenizer.json").is_file() and not _fast_overrides(config):
        return LeanBPETokenizer(where, config)
    return None


def _kobert_added_tokens(config: dict[str, Any]) -> dict[str, int] | None:
    """Added tokens by text, or None when one strips spaces or matches whole words only (the
    lean tokenizer splits on them plainly, as transformers does when those flags are off)."""
    added: dict[str, int] = {}
    for key, token in (config.get("added_tokens_decoder") or {}).items():
        if not isinstance(token, dict) or any(token.get(f) for f in ("lstrip", "rstrip", "single_word")):
            return None
        added[str(token["content"])] = int(key)
    return added


def _fast_overrides(config: dict[str, Any]) -> bool:
    """Options transformers applies on top of tokenizer.json (the lean path would miss them)."""
    keys = (
        "add_prefix_space",
        "add_bos_token",
        "add_eos_token",
        "do_lower_case",
        "clean_up_tokenization_spaces",
    )
    return any(config.get(k) for k in keys)
