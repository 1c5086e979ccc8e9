"""Inference precision per model: fp32, int8 (CPU, dynamic quantization) or fp16/bf16 (GPU).

``auto`` is int8 on a CPU and half precision on a GPU. int8 uses torch's dynamic quantization
of every ``nn.Linear`` (weights int8, activations quantized per batch), chosen over ONNX Runtime
because it reaches the latency goals without another dependency (see docs/performance.md).
GPT-2 blocks use transformers' ``Conv1D`` (a Linear with its weight transposed), which dynamic
quantization does not know; they are turned into ``nn.Linear`` first, which is exact.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Literal, get_args

import torch
from torch import nn

from engine.settings import Precision

if TYPE_CHECKING:
    from transformers.pytorch_utils import Conv1D

log = logging.getLogger(__name__)

PRECISIONS: tuple[str, ...] = get_args(Precision)
# What ``auto`` and an explicit setting resolve to on a given device.
Resolved = Literal["fp32", "int8", "fp16", "bf16"]


def half_dtype() -> torch.dtype:
    return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float16


def resolve_precision(setting: str, device: torch.device) -> Resolved:
    """``auto`` → int8 on CPU, bf16 (or fp16 on GPUs without bf16) on CUDA; int8 is CPU-only."""
    if setting not in PRECISIONS:
        raise ValueError(f"unknown precision {setting!r}; use one of {', '.join(PRECISIONS)}")
    if setting == "auto":
        if device.type == "cuda":
            return "bf16" if half_dtype() == torch.bfloat16 else "fp16"
        return "int8"
    if setting == "int8" and device.type != "cpu":
        raise ValueError("int8 (dynamic quantization) runs on the CPU only; use fp16 or bf16 on a GPU")
    resolved: Resolved = setting  # type: ignore[assignment]
    return resolved


def load_dtype(precision: Resolved) -> torch.dtype:
    """The dtype to load weights in: int8 starts from fp32 weights and quantizes them."""
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)


def _linear_from_conv1d(conv: Conv1D) -> nn.Linear:
    n_in, n_out = conv.weight.shape
    linear = nn.Linear(n_in, n_out, device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.t())
        linear.bias.copy_(conv.bias)
    return linear


def conv1d_to_linear(model: nn.Module) -> int:
    """Replace every transformers ``Conv1D`` with an equivalent ``nn.Linear``, in place.

    Conv1D computes ``x @ W + b`` with ``W`` of shape (in, out); Linear computes ``x @ W.T + b``,
    so ``Linear.weight = Conv1D.weight.T`` gives the same outputs. Returns how many were replaced.
    """
    from transformers.pytorch_utils import Conv1D  # here: resolving a precision needs no transformers

    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                setattr(parent, name, _linear_from_conv1d(child))
                replaced += 1
    return replaced


def quantize_int8(model: nn.Module) -> nn.Module:
    """Dynamic int8 quantization of every ``nn.Linear`` and GPT-2 ``Conv1D``, in place.

    The same result as ``quantize_dynamic(model, {nn.Linear}, torch.qint8)`` after Conv1D → Linear,
    but one layer at a time: the stock call first copies the whole model and conversion would hold
    a second fp32 copy of every block, which together doubled start-up's peak memory.
    Embeddings stay fp32 (a lookup, not a matmul); GPT-2's LM head, a Linear tied to the
    embedding, gets its own int8 copy.
    """
    from transformers.pytorch_utils import Conv1D

    model.float()
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, yet it is still the built-in
        # CPU int8 path and needs no extra dependency.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
        from torch.ao.quantization import default_dynamic_qconfig

        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, Conv1D):
                    child = _linear_from_conv1d(child)
                if type(child) is nn.Linear:
                    if child.bias is not None:  # the packed weight keeps the bias tensor: own it
                        child.bias.data = child.bias.data.clone()
                    child.qconfig = default_dynamic_qconfig  # type: ignore[assignment]
                    setattr(parent, name, DynamicQuantizedLinear.from_float(child))
    _own_memory(model)
    return model


def _own_memory(model: nn.Module) -> None:
    """Copy what is left in float out of the memory-mapped checkpoint file.

    from_pretrained maps the safetensors file; once the float weights that still point into it
    (embeddings, norms) are copied, the map is released and the resident size is only what the
    int8 model really uses.
    """
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            tensor.data = tensor.data.clone()


def apply_precision(model: nn.Module, precision: Resolved) -> nn.Module:
    """Convert a loaded model to ``precision`` in place (a no-op when it is already there)."""
    if precision == "int8":
        return quantize_int8(model)
    return model.to(load_dtype(precision))


def is_quantized(model: nn.Module) -> bool:
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())


def precision_of(model: nn.Module) -> str:
    """What a loaded model runs in, for logs and the benchmark: int8, fp32, fp16 or bf16."""
    if is_quantized(model):
        return "int8"
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    return {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, "fp32")
