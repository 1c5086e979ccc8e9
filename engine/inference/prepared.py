"""The int8 (CPU) form of a checkpoint, saved beside it once so that start-up does no quantizing.

``maeum models prepare`` loads a checkpoint in fp32, quantizes it as start-up would
(:func:`engine.inference.quantize.quantize_int8`) and writes ``maeum-int8.pt`` (the int8 model's
state) and ``maeum-int8.json`` (what it was made from) into the checkpoint's directory. Loading
with int8 then builds the model's skeleton without weights (the meta device), puts dynamic int8
layers where the saved form has them and fills everything from the saved file: no fp32 weights
are read, converted or held, which is most of start-up's time and peak memory.

The token embedding (GPT-2's 157 MB table; BERT's word embeddings) is saved beside it as raw
float32 rows. When the layout is a plain GPT-2 or BERT and the tokenizer needs no transformers
code, the model is built from the saved form by :mod:`engine.inference.lean_models` without
importing transformers at all, and reads the embedding rows it needs from that file.

The saved form is used only while it matches its checkpoint: the size and modification time of
every weights file, a hash of ``config.json``, the torch version and the quantized engine. A
stale one is ignored (one log line) and the checkpoint is quantized at start-up as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

PREPARED_FILE = "maeum-int8.pt"
MANIFEST_FILE = "maeum-int8.json"
# 2: the token embeddings are saved apart, as raw float32 rows (format 1 kept them in the state).
FORMAT = 2
# The token embeddings: only looked up (GPT-2's LM head is its own int8 copy), and the largest
# float tensors (157 MB for KoGPT2's, 25 MB for KoBERT's). The lean models read their rows from
# these files instead of holding them in memory.
TABLES = {
    "causal-lm": ("transformer.wte.weight", "maeum-int8-wte.bin"),
    "classifier": ("bert.embeddings.word_embeddings.weight", "maeum-int8-word-embeddings.bin"),
}
Kind = Literal["classifier", "causal-lm"]
# False: always quantize at start-up (the bench's cold start compares both ways in one run).
ENABLED = True


def weight_files(location: Path) -> list[Path]:
    """The checkpoint's weights: safetensors (sharded or not) or the older pytorch_model*.bin."""
    files = sorted(location.glob("*.safetensors")) or sorted(location.glob("pytorch_model*.bin"))
    return [f for f in files if f.is_file()]


def fingerprint(location: Path) -> dict[str, Any]:
    """What the saved form must match: cheap to compute (no hashing of the weights themselves)."""
    config = location / "config.json"
    files = {}
    for f in weight_files(location):
        st = f.stat()
        files[f.name] = [st.st_size, st.st_mtime_ns]
    return {
        "format": FORMAT,
        "torch": torch.__version__,
        "quantized_engine": torch.backends.quantized.engine,
        "config_sha256": hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else None,
        "weights": files,
    }


def _auto_class(kind: Kind) -> Any:
    if kind == "classifier":
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM


