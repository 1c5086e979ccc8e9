"""Which everyday situation of the reply bank a message is about: e5 embeddings under a linear
head over the situations, blended with character n-gram TF-IDF similarity to each situation's
examples, with temperatures chosen on held-out bank messages.

Measured on 815 held-out bank messages (163 situations; training/bank.py): situation accuracy@1
0.51 for e5 + logistic regression, 0.50 for e5 nearest centroid, 0.39 for char TF-IDF + logistic
regression, 0.36 for Kiwi morphemes + logistic regression; blends did not beat e5 alone. With 419
situations, the words people use started to matter ("이명", "49재", "햄스터" where e5 found only
"a noise", "a loss", "a pet"): e5 alone 0.46 on 1,300 held-out messages, blended with TF-IDF
centroids 0.48, and more of them sure (models/maeum-bank/config.json has this bank's figures)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.inference.encoder import E5Encoder
from engine.inference.tfidf import HashedTfidf

HEAD_FILE = "head.npz"
CONFIG_FILE = "config.json"
KIND = "maeum-bank"


@dataclass(frozen=True)
class SituationMatch:
    situation: str
    probability: float


@dataclass(frozen=True)
class LexicalCentroids:
    """Cosine similarity between a message's char n-gram TF-IDF and each situation's centroid (the
    normalised sum of its examples'), stored by feature: for hashed feature f, the situations
    ``situations[indptr[f]:indptr[f+1]]`` with centroid weights ``weights[...]``."""

    features: HashedTfidf
    indptr: np.ndarray  # int32 (dim + 1,)
    situations: np.ndarray  # int32
    weights: np.ndarray  # float32
    count: int  # how many situations

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.count), dtype=np.float32)
        for i, text in enumerate(texts):
            ids, values = self.features.row(text)
            for feature, value in zip(ids.tolist(), values.tolist(), strict=True):
                start, end = self.indptr[feature], self.indptr[feature + 1]
                if start != end:
                    np.add.at(out[i], self.situations[start:end], value * self.weights[start:end])
        return out

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[int], count: int, features: HashedTfidf
    ) -> LexicalCentroids:
        sums: list[dict[int, float]] = [{} for _ in range(count)]
        for text, label in zip(texts, labels, strict=True):
            ids, values = features.row(text)
            row = sums[label]
            for feature, value in zip(ids.tolist(), values.tolist(), strict=True):
                row[feature] = row.get(feature, 0.0) + value
        by_feature: dict[int, list[tuple[int, float]]] = {}
        for situation, row in enumerate(sums):
            norm = float(np.sqrt(sum(v * v for v in row.values()))) or 1.0
            for feature, value in row.items():
                by_feature.setdefault(feature, []).append((situation, value / norm))
        indptr = np.zeros(features.dim + 1, dtype=np.int32)
        owners: list[int] = []
        weights: list[float] = []
        for feature in range(features.dim):
            entries = by_feature.get(feature, ())
            owners += [s for s, _ in entries]
            weights += [w for _, w in entries]
            indptr[feature + 1] = len(owners)
        return cls(
            features, indptr, np.array(owners, dtype=np.int32), np.array(weights, dtype=np.float32), count
        )


def blended(
    e5_logits: np.ndarray,
    similarities: np.ndarray,
    weight: float,
    e5_temperature: float,
    lexical_temperature: float,
) -> np.ndarray:
    """z = (1 - weight) * e5 logits / e5_temperature + weight * similarities / lexical_temperature
    (the weight and both temperatures are chosen on validation: training/bank.py)."""
    z: np.ndarray = (1 - weight) * e5_logits / e5_temperature + weight * similarities / lexical_temperature
    return z


@dataclass(frozen=True)
class Blend:
    """The lexical part of the matcher and how it is :func:`blended` with the e5 head's logits."""

    lexical: LexicalCentroids
    weight: float
    e5_temperature: float
    lexical_temperature: float


@dataclass
class BankMatcher:
    situations: list[str]
    weights: np.ndarray  # (384, situations)
    bias: np.ndarray
    temperature: float
    encoder: E5Encoder | None = None
    top_k: int = 10  # enough for a domain's share of the probability
    blend: Blend | None = None

    def logits(self, vectors: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        z: np.ndarray = vectors @ self.weights + self.bias
        if self.blend is not None and texts is not None:
            b = self.blend
            z = blended(z, b.lexical.similarities(texts), b.weight, b.e5_temperature, b.lexical_temperature)
        return z

    def scores(self, vectors: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        z = self.logits(vectors, texts) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        result: np.ndarray = p / p.sum(axis=1, keepdims=True)
        return result

    def match(self, texts: Sequence[str]) -> list[list[SituationMatch]]:
        if self.encoder is None:
            raise RuntimeError("the bank matcher has no encoder")
        probs = self.scores(self.encoder.encode(texts), texts)
        out = []
        for row in probs:
            best = np.argsort(-row)[: self.top_k]
            out.append([SituationMatch(self.situations[i], float(row[i])) for i in best])
        return out

    @classmethod
    def load(cls, location: str | Path, encoder: E5Encoder | None) -> BankMatcher:
        path = Path(location)
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("kind") != KIND:
            raise ValueError(f"{path} is not a reply bank")
        head = np.load(path / HEAD_FILE)
        situations = [str(s) for s in config["situations"]]
        weights = head["weights"].astype(np.float32)
        if weights.shape[1] != len(situations):
            raise ValueError(f"{path}: the head does not match the situations")
        blend = None
        lexical = config.get("lexical")
        if lexical and "lex_indptr" in head:
            features = HashedTfidf(
                int(lexical["dim"]), int(lexical["max_n"]), head["lex_idf"].astype(np.float32)
            )
            centroids = LexicalCentroids(
                features,
                head["lex_indptr"].astype(np.int32),
                head["lex_situations"].astype(np.int32),
                head["lex_weights"].astype(np.float32),
                len(situations),
            )
            blend = Blend(
                centroids,
                float(lexical["weight"]),
                float(lexical["e5_temperature"]),
                float(lexical["temperature"]),
            )
        return cls(
            situations,
            weights,
            head["bias"].astype(np.float32),
            float(config["temperature"]),
            encoder,
            blend=blend,
        )
