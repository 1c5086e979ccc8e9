"""The emotion classifier on ONNX Runtime int8: exported once, cached beside the checkpoint.

On the CPU, ONNX Runtime's int8 kernels run the BERT classifier faster than torch's dynamic
quantization (measured in ``maeum bench``'s peer rows and docs/performance.md). The torch model
stays the reference, and the only path on GPUs.

The export is the checkpoint's own ``AutoModelForSequenceClassification`` traced to ONNX in fp32
(torch's TorchScript exporter), then ``onnxruntime.quantization.quantize_dynamic`` (int8
weights, activations quantized per batch, like torch's dynamic quantization). It is written to
``<checkpoint>/onnx/`` with the SHA-256 of the checkpoint's config and weights: a changed
checkpoint is exported again. A file stamp (size and mtime) saves re-hashing the weights on
every start. A checkpoint directory that cannot be written gets its export under the user's
cache (``$XDG_CACHE_HOME/maeum/onnx/<hash>``).

Serving needs ``onnxruntime`` only (``pip install maeum[onnx]``); exporting also needs ``onnx``
and torch. This module imports neither at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.inference.calibration import Calibration, predictions
from engine.types import EmotionPrediction

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "torch", "onnx")
EXPORT_DIR = "onnx"
MODEL_FILE = "model-int8.onnx"
META_FILE = "export.json"
# Bump when the export changes (opset, inputs, quantization options): old caches are redone.
EXPORT_FORMAT = 1
OPSET = 17
MAX_LENGTH = 64
_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxUnavailableError(RuntimeError):
    """The ONNX path was asked for, but cannot run here (package missing, GPU, not int8, ...)."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or blocked in sys.modules
        return False


def runtime_installed() -> bool:
    return _installed("onnxruntime")


def exporter_installed() -> bool:
    return runtime_installed() and _installed("onnx")


def choose_runtime(setting: str, device_type: str, precision: str, location: str | Path) -> str:
    """``torch`` or ``onnx`` for the emotion classifier.

    ``auto``: ONNX Runtime on a CPU at int8 when it is installed and the checkpoint is a local
    directory (its export needs somewhere to live); torch otherwise, and torch also when the
    checkpoint has a current prepared int8 form (``maeum models prepare``): that form starts
    without transformers or ONNX Runtime in ~90 MB less memory (docs/performance.md), for a few
    ms more per message. ``onnx``: the same conditions, but an unmet one is an error that says
    which.
    """
    if setting not in RUNTIMES:
        raise ValueError(f"unknown emotion runtime {setting!r}; use one of {', '.join(RUNTIMES)}")
    if setting == "torch" or (Path(location).expanduser().is_dir() and not _complete(Path(location))):
        # A broken checkpoint: torch's loader reports it in one sentence (ModelLoadError).
        return "torch"
    if setting == "auto" and device_type == "cpu" and precision == "int8" and _prepared(Path(location)):
        return "torch"
    reasons = []
    if device_type != "cpu":
        reasons.append("it runs on the CPU only (torch serves GPUs)")
    if precision != "int8":
        reasons.append(f"it runs the int8 export, and the emotion precision is {precision}")
    if not Path(location).expanduser().is_dir():
        reasons.append("the checkpoint must be a local directory")
    if not runtime_installed():
        reasons.append("onnxruntime is not installed (pip install 'maeum[onnx]')")
    elif not exporter_installed() and not _has_any_export(Path(location).expanduser()):
        reasons.append("exporting needs the onnx package (pip install 'maeum[onnx]')")
    if not reasons:
        return "onnx"
    if setting == "onnx":
        raise OnnxUnavailableError("emotion runtime onnx: " + "; ".join(reasons))
    return "torch"


def _prepared(checkpoint: Path) -> bool:
    """A current prepared int8 form of the checkpoint, which the torch classifier would load."""
    from engine.inference import prepared  # imports torch: only once torch models are configured

    where = checkpoint.expanduser()
    return (
        prepared.ENABLED
        and prepared.has_prepared(where)
        and prepared.stale_reason(where, "classifier") is None
    )


def _complete(checkpoint: Path) -> bool:
    """A config that parses and weights beside it: what an export needs."""
    try:
        config = json.loads((checkpoint.expanduser() / "config.json").read_text(encoding="utf-8"))
        return isinstance(config, dict) and len(weight_files(checkpoint.expanduser())) > 1
    except (OSError, ValueError):
        return False


# The cached export ----------------------------------------------------------------------------


