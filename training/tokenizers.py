"""Tokenizers the project trains itself: KoGPT2-style BPE for chat models, and KoBERT-format
SentencePiece vocabularies (for small test models; real models use KoBERT's own)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import sentencepiece as spm
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from engine.inference import CHAT_TOKENS, EOS, PAD, KoBERTTokenizer

UNK = "<unk>"
KOBERT_SPECIALS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]


def train_chat_tokenizer(texts: Iterable[str], vocab_size: int = 8000) -> PreTrainedTokenizerFast:
    """Byte-level BPE like KoGPT2's, with ``</s>`` as BOS/EOS, ``<pad>``, ``<unk>`` and the chat tokens."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [EOS, UNK, PAD, "<mask>", *CHAT_TOKENS]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=PAD,
        mask_token="<mask>",
        additional_special_tokens=list(CHAT_TOKENS),
    )


def train_kobert_style_tokenizer(
    texts: Iterable[str], out_dir: Path, vocab_size: int = 400
) -> KoBERTTokenizer:
    """A small SentencePiece model plus a KoBERT-layout vocabulary (specials first, then pieces)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts)),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    model_path = out_dir / "spiece.model"
    model_path.write_bytes(buffer.getvalue())
    processor = spm.SentencePieceProcessor(model_file=str(model_path))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = KOBERT_SPECIALS + [p for p in pieces if p not in ("<unk>", "<s>", "</s>")]
    vocab_path = out_dir / "vocab.txt"
    vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return KoBERTTokenizer.from_files(model_path, vocab_path)
