"""The reference point for every emotion number: char n-gram TF-IDF + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline


class TfidfBaseline:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], seed: int = 0) -> TfidfBaseline:
        pipeline = make_pipeline(
            # char_wb n-grams cope with Korean's agglutination and with typos without a tokenizer.
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1),
            LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced", random_state=seed),
        )
        pipeline.fit(list(texts), list(labels))
        return cls(pipeline)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(p) for p in self.pipeline.predict(list(texts))]
