"""GPT-2 and BERT skeletons in plain torch, filled from the prepared int8 form: no transformers.

Importing transformers' model code costs seconds and ~130 MB on the 2-core VM, more than
loading the int8 weights themselves. With a current prepared form (``maeum models prepare``)
nothing needs it: the reply model only runs in the lean decoding loop
(:mod:`engine.inference.gpt2_decoder`), which calls the layers by name, and the classifier is a
plain BERT forward. These modules have the attribute and state names of transformers'
``GPT2LMHeadModel`` and ``BertForSequenceClassification``, so the saved state fills them as it
is.

Each int8 weight is packed (fbgemm's prepack, single-threaded, and it releases the GIL) on two
threads once the skeleton is built, largest first, and its saved copy is dropped as soon as it is
packed. The saved state is all in memory by then anyway, so this holds no more than packing one
by one did; on the 2-core VM it halves the ~0.75 s that packing KoBERT-base and KoGPT2 takes.

The token embeddings (GPT-2's 51,200 x 768 fp32 table is 157 MB, the largest float tensor, and
only ever looked up) are not loaded at all: :class:`FileLookup` reads the rows a step needs from
their own file. Memory-mapping them instead was measured to cost up to ~1 MB resident per row
touched (the page cache of a freshly written file on ext4 holds it in large folios, mapped
whole), so it would not have stayed small.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
import weakref
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


class FileLookup(nn.Module):
    """An embedding table that stays on disk: each lookup reads its rows with ``os.preadv``.

    A decoding step reads one 3 KB row per sequence and a prompt a few dozen, microseconds
    against a step's milliseconds; what was read sits in the page cache, shared and reclaimable,
    not in this process.
    """

    def __init__(self, path: Path, shape: list[int], dtype: str) -> None:
        super().__init__()
        if dtype != "float32":
            raise ValueError(f"unsupported table dtype {dtype}")
        self.path = path
        self.rows, self.width = int(shape[0]), int(shape[1])
        self.row_bytes = self.width * 4
        if path.stat().st_size != self.rows * self.row_bytes:
            raise ValueError(f"{path} does not hold a {self.rows} x {self.width} float32 table")
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        flat = ids.reshape(-1).tolist()
        out = torch.empty(len(flat), self.width, dtype=torch.float32)
        rows = out.numpy()  # a view: preadv fills the tensor in place
        for i, token in enumerate(flat):
            if not 0 <= token < self.rows:
                raise IndexError(f"token id {token} is outside the embedding's {self.rows} rows")
            if os.preadv(self.fd, [rows[i]], token * self.row_bytes) != self.row_bytes:
                raise OSError(f"short read from {self.path}")
        return out.view(*ids.shape, self.width)


# Threads that pack int8 weights: prepack is single-threaded, so two keep both cores of the VM
# busy; more would only queue on a 2-core host.
PACK_THREADS = 2
# A layer to pack: the dynamic int8 Linear, its saved int8 weight and its float bias.
PackJob = tuple[nn.Module, torch.Tensor, torch.Tensor | None]


def pack_all(jobs: list[PackJob], threads: int | None = None) -> None:
    """``layer.set_weight_bias(weight, bias)`` for every job, largest weight first, on ``threads``
    (default :data:`PACK_THREADS`).

    Largest first so that GPT-2's LM head (half of KoGPT2's int8 bytes, one call) starts at once
    and the blocks fill the other thread. Each job is dropped once packed, freeing its saved copy.
    """
    threads = max(1, PACK_THREADS if threads is None else threads)
    jobs.sort(key=lambda job: job[1].numel())  # popped from the end: largest first
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not jobs or errors:
                    return
                layer, weight, bias = jobs.pop()
            try:
                layer.set_weight_bias(weight, bias)  # type: ignore[operator]
            except BaseException as exc:  # re-raised on the calling thread
                with lock:
                    errors.append(exc)
                return
            del layer, weight, bias

    helpers = [threading.Thread(target=work, name="maeum-pack", daemon=True) for _ in range(threads - 1)]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]


class _State:
    """The saved state, consumed key by key so that each tensor is referenced once."""

    def __init__(self, state: dict[str, Any], quantized: dict[str, list[Any]]) -> None:
        self.state = state
        self.quantized = quantized
        # (layer, weight, bias) to pack once the skeleton is built (pack_all).
        self.to_pack: list[PackJob] = []

    def tensor(self, key: str) -> torch.Tensor:
        value: torch.Tensor = self.state.pop(key)  # assigned as it is: no second copy
        return value

    def norm(self, prefix: str, eps: float) -> nn.LayerNorm:
        weight = self.tensor(prefix + ".weight")
        ln = nn.LayerNorm(weight.shape[0], eps=eps, device="meta")
        ln.weight = nn.Parameter(weight, requires_grad=False)
        ln.bias = nn.Parameter(self.tensor(prefix + ".bias"), requires_grad=False)
        return ln

    def embedding(self, key: str) -> nn.Embedding:
        return nn.Embedding.from_pretrained(self.tensor(key), freeze=True)

    def linear(self, prefix: str) -> nn.Module:
        """A dynamic int8 Linear whose saved weight :meth:`pack` packs (and then drops)."""
        from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

        n_in, n_out, bias = self.quantized.pop(prefix)
        # A 1x1 placeholder; set_weight_bias packs the real weight as loading the state would.
        layer = DynamicQuantizedLinear(1, 1, bias_=bias)
        layer.in_features, layer.out_features = int(n_in), int(n_out)
        if self.state.pop(prefix + "._packed_params.dtype") != torch.qint8:
            raise ValueError(f"{prefix} is not int8")
        weight, bias_tensor = self.state.pop(prefix + "._packed_params._packed_params")
        self.to_pack.append((layer, weight, bias_tensor))  # fbgemm copies it into its packed layout
        layer.scale = float(self.state.pop(prefix + ".scale"))
        layer.zero_point = int(self.state.pop(prefix + ".zero_point"))
        return layer

    def pack(self) -> None:
        jobs, self.to_pack = self.to_pack, []
        pack_all(jobs)

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
    def __init__(self, s: _State, config: LeanConfig, wte: nn.Module) -> None:
        super().__init__()
        eps = float(config.layer_norm_epsilon)
        self.wte = wte
        self.wpe = s.embedding("transformer.wpe.weight")
        self.h = nn.ModuleList(_GPT2Block(s, f"transformer.h.{i}", eps) for i in range(int(config.n_layer)))
        self.ln_f = s.norm("transformer.ln_f", eps)


class LeanGPT2LMHead(nn.Module):
    """GPT-2 with int8 layers for :class:`~engine.inference.gpt2_decoder.GPT2Decoder` (which runs it)."""

    def __init__(self, s: _State, config: LeanConfig, wte: nn.Module) -> None:
        super().__init__()
        self.config = config
        self.transformer = _GPT2Body(s, config, wte)
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

    def __init__(self, s: _State, config: LeanConfig, word_embeddings: nn.Module) -> None:
        super().__init__()
        self.config = config
        eps = float(getattr(config, "layer_norm_eps", 1e-12))
        heads = int(config.num_attention_heads)
        self.word_embeddings = word_embeddings
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


def build(kind: Kind, config: LeanConfig, payload: dict[str, Any], where: Path) -> nn.Module:
    """The lean model of ``kind`` from a prepared payload of the checkpoint at ``where`` (consumed:
    its tensors move into the model)."""
    s = _State(payload.pop("state"), dict(payload.pop("quantized")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao quantization, see quantize.py
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        model: nn.Module
        if kind == "causal-lm":
            model = LeanGPT2LMHead(s, config, _lookup(s, payload, where, "transformer.wte.weight"))
        else:
            words = _lookup(s, payload, where, "bert.embeddings.word_embeddings.weight")
            model = LeanBertClassifier(s, config, words)
        s.pack()
    s.done()
    return model.eval()


def _lookup(s: _State, payload: dict[str, Any], where: Path, key: str) -> nn.Module:
    table = (payload.get("tables") or {}).get(key)
    if table is None:  # not saved apart: held in memory like the other tables
        return s.embedding(key)
    return FileLookup(where / table["file"], table["shape"], table["dtype"])


def is_lean(model: Any) -> bool:
    return isinstance(model, (LeanGPT2LMHead, LeanBertClassifier))
