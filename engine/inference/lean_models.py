"""GPT-2 and BERT skeletons in plain torch, filled from the prepared int8 form: no transformers.

Importing transformers' model code costs seconds and ~130 MB on the 2-core VM, more than
loading the int8 weights themselves. With a current prepared form (``maeum models prepare``)
nothing needs it: the reply model only runs in the lean decoding loop
(:mod:`engine.inference.gpt2_decoder`), which calls the layers by name, and the classifier is a
plain BERT forward. These modules have the attribute and state names of transformers'
``GPT2LMHeadModel`` and ``BertForSequenceClassification``, so the saved state fills them as it
is, and each int8 weight is packed as soon as it is read.

The saved file is memory-mapped rather than read. Each int8 weight is copied into fbgemm's
packed layout, and the file pages it came from are dropped right after, so loading holds one
layer twice at most, never the whole model. The float tensors stay in the map: layer norms and
biases are small, and of the embedding tables (GPT-2's 51,200 x 768 fp32 token embedding is
157 MB) only the rows looked up are ever read from disk. They are clean file pages, which the
kernel can also drop again under memory pressure.

Only the plain layouts are built here (:func:`supports`); anything else, and GPUs, training and
checkpoints without a prepared form, use transformers as before. The tests hold the outputs to
the transformers-based prepared path: the same classifier labels and the same greedy tokens.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

Kind = str  # "classifier" | "causal-lm", as in engine.inference.prepared


class LeanConfig(SimpleNamespace):
    """config.json as attributes (what the engine reads: sizes, labels, ``maeum_context_turns``)."""

    @classmethod
    def read(cls, location: Path) -> LeanConfig:
        data: dict[str, Any] = json.loads((location / "config.json").read_text(encoding="utf-8"))
        return cls(**data)


def supports(config: LeanConfig, kind: Kind) -> bool:
    """True for the layouts these skeletons reproduce exactly (transformers' defaults)."""
    get = config.__dict__.get
    if kind == "causal-lm":
        return (
            get("model_type") == "gpt2"
            and get("activation_function", "gelu_new") == "gelu_new"
            and not get("add_cross_attention", False)
            and not get("scale_attn_by_inverse_layer_idx", False)
            and not get("reorder_and_upcast_attn", False)
            and get("scale_attn_weights", True)
        )
    if kind == "classifier":
        return (
            get("model_type") == "bert"
            and get("hidden_act", "gelu") == "gelu"
            and get("position_embedding_type", "absolute") == "absolute"
            and not get("is_decoder", False)
            and not get("add_cross_attention", False)
            and get("architectures", ["BertForSequenceClassification"]) == ["BertForSequenceClassification"]
            and get("problem_type") in (None, "single_label_classification")
        )
    return False


class GELUTanh(nn.Module):
    """GPT-2's ``gelu_new``: the tanh approximation (transformers' NewGELUActivation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


class Lookup(nn.Module):
    """An embedding table read in float32 whatever it is stored in: the prepared form keeps
    GPT-2's 51,200-row table in fp16 (half the memory); only the looked-up rows are widened."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.weight).float()


_MADV_DONTNEED = 4


def _madvise() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None


def release_pages(tensor: torch.Tensor) -> None:
    """Drop the resident pages of a tensor in a private file map once it has been copied.

    Only for tensors of a map (``torch.load(mmap=True)``): their clean pages are re-read from
    the file if touched again, so nothing is lost; on anonymous memory this would zero them.
    """
    madvise = _madvise()
    if madvise is None:
        return
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    page = mmap.PAGESIZE
    lo, hi = -(-start // page) * page, end // page * page  # whole pages inside the tensor only
    if hi > lo:
        madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), _MADV_DONTNEED)


class _State:
    """The saved state, consumed key by key so that each tensor is referenced once."""

    def __init__(self, state: dict[str, Any], quantized: dict[str, list[Any]], mapped: bool) -> None:
        self.state = state
        self.quantized = quantized
        self.mapped = mapped

    def param(self, key: str) -> nn.Parameter:
        return nn.Parameter(self.state.pop(key), requires_grad=False)

    def norm(self, prefix: str, eps: float) -> nn.LayerNorm:
        weight = self.state.pop(prefix + ".weight")
        ln = nn.LayerNorm(weight.shape[0], eps=eps, device="meta")
        ln.weight = nn.Parameter(weight, requires_grad=False)
        ln.bias = nn.Parameter(self.state.pop(prefix + ".bias"), requires_grad=False)
        return ln

    def embedding(self, key: str) -> nn.Embedding:
        return nn.Embedding.from_pretrained(self.state.pop(key), freeze=True)

    def linear(self, prefix: str) -> nn.Module:
        """A dynamic int8 Linear packed from the saved weight, which is then dropped."""
        from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

        n_in, n_out, bias = self.quantized.pop(prefix)
        # A 1x1 placeholder; set_weight_bias packs the real weight as loading the state would.
        layer = DynamicQuantizedLinear(1, 1, bias_=bias)
        layer.in_features, layer.out_features = int(n_in), int(n_out)
        if self.state.pop(prefix + "._packed_params.dtype") != torch.qint8:
            raise ValueError(f"{prefix} is not int8")
        weight, bias_tensor = self.state.pop(prefix + "._packed_params._packed_params")
        layer.set_weight_bias(weight, bias_tensor)  # fbgemm copies it into its packed layout
        if self.mapped:
            release_pages(weight)
        layer.scale = float(self.state.pop(prefix + ".scale"))
        layer.zero_point = int(self.state.pop(prefix + ".zero_point"))
        return layer

    def done(self) -> None:
        if self.state or self.quantized:
            left = sorted([*self.state, *self.quantized])[:5]
            raise ValueError(f"the prepared form has entries the lean model does not use: {left}")


