"""A lean decoding loop for GPT-2 models (KoGPT2): the model's own layers, a preallocated KV cache.

``generate`` spends a third of each step outside the matrix products on 2 CPU cores: cache
objects, mask building, position bookkeeping, output dataclasses, the processor list. This
loop calls the same submodules (so int8 or half precision layers work unchanged and the
logits are the model's) in the order GPT-2's forward does, writes keys and values into one
tensor allocated for the whole reply, and computes the LM head only for the last position.
Models it does not recognise keep using ``generate``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.inference import gpt2_int8_kernel
from engine.inference.lean_models import GELUTanh
from engine.inference.sampling import SamplingRules, TokenChooser


def supports(model: nn.Module) -> bool:
    """True for a plain GPT-2 LM head model: the layout this loop reproduces exactly."""
    config = getattr(model, "config", None)
    return (
        config is not None
        and getattr(config, "model_type", None) == "gpt2"
        and hasattr(model, "transformer")
        and hasattr(model, "lm_head")
        and not getattr(config, "add_cross_attention", False)
        and not getattr(config, "scale_attn_by_inverse_layer_idx", False)
        and not getattr(config, "reorder_and_upcast_attn", False)
        and getattr(config, "scale_attn_weights", True)
    )


Op = Callable[[torch.Tensor], torch.Tensor]


def direct_op(module: nn.Module) -> Op:
    """The kernel call behind a layer, without ``nn.Module.__call__`` and its hook checks.

    Those few microseconds per call add up to milliseconds per token over the ~100 small layer
    calls in a GPT-2 step. Unknown modules are called as they are.
    """
    if type(module) is nn.Linear:
        return partial(F.linear, weight=module.weight, bias=module.bias)
    packed = _packed_int8(module)
    if packed is not None:
        kernel: Any = torch.ops.quantized.linear_dynamic
        return partial(kernel, W_prepack=packed, reduce_range=True)
    if _is_tanh_gelu(module):
        # The same tanh approximation of GELU, as one kernel instead of seven.
        return partial(F.gelu, approximate="tanh")
    if type(module) is nn.LayerNorm:
        return partial(
            F.layer_norm,
            normalized_shape=module.normalized_shape,
            weight=module.weight,
            bias=module.bias,
            eps=module.eps,
        )
    return module


def _is_tanh_gelu(module: nn.Module) -> bool:
    """transformers' NewGELUActivation, or the lean model's own (engine.inference.lean_models)."""
    return isinstance(module, GELUTanh) or type(module).__name__ == "NewGELUActivation"


def _packed_int8(module: nn.Module) -> Any | None:
    """The prepacked int8 weight of a dynamically quantized Linear, else None."""
    # Its class is also called ``Linear``; the module path tells it apart from nn.Linear.
    if type(module).__module__ != "torch.ao.nn.quantized.dynamic.modules.linear":
        return None
    packed: Any = module._packed_params
    if packed.dtype != torch.qint8 or (getattr(module, "version", None) or 0) < 4:
        return None
    return packed._packed_params


def _int8_params(lm: Any, eps: float) -> tuple[list[list[Any]], list[Any]] | None:
    """Everything the scripted int8 stack needs, or None when any layer is not the expected kind."""
    norms = [lm.transformer.ln_f] + [n for b in lm.transformer.h for n in (b.ln_1, b.ln_2)]
    if any(type(n) is not nn.LayerNorm or n.weight is None or n.eps != eps for n in norms):
        return None
    if any(not _is_tanh_gelu(b.mlp.act) for b in lm.transformer.h):
        return None
    linears = {
        name: [
            _packed_int8(getattr(b.attn if name.startswith("attn") else b.mlp, name.split(".")[1]))
            for b in lm.transformer.h
        ]
        for name in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
    }
    head = _packed_int8(lm.lm_head)
    if head is None or any(p is None for ps in linears.values() for p in ps):
        return None
    h = lm.transformer.h
    stack = [
        [b.ln_1.weight for b in h],
        [b.ln_1.bias for b in h],
        [b.ln_2.weight for b in h],
        [b.ln_2.bias for b in h],
        *linears.values(),
    ]
    return stack, [lm.transformer.ln_f.weight, lm.transformer.ln_f.bias, head]


@dataclass(frozen=True)
class _Layer:
    ln_1: Op
    qkv: Op
    proj: Op
    ln_2: Op
    fc: Op
    act: Op
    out: Op


@dataclass
class _Batch:
    """Left-padded prompts: ``ids`` (B, T), ``valid`` (B, T) True on real tokens."""

    ids: torch.Tensor
    valid: torch.Tensor


class GPT2Decoder:
    def __init__(self, model: nn.Module) -> None:
        if not supports(model):
            raise ValueError("GPT2Decoder needs a GPT-2 LM head model")
        lm: Any = model  # transformers' modules are untyped attribute trees
        config = lm.config
        self.model = model
        self.transformer: Any = lm.transformer
        self.layers = [
            _Layer(
                direct_op(b.ln_1),
                direct_op(b.attn.c_attn),
                direct_op(b.attn.c_proj),
                direct_op(b.ln_2),
                direct_op(b.mlp.c_fc),
                direct_op(b.mlp.act),
                direct_op(b.mlp.c_proj),
            )
            for b in lm.transformer.h
        ]
        self.ln_f = direct_op(lm.transformer.ln_f)
        self.head = direct_op(lm.lm_head)
        self.n_heads = int(config.n_head)
        self.hidden = int(config.n_embd)
        self.head_dim = self.hidden // self.n_heads
        self.eps = float(config.layer_norm_epsilon)
        # int8 models (the CPU default) run the whole layer stack as one TorchScript call.
        self._int8_params = _int8_params(lm, self.eps)
        self._kernel = gpt2_int8_kernel.scripted() if self._int8_params is not None else None

    @property
    def scripted(self) -> bool:
        return self._kernel is not None

    def _dtype(self) -> torch.dtype:
        # The layers' float dtype; the token embedding may be stored narrower (the lean int8 model).
        dtype: torch.dtype = self.transformer.ln_f.weight.dtype
        return dtype

    def _forward(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor,
        start: int,
        keys: list[torch.Tensor],
        values: list[torch.Tensor],
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """Run ``ids`` (B, T) at cache slots ``start..start+T``; returns the last position's logits."""
        t = self.transformer
        batch, length = ids.shape
        end = start + length
        x = t.wte(ids) + t.wpe(positions)
        if self._kernel is not None and self._int8_params is not None:
            stack, final = self._int8_params
            logits_: torch.Tensor = self._kernel(
                x, start, self.n_heads, self.eps, mask, *stack, keys, values, *final
            )
            return logits_
        shape = (batch, length, self.n_heads, self.head_dim)
        for layer, k_cache, v_cache in zip(self.layers, keys, values, strict=True):
            q, k, v = layer.qkv(layer.ln_1(x)).split(self.hidden, dim=2)
            k_cache[:, :, start:end] = k.view(shape).transpose(1, 2)
            v_cache[:, :, start:end] = v.view(shape).transpose(1, 2)
            a = F.scaled_dot_product_attention(
                q.view(shape).transpose(1, 2), k_cache[:, :, :end], v_cache[:, :, :end], attn_mask=mask
            )
            x = x + layer.proj(a.transpose(1, 2).reshape(batch, length, self.hidden))
            x = x + layer.out(layer.act(layer.fc(layer.ln_2(x))))
        logits: torch.Tensor = self.head(self.ln_f(x[:, -1]))
        return logits

    @torch.inference_mode()
    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        """Next-token logits for unpadded ``ids`` (B, T); for checking this loop against the model."""
        batch, length = ids.shape
        keys, values = self._cache(batch, length, ids.device)
        positions = torch.arange(length, device=ids.device).expand(batch, length)
        causal = torch.ones(length, length, dtype=torch.bool, device=ids.device).tril()
        return self._forward(ids, positions, 0, keys, values, causal)

    def _additive(self, allowed: torch.Tensor) -> torch.Tensor:
        """A boolean mask as 0 / -inf, made once per step: attention would convert a boolean
        mask again in each of the 12 layers."""
        mask = torch.zeros(allowed.shape, dtype=self._dtype(), device=allowed.device)
        return mask.masked_fill_(~allowed, float("-inf"))

    def _cache(
        self, batch: int, size: int, device: torch.device
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        shape = (batch, self.n_heads, size, self.head_dim)
        dtype = self._dtype()
        keys = [torch.empty(shape, dtype=dtype, device=device) for _ in self.layers]
        values = [torch.empty(shape, dtype=dtype, device=device) for _ in self.layers]
        return keys, values

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        rules: SamplingRules,
        eos_id: int,
        pad_id: int,
        min_new_tokens: int = 0,
        device: torch.device | None = None,
    ) -> list[list[int]]:
        """New token ids for each prompt (without the EOS that ended it)."""
        if not prompts:
            return []
        if any(not p for p in prompts):
            raise ValueError("every prompt needs at least one token")
        device = device or torch.device("cpu")
        batch = _left_pad(prompts, pad_id, device)
        size, width = len(prompts), batch.ids.shape[1]
        keys, values = self._cache(size, width + max_new_tokens, device)
        valid = torch.zeros(size, width + max_new_tokens, dtype=torch.bool, device=device)
        valid[:, :width] = batch.valid
        # Positions count real tokens only, so a padded prompt sees the same positions as alone.
        positions = (batch.valid.long().cumsum(-1) - 1).clamp(min=0)
        padded = not bool(batch.valid.all())
        # Prefill: causal, no attending to padding; each position also sees itself, so padding
        # rows never become all-masked (NaN) and poison the cache.
        causal = torch.ones(width, width, dtype=torch.bool, device=device).tril()
        allowed = (causal & batch.valid[:, None, None, :]) | torch.eye(width, dtype=torch.bool, device=device)
        logits = self._forward(batch.ids, positions, 0, keys, values, self._additive(allowed))

        chooser = TokenChooser(
            rules,
            prompts,
            device,
            eos_id=eos_id,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min_new_tokens,
        )
        next_pos = positions[:, -1:] + 1
        out: list[list[int]] = [[] for _ in prompts]
        done = [False] * size
        for step in range(max_new_tokens):
            chosen = chooser.choose(logits)
            for row, token in enumerate(chosen.tolist()):
                if done[row]:
                    continue
                if token == eos_id:
                    done[row] = True
                else:
                    out[row].append(token)
            if all(done) or step == max_new_tokens - 1:
                break
            slot = width + step
            valid[:, slot] = True
            # Decoding one token per row: without padding nothing needs masking at all.
            step_mask = self._additive(valid[:, None, None, : slot + 1]) if padded else None
            logits = self._forward(chosen.unsqueeze(-1), next_pos, slot, keys, values, step_mask)
            next_pos = next_pos + 1
        return out


def _left_pad(prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> _Batch:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    valid = torch.zeros(len(prompts), width, dtype=torch.bool)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
        valid[row, width - len(prompt) :] = True
    return _Batch(ids.to(device), valid.to(device))
