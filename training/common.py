"""What every training run shares: seeding, optimiser and schedule, mixed precision, resumable
checkpoints, and the loop that runs epochs with early stopping."""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_cosine_schedule_with_warmup

from engine.inference import resolve_device

log = logging.getLogger(__name__)

LAST = "last"  # the resumable checkpoint inside an output directory


@dataclass
class TrainConfig:
    """Defaults follow the seed (max_len 64, batch 64, lr 5e-5, AdamW, cosine with 10% warm-up,
    grad-norm clip 1), plus a real validation split and early stopping."""

    output_dir: Path
    base: str | None = None
    epochs: int = 5
    max_steps: int | None = None
    batch_size: int = 64
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_len: int = 64
    grad_clip: float = 1.0
    seed: int = 42
    patience: int = 3
    device: str = "auto"
    amp: bool = True
    resume: bool = False
    save_fp16: bool = False
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        return data


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on biases and LayerNorm weights (the seed's grouping)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.endswith("bias") or "LayerNorm" in name or "layernorm" in name or ".ln_" in name:
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def batches(items: list[Any], size: int, shuffle: bool, rng: random.Random) -> Iterator[list[Any]]:
    order = list(range(len(items)))
    if shuffle:
        rng.shuffle(order)
    for start in range(0, len(order), size):
        yield [items[i] for i in order[start : start + size]]


class Precision:
    """bf16 autocast on GPUs that have it, fp16 with a grad scaler on older ones, fp32 on CPU."""

    def __init__(self, device: torch.device, enabled: bool) -> None:
        self.device = device
        self.dtype: torch.dtype | None = None
        if enabled and device.type == "cuda":
            self.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.dtype is torch.float16)

    def autocast(self) -> AbstractContextManager[Any]:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)


@dataclass
class LoopState:
    epoch: int = 0
    step: int = 0
    best: float = -math.inf
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


Evaluate = Callable[[], dict[str, float]]
LossFn = Callable[[list[Any]], torch.Tensor]


class Trainer:
    """A plain loop: epochs of shuffled batches, evaluation after each epoch, early stopping on
    ``monitor``, the best weights saved to ``output_dir``, everything resumable from ``output_dir/last``."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        config: TrainConfig,
        loss_fn: LossFn,
        evaluate: Evaluate,
        monitor: str,
        higher_is_better: bool = True,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.loss_fn = loss_fn
        self.evaluate = evaluate
        self.monitor = monitor
        self.sign = 1.0 if higher_is_better else -1.0
        self.device = resolve_device(config.device)
        self.model.to(self.device)  # type: ignore[arg-type]
        self.precision = Precision(self.device, config.amp)
        self.state = LoopState()

    def fit(self, train_items: list[Any]) -> LoopState:
        cfg = self.config
        steps_per_epoch = max(1, math.ceil(len(train_items) / cfg.batch_size))
        total = cfg.max_steps or steps_per_epoch * cfg.epochs
        optimizer = torch.optim.AdamW(param_groups(self.model, cfg.weight_decay), lr=cfg.lr)
        schedule = get_cosine_schedule_with_warmup(optimizer, int(total * cfg.warmup_ratio), total)
        if cfg.resume:
            self._resume(optimizer, schedule)
        rng = random.Random(cfg.seed + self.state.epoch)
        bar = tqdm(total=total, initial=self.state.step, disable=not cfg.progress, desc="train")
        # With --max-steps the step count decides; otherwise the epoch count does.
        while self.state.step < total:
            self.model.train()
            running = 0.0
            seen = 0
            for batch in batches(train_items, cfg.batch_size, True, rng):
                with self.precision.autocast():
                    loss = self.loss_fn(batch)
                self.precision.scaler.scale(loss).backward()
                self.precision.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                self.precision.scaler.step(optimizer)
                self.precision.scaler.update()
                optimizer.zero_grad(set_to_none=True)
                schedule.step()
                self.state.step += 1
                running += float(loss.detach()) * len(batch)
                seen += len(batch)
                bar.update(1)
                bar.set_postfix(loss=f"{running / seen:.4f}")
                if not cfg.progress and self.state.step % 50 == 0:
                    log.info("step %d/%d, train loss %.4f", self.state.step, total, running / seen)
                if self.state.step >= total:
                    break
            self.state.epoch += 1
            metrics = {"epoch": float(self.state.epoch), "step": float(self.state.step)}
            metrics["train_loss"] = running / max(seen, 1)
            self.model.eval()
            with torch.inference_mode():
                metrics.update(self.evaluate())
            self.state.history.append(metrics)
            log.info("epoch %d: %s", self.state.epoch, json.dumps(metrics))
            score = self.sign * metrics[self.monitor]
            if score > self.state.best:
                self.state.best = score
                self.state.bad_epochs = 0
                self.save_best()
            else:
                self.state.bad_epochs += 1
            self._save_last(optimizer, schedule)
            if self.state.bad_epochs >= cfg.patience:
                log.info("early stop: %s did not improve for %d epochs", self.monitor, cfg.patience)
                break
            if not cfg.max_steps and self.state.epoch >= cfg.epochs:
                break
        bar.close()
        return self.state

    def save_best(self) -> None:
        out = self.config.output_dir
        out.mkdir(parents=True, exist_ok=True)
        model = self.model
        if self.config.save_fp16:
            # Half the size on disk; the engine loads it back in float32 on CPU.
            model = _half_copy(self.model)
        model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)

    def _save_last(self, optimizer: torch.optim.Optimizer, schedule: Any) -> None:
        last = self.config.output_dir / LAST
        last.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(last)
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "scaler": self.precision.scaler.state_dict(),
                "torch_rng": torch.get_rng_state(),
            },
            last / "trainer_state.pt",
        )
        state = asdict(self.state)
        (last / "loop_state.json").write_text(json.dumps(state), encoding="utf-8")

    def _resume(self, optimizer: torch.optim.Optimizer, schedule: Any) -> None:
        last = self.config.output_dir / LAST
        if not (last / "loop_state.json").is_file():
            log.info("nothing to resume in %s; starting fresh", last)
            return
        weights = type(self.model).from_pretrained(last)
        self.model.load_state_dict(weights.state_dict())
        saved = torch.load(last / "trainer_state.pt", weights_only=False)
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        self.precision.scaler.load_state_dict(saved["scaler"])
        torch.set_rng_state(saved["torch_rng"])
        self.state = LoopState(**json.loads((last / "loop_state.json").read_text(encoding="utf-8")))
        log.info("resumed at epoch %d, step %d", self.state.epoch, self.state.step)

    def finish(self) -> None:
        """Drop the resumable state once a run has ended well (it is as big as the model)."""
        shutil.rmtree(self.config.output_dir / LAST, ignore_errors=True)


def _half_copy(model: PreTrainedModel) -> PreTrainedModel:
    import copy

    clone = copy.deepcopy(model).to("cpu")  # type: ignore[arg-type]
    return clone.half()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
