"""Loading checkpoints the way users run them: local directories or hub ids, one clear error."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)


def resolve_device(setting: str) -> torch.device:
    """``auto`` takes CUDA when present; ``cuda`` without a GPU is an operator error, said plainly."""
    if setting == "cpu":
        return torch.device("cpu")
    if setting == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("MAEUM_DEVICE=cuda but no CUDA GPU is visible; set MAEUM_DEVICE=auto or cpu.")
        return torch.device("cuda")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_dtype(device: torch.device) -> torch.dtype:
    """float32 on CPU (checkpoints may be stored in fp16 to stay small), half precision on GPUs."""
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def is_local(location: str) -> bool:
    return Path(location).exists() or location.startswith((".", "/", "~"))


def _tokenizer_class_name(location: str) -> str | None:
    config = Path(location) / "tokenizer_config.json"
    if not config.is_file():
        return None
    data: dict[str, Any] = json.loads(config.read_text(encoding="utf-8"))
    value = data.get("tokenizer_class")
    return str(value) if value else None


def load_tokenizer(location: str) -> PreTrainedTokenizerBase:
    """KoBERT checkpoints get the project's KoBERT tokenizer (AutoTokenizer's ids would not match)."""
    from transformers import AutoTokenizer

    from engine.inference.kobert_tokenizer import KoBERTTokenizer

    local = Path(location)
    kobert_files = (local / "spiece.model").is_file() and (local / "vocab.txt").is_file()
    if (
        _tokenizer_class_name(location) == "KoBERTTokenizer"
        or kobert_files
        or (not local.exists() and "kobert" in location.lower())
    ):
        return KoBERTTokenizer.from_pretrained(location)
    return AutoTokenizer.from_pretrained(location)


def check_location(location: str) -> None:
    """Fail early on a local path that does not exist (a typo, or a model never trained)."""
    if is_local(location) and not Path(location).expanduser().is_dir():
        raise FileNotFoundError(f"no such directory: {location}")