def prepare(location: str | Path, kind: Kind) -> Path:
    """Write the int8 form of the checkpoint at ``location`` beside it; returns the saved file."""
    from engine.inference.quantize import quantize_int8

    where = Path(location).expanduser()
    if not (where / "config.json").is_file() or not weight_files(where):
        raise FileNotFoundError(f"no checkpoint (config.json and weights) in {where}")
    before = fingerprint(where)
    model = _auto_class(kind).from_pretrained(str(where), dtype=torch.float32)
    model = quantize_int8(model).eval()
    quantized = {
        name: [m.in_features, m.out_features, m.bias() is not None]
        for name, m in model.named_modules()
        if _is_dynamic_linear(m)
    }
    state = model.state_dict()
    persistent = set(state)
    tables: dict[str, dict[str, Any]] = {}
    key, file = TABLES[kind]
    if key in state:
        table = state.pop(key).detach().float().contiguous()
        _write_atomic(where / file, table.numpy().tobytes())
        tables[key] = {"file": file, "shape": list(table.shape), "dtype": "float32"}
    payload = {
        "format": FORMAT,
        "kind": kind,
        "state": state,
        # Buffers left out of state_dict (BERT's position ids): the meta skeleton has no values.
        "buffers": {n: b for n, b in model.named_buffers() if n not in persistent},
        "quantized": quantized,
        "tables": tables,
    }
    out = where / PREPARED_FILE
    tmp = out.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, out)
    if fingerprint(where) != before:  # the checkpoint was rewritten meanwhile: do not vouch for it
        out.unlink(missing_ok=True)
        raise RuntimeError(f"{where} changed while it was being prepared; run the command again")
    sizes = {t["file"]: (where / t["file"]).stat().st_size for t in tables.values()}
    (where / MANIFEST_FILE).write_text(
        json.dumps({**before, "kind": kind, "tables": sizes}, indent=2) + "\n", encoding="utf-8"
    )
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def stale_reason(location: Path, kind: Kind) -> str | None:
    """Why the saved form cannot be used (None when it can)."""
    try:
        manifest = json.loads((location / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({type(exc).__name__})"
    if manifest.get("kind") != kind:
        return f"it was prepared as {manifest.get('kind')!r}, not {kind!r}"
    if not (location / PREPARED_FILE).is_file():
        return f"{PREPARED_FILE} is missing"
    now = fingerprint(location)
    for key in ("format", "torch", "quantized_engine", "config_sha256", "weights"):
        if manifest.get(key) != now[key]:
            return "the weights changed since it was prepared" if key == "weights" else f"{key} differs"
    for name, size in (manifest.get("tables") or {}).items():
        table = location / name
        if not table.is_file() or table.stat().st_size != size:
            return f"{name} is missing or was changed"
    return None


def has_prepared(location: str | Path) -> bool:
    return (Path(location).expanduser() / MANIFEST_FILE).is_file()


def load_prepared(location: str | Path, kind: Kind, *, lean: bool = False) -> Any:
    """The saved int8 model of the checkpoint at ``location``, or None when there is none or it is
    stale. ``lean``: a torch-only model (:mod:`engine.inference.lean_models`) where the layout
    allows, so that transformers is not imported; otherwise a transformers ``PreTrainedModel``."""
    where = Path(location).expanduser()
    if not ENABLED or not (where / MANIFEST_FILE).is_file():
        return None
    reason = stale_reason(where, kind)
    if reason is not None:
        log.warning(
            "ignoring the prepared int8 form in %s (%s); quantizing at start-up instead "
            "(run `maeum models prepare` again to refresh it)",
            where,
            reason,
        )
        return None
    started = time.perf_counter()
    from engine.inference import lean_models

    config = lean_models.LeanConfig.read(where) if lean else None
    use_lean = config is not None and lean_models.supports(config, kind)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*TypedStorage is deprecated.*")  # qint8 storages
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        payload = torch.load(where / PREPARED_FILE, map_location="cpu", weights_only=True)
    if use_lean and config is not None:
        model = lean_models.build(kind, config, payload, where)
        form = "lean int8 form"
    else:
        model = _transformers_model(where, kind, payload)
        form = "int8 form"
    log.info("loaded the prepared %s of %s in %.2fs", form, where, time.perf_counter() - started)
    return model.eval()


def load_prepared_with_tokenizer(location: str | Path, kind: Kind) -> tuple[Any, Any]:
    """(model, tokenizer) from the prepared form: the lean model with its transformers-free
    tokenizer where both are possible, else (transformers model, None), else (None, None)."""
    from engine.inference.lean_models import is_lean
    from engine.inference.lean_tokenizers import lean_tokenizer

    if not ENABLED or not has_prepared(location):
        return None, None
    tokenizer = lean_tokenizer(location)
    model = load_prepared(location, kind, lean=tokenizer is not None)
    return model, tokenizer if is_lean(model) else None


def _transformers_model(where: Path, kind: Kind, payload: dict[str, Any]) -> Any:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(where))
    with torch.device("meta"):
        model = _auto_class(kind).from_config(config)
    state = payload["state"]
    for key, table in payload.get("tables", {}).items():
        # transformers' model holds the table in memory, as it did before the table had a file.
        rows = np.fromfile(where / table["file"], dtype=np.dtype(table["dtype"]))
        state[key] = torch.from_numpy(rows).reshape(table["shape"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

        for name, (n_in, n_out, bias) in payload["quantized"].items():
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            # A 1x1 placeholder: loading the state sets (and packs) the real weights.
            layer = DynamicQuantizedLinear(1, 1, bias_=bias)
            layer.in_features, layer.out_features = n_in, n_out
            setattr(parent, child, layer)
        model.load_state_dict(state, strict=True, assign=True)
    for name, value in payload["buffers"].items():
        owner_name, _, buffer = name.rpartition(".")
        owner = model.get_submodule(owner_name) if owner_name else model
        owner.register_buffer(buffer, value, persistent=False)
    _load_generation_config(model, where)
    return model


def _load_generation_config(model: nn.Module, where: Path) -> None:
    if (where / "generation_config.json").is_file() and hasattr(model, "generation_config"):
        from transformers import GenerationConfig

        setattr(model, "generation_config", GenerationConfig.from_pretrained(str(where)))  # noqa: B010


def _is_dynamic_linear(module: nn.Module) -> bool:
    return type(module).__module__.startswith("torch.ao.nn.quantized.dynamic") and hasattr(
        module, "_packed_params"
    )
