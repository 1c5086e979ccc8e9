"""KoBERT's tokenizer over plain ``sentencepiece``, with id parity with ``skt/kobert-base-v1``.

The official tokenizer lives in SKT's ``kobert_tokenizer`` package (not on PyPI) and the older
one needs gluonnlp/mxnet (no longer installable). Loading ``skt/kobert-base-v1`` with
``AutoTokenizer`` picks an XLNet tokenizer whose ids do not match the vocabulary the model was
trained with, so the project ships its own: SentencePiece pieces, XLNet-style text
preprocessing, looked up in KoBERT's 8,002-entry vocabulary, framed BERT-style as
``[CLS] … [SEP]``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import sentencepiece as spm
from transformers import PreTrainedTokenizer

from engine.inference.lean_tokenizers import SPIECE_UNDERLINE, kobert_pieces, preprocess_kobert, read_vocab

VOCAB_FILES_NAMES = {"vocab_file": "spiece.model", "vocab_txt": "vocab.txt"}


class KoBERTTokenizer(PreTrainedTokenizer):
    """SentencePiece pieces mapped through KoBERT's own vocabulary (pieces it lacks become ``[UNK]``)."""

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]  # noqa: RUF012

    def __init__(
        self,
        vocab_file: str,
        vocab_txt: str,
        do_lower_case: bool = False,
        remove_space: bool = True,
        keep_accents: bool = False,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        **kwargs: Any,
    ) -> None:
        self.vocab_file = vocab_file
        self.vocab_txt = vocab_txt
        self.do_lower_case = do_lower_case
        self.remove_space = remove_space
        self.keep_accents = keep_accents
        self.sp_model = spm.SentencePieceProcessor()
        self.sp_model.Load(vocab_file)
        self.idx2token = read_vocab(vocab_txt)
        self.token2idx = {token: i for i, token in enumerate(self.idx2token)}
        super().__init__(
            do_lower_case=do_lower_case,
            remove_space=remove_space,
            keep_accents=keep_accents,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            **kwargs,
        )

    @classmethod
    def from_files(cls, sp_model: str | os.PathLike[str], vocab: str | os.PathLike[str]) -> KoBERTTokenizer:
        """Build from a SentencePiece model and a vocabulary (``.txt`` or GluonNLP ``.json``)."""
        return cls(vocab_file=str(sp_model), vocab_txt=str(vocab))

    @property
    def vocab_size(self) -> int:
        return len(self.idx2token)

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.token2idx)
        vocab.update(self.added_tokens_encoder)
        return vocab

    def preprocess_text(self, inputs: str) -> str:
        return preprocess_kobert(inputs, self.remove_space, self.keep_accents, self.do_lower_case)

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return kobert_pieces(self.sp_model, self.preprocess_text(text))

    def _convert_token_to_id(self, token: str) -> int:
        return self.token2idx.get(token, self.token2idx[str(self.unk_token)])

    def _convert_id_to_token(self, index: int) -> str:
        return self.idx2token[index]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens).replace(SPIECE_UNDERLINE, " ").strip()

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + token_ids_0 + sep
        return cls + token_ids_0 + sep + token_ids_1 + sep

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        if already_has_special_tokens:
            special = {self.cls_token_id, self.sep_token_id, self.pad_token_id}
            return [1 if t in special else 0 for t in token_ids_0]
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1] + [0] * len(token_ids_1) + [1]

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        first = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is None:
            return first
        return first + [1] * (len(token_ids_1) + 1)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, str]:
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        model_out = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
        vocab_out = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_txt"])
        if os.path.abspath(self.vocab_file) != os.path.abspath(model_out):
            shutil.copyfile(self.vocab_file, model_out)
        if os.path.abspath(self.vocab_txt) != os.path.abspath(vocab_out):
            Path(vocab_out).write_text("\n".join(self.idx2token) + "\n", encoding="utf-8")
        return model_out, vocab_out