def weight_files(checkpoint: Path) -> list[Path]:
    files = sorted({p for pattern in _WEIGHT_PATTERNS for p in checkpoint.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"no weights (*.safetensors or pytorch_model*.bin) in {checkpoint}")
    return [checkpoint / "config.json", *files]


def stamp(files: Sequence[Path]) -> dict[str, list[int]]:
    """Size and modification time of each file: cheap, and changes whenever the file is rewritten."""
    out = {}
    for f in files:
        st = f.stat()
        out[f.name] = [st.st_size, st.st_mtime_ns]
    return out


def weights_key(files: Sequence[Path]) -> str:
    """SHA-256 over the config and the weights: the export's identity."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def _read_meta(directory: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != EXPORT_FORMAT or not (directory / MODEL_FILE).is_file():
        return None
    return meta


def _has_any_export(checkpoint: Path) -> bool:
    return _read_meta(checkpoint / EXPORT_DIR) is not None


def _user_cache(key: str) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "maeum" / "onnx" / key[:24]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def cached_export(checkpoint: str | Path, *, export: bool = True) -> Path:
    """The int8 ONNX file for ``checkpoint``: the cached one when it matches the weights,
    otherwise a new export (``export=False`` raises FileNotFoundError instead)."""
    checkpoint = Path(checkpoint).expanduser().resolve()
    files = weight_files(checkpoint)
    current = stamp(files)
    beside = checkpoint / EXPORT_DIR
    meta = _read_meta(beside)
    if meta is not None and meta.get("stamp") == current:
        return beside / MODEL_FILE
    key = weights_key(files)
    for directory in (beside, _user_cache(key)):
        meta = _read_meta(directory)
        if meta is not None and meta.get("key") == key:
            if directory == beside:  # same weights, rewritten file (a copy, a touch): re-stamp
                with contextlib.suppress(OSError):
                    _write_json(beside / META_FILE, {**meta, "stamp": current})
            return directory / MODEL_FILE
    if not export:
        raise FileNotFoundError(f"no ONNX export of {checkpoint} matches its weights")
    for directory in (beside, _user_cache(key)):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".write-test"
            probe.touch()
            probe.unlink()
        except OSError:
            continue
        log.info("exporting %s to ONNX int8 in %s (once per checkpoint)", checkpoint.name, directory)
        export_int8(checkpoint, directory)
        _write_json(
            directory / META_FILE,
            {
                "format": EXPORT_FORMAT,
                "key": key,
                "stamp": current,
                "checkpoint": str(checkpoint),
                "opset": OPSET,
                "quantization": "onnxruntime quantize_dynamic, int8 weights (QInt8)",
                "versions": _versions(),
            },
        )
        return directory / MODEL_FILE
    raise OSError(f"nowhere to write the ONNX export of {checkpoint} (read-only, and no user cache)")


def _versions() -> dict[str, str]:
    out = {}
    for name in ("torch", "transformers", "onnx", "onnxruntime"):
        with contextlib.suppress(Exception):
            out[name] = str(__import__(name).__version__)
    return out


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """The exporter's tracer warnings and quantize_dynamic's advice go to the root logger and stderr."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def export_int8(checkpoint: Path, directory: Path) -> Path:
    """Trace the checkpoint to ONNX (fp32) and quantize it to int8, written atomically."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    from engine.inference.loading import load_tokenizer

    tokenizer = load_tokenizer(str(checkpoint))
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    names = [n for n in _INPUTS if n == "input_ids" or n in tokenizer.model_input_names]
    sample = tokenizer(
        ["오늘 하루 어땠어요?", "안녕"],
        padding="longest",
        truncation=True,
        max_length=16,
        return_tensors="pt",
    )

    class Logits(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            logits: torch.Tensor = self.model(**dict(zip(names, inputs, strict=True))).logits
            return logits

    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    target = directory / MODEL_FILE
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as tmp, _quiet_export():
        fp32 = Path(tmp) / "model-fp32.onnx"
        int8 = Path(tmp) / MODEL_FILE
        with torch.no_grad():
            torch.onnx.export(
                Logits(model),
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["logits"],
                dynamic_axes={**axes, "logits": {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
        model = None  # free the fp32 weights before quantizing
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        os.replace(int8, target)
    return target


# The classifier -------------------------------------------------------------------------------


def session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    # ONNX Runtime's pool threads otherwise spin after each call, taking the cores from the
    # torch reply that runs next on the same worker.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTextClassifier:
    """The same interface as ``TextClassifier`` (labels, calibration, ``classify``), on ONNX Runtime."""

    runtime = "onnxruntime"
    precision = "int8"
    device = "cpu"

    def __init__(
        self, model_file: Path, tokenizer: Any, labels: list[str], threads: int | None = None
    ) -> None:
        self.model_file = model_file
        self.tokenizer = tokenizer
        self.labels = labels
        self.max_length = MAX_LENGTH
        self.calibration = Calibration()
        self.session = session(model_file, threads)
        self.input_names = [i.name for i in self.session.get_inputs()]

    @classmethod
    def load(
        cls, location: str | Path, threads: int | None = None, *, export: bool = True
    ) -> OnnxTextClassifier:
        from engine.inference.lean_tokenizers import lean_tokenizer
        from engine.inference.loading import load_tokenizer

        checkpoint = Path(location).expanduser()
        model_file = cached_export(checkpoint, export=export)
        # The same ids without importing transformers (seconds at start-up) where the tokenizer allows.
        tokenizer = lean_tokenizer(checkpoint) or load_tokenizer(str(checkpoint))
        config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
        classifier = cls(model_file, tokenizer, [id2label[i] for i in range(len(id2label))], threads)
        classifier.calibration = Calibration.read(checkpoint)
        return classifier

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        batch = self.tokenizer(
            list(texts), padding="longest", truncation=True, max_length=self.max_length, return_tensors="np"
        )
        feeds = {name: np.asarray(batch[name], dtype=np.int64) for name in self.input_names}
        out: np.ndarray = self.session.run(None, feeds)[0]
        return out

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        z = self.logits(texts).astype(np.float64) / self.calibration.temperature
        z -= z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        out: np.ndarray = p / p.sum(axis=-1, keepdims=True)
        return out

    def classify(self, texts: Sequence[str]) -> list[EmotionPrediction]:
        if not texts:
            return []
        return predictions(self.probabilities(texts).tolist(), self.labels, self.calibration.uncertain_below)