# GPT-2 ----------------------------------------------------------------------------------------


class _Attention(nn.Module):
    def __init__(self, c_attn: nn.Module, c_proj: nn.Module) -> None:
        super().__init__()
        self.c_attn, self.c_proj = c_attn, c_proj


class _MLP(nn.Module):
    def __init__(self, c_fc: nn.Module, c_proj: nn.Module) -> None:
        super().__init__()
        self.c_fc, self.act, self.c_proj = c_fc, GELUTanh(), c_proj


class _GPT2Block(nn.Module):
    def __init__(self, s: _State, prefix: str, eps: float) -> None:
        super().__init__()
        self.ln_1 = s.norm(prefix + ".ln_1", eps)
        self.attn = _Attention(s.linear(prefix + ".attn.c_attn"), s.linear(prefix + ".attn.c_proj"))
        self.ln_2 = s.norm(prefix + ".ln_2", eps)
        self.mlp = _MLP(s.linear(prefix + ".mlp.c_fc"), s.linear(prefix + ".mlp.c_proj"))


class _GPT2Body(nn.Module):
    def __init__(self, s: _State, config: LeanConfig) -> None:
        super().__init__()
        eps = float(config.layer_norm_epsilon)
        self.wte = Lookup(s.state.pop("transformer.wte.weight"))
        self.wpe = s.embedding("transformer.wpe.weight")
        self.h = nn.ModuleList(_GPT2Block(s, f"transformer.h.{i}", eps) for i in range(int(config.n_layer)))
        self.ln_f = s.norm("transformer.ln_f", eps)


class LeanGPT2LMHead(nn.Module):
    """GPT-2 with int8 layers for :class:`~engine.inference.gpt2_decoder.GPT2Decoder` (which runs it)."""

    def __init__(self, s: _State, config: LeanConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = _GPT2Body(s, config)
        self.lm_head = s.linear("lm_head")


# BERT -----------------------------------------------------------------------------------------


class _BertLayer(nn.Module):
    def __init__(self, s: _State, prefix: str, eps: float, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = s.linear(prefix + ".attention.self.query")
        self.key = s.linear(prefix + ".attention.self.key")
        self.value = s.linear(prefix + ".attention.self.value")
        self.attention_out = s.linear(prefix + ".attention.output.dense")
        self.attention_norm = s.norm(prefix + ".attention.output.LayerNorm", eps)
        self.intermediate = s.linear(prefix + ".intermediate.dense")
        self.out = s.linear(prefix + ".output.dense")
        self.out_norm = s.norm(prefix + ".output.LayerNorm", eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, width = x.shape
        shape = (batch, length, self.heads, width // self.heads)
        q = self.query(x).view(shape).transpose(1, 2)
        k = self.key(x).view(shape).transpose(1, 2)
        v = self.value(x).view(shape).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=shape[-1] ** -0.5)
        a = a.transpose(1, 2).reshape(batch, length, width)
        x = self.attention_norm(self.attention_out(a) + x)
        return self.out_norm(self.out(F.gelu(self.intermediate(x))) + x)


class LeanBertClassifier(nn.Module):
    """``BertForSequenceClassification``'s inference forward (embeddings, encoder, pooler, head)."""

    def __init__(self, s: _State, config: LeanConfig) -> None:
        super().__init__()
        self.config = config
        eps = float(getattr(config, "layer_norm_eps", 1e-12))
        heads = int(config.num_attention_heads)
        self.word_embeddings = s.embedding("bert.embeddings.word_embeddings.weight")
        self.position_embeddings = s.embedding("bert.embeddings.position_embeddings.weight")
        self.token_type_embeddings = s.embedding("bert.embeddings.token_type_embeddings.weight")
        self.embedding_norm = s.norm("bert.embeddings.LayerNorm", eps)
        self.layers = nn.ModuleList(
            _BertLayer(s, f"bert.encoder.layer.{i}", eps, heads) for i in range(int(config.num_hidden_layers))
        )
        self.pooler = s.linear("bert.pooler.dense")
        self.classifier = s.linear("classifier")

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> SimpleNamespace:
        length = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        positions = torch.arange(length, device=input_ids.device)[None]
        # transformers' order of the sums (float addition is not associative).
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = self.embedding_norm(x + self.position_embeddings(positions))
        # No mask without padding, as transformers' SDPA path does; else keys at padding are masked.
        mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            mask = attention_mask.bool()[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return SimpleNamespace(logits=self.classifier(pooled))


def build(kind: Kind, config: LeanConfig, payload: dict[str, Any], *, mapped: bool = False) -> nn.Module:
    """The lean model of ``kind`` from a prepared payload (consumed: its tensors move into the
    model). ``mapped``: the payload was loaded with ``mmap=True`` (its int8 pages are dropped
    once packed)."""
    s = _State(payload.pop("state"), dict(payload.pop("quantized")), mapped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao quantization, see quantize.py
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        model: nn.Module = LeanGPT2LMHead(s, config) if kind == "causal-lm" else LeanBertClassifier(s, config)
    s.done()
    return model.eval()


def is_lean(model: Any) -> bool:
    return isinstance(model, (LeanGPT2LMHead, LeanBertClassifier))
