"""Choosing the next token: the repetition controls and sampling that ``generate`` applied, on tensors.

The same rules as transformers' processors, in the same order (repetition penalty, no-repeat
n-grams, minimum length, then temperature, top-k, top-p), computed for a whole batch per step
without a processor list to walk. Top-p runs on the top-k candidates only, so it sorts 50 scores
instead of the 51,200 of KoGPT2's vocabulary: the same tokens survive, because top-p keeps a
subset of what top-k kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from engine.inference.requests import SamplingRules


class NgramBlocker:
    """Bans, for one sequence, every token that would repeat an n-gram it already contains."""

    def __init__(self, n: int, tokens: Sequence[int] = ()) -> None:
        self.n = n
        self.tokens: list[int] = []
        self._next: dict[tuple[int, ...], set[int]] = {}
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        for token in tokens:
            self.tokens.append(int(token))
            if self.n > 0 and len(self.tokens) >= self.n:
                prefix = tuple(self.tokens[-self.n : -1])
                self._next.setdefault(prefix, set()).add(self.tokens[-1])

    def banned(self) -> set[int]:
        if self.n <= 0 or len(self.tokens) < self.n - 1:
            return set()
        prefix = tuple(self.tokens[len(self.tokens) - self.n + 1 :])
        return self._next.get(prefix, set())


class TokenChooser:
    """Per-step token choice for a batch; keeps what each row has seen so far."""

    def __init__(
        self,
        rules: SamplingRules,
        prompts: Sequence[Sequence[int]],
        device: torch.device,
        *,
        eos_id: int,
        max_new_tokens: int,
        min_new_tokens: int = 0,
    ) -> None:
        self.rules = rules
        self.eos_id = eos_id
        self.min_new_tokens = min_new_tokens
        self.steps = 0
        # Every token each row has seen, prompt included, as (batch, seen) ids: the penalty then
        # touches only those scores instead of a (batch, vocab) mask. Short rows repeat their
        # first token as filler, which changes nothing (the same score is penalised once).
        longest = max((len(p) for p in prompts), default=0)
        history = torch.zeros(len(prompts), longest + max_new_tokens, dtype=torch.long)
        for row, prompt in enumerate(prompts):
            if prompt:
                history[row, : len(prompt)] = torch.tensor(list(prompt), dtype=torch.long)
                history[row, len(prompt) :] = int(prompt[0])
        self.history = history.to(device)
        self.filled = longest
        self.blockers = [NgramBlocker(rules.no_repeat_ngram_size, p) for p in prompts]

    def choose(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits`` (batch, vocab) for the next position → chosen token ids (batch,)."""
        rules = self.rules
        scores = logits.float().clone()
        if rules.repetition_penalty != 1.0 and self.filled:
            seen = self.history[:, : self.filled]
            picked = scores.gather(1, seen)
            picked = torch.where(
                picked < 0, picked * rules.repetition_penalty, picked / rules.repetition_penalty
            )
            scores.scatter_(1, seen, picked)
        for row, blocker in enumerate(self.blockers):
            banned = blocker.banned()
            if banned:
                scores[row, list(banned)] = -float("inf")
        if self.steps < self.min_new_tokens:
            scores[:, self.eos_id] = -float("inf")
        if rules.do_sample:
            chosen = self._sample(scores)
        else:
            chosen = scores.argmax(dim=-1)
        self._remember(chosen)
        return chosen

    def _sample(self, scores: torch.Tensor) -> torch.Tensor:
        rules = self.rules
        k = min(rules.top_k, scores.shape[-1]) if rules.top_k > 0 else scores.shape[-1]
        values, indices = scores.topk(k, dim=-1)  # sorted, largest first
        probs = torch.softmax(values / max(rules.temperature, 1e-5), dim=-1)
        if rules.top_p < 1.0:
            # Keep the most likely tokens until their mass reaches top_p (the first always stays).
            before = probs.cumsum(dim=-1) - probs
            probs = probs.masked_fill(before >= rules.top_p, 0.0)
        picked = torch.multinomial(probs, num_samples=1)
        return indices.gather(-1, picked).squeeze(-1)

    def _remember(self, chosen: torch.Tensor) -> None:
        self.steps += 1
        if self.filled < self.history.shape[1]:
            self.history[:, self.filled] = chosen
            self.filled += 1
        for blocker, token in zip(self.blockers, chosen.tolist(), strict=True):
            blocker.extend((token,))
