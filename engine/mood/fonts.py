"""Hangul fonts for every chart the project draws (mood report, training reports).

NanumGothic ships inside koreanize_matplotlib; we load it by path and never import that package,
because importing it rewrites matplotlib's global rcParams for the whole process."""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path
from typing import Final

from matplotlib.font_manager import FontProperties

# Matplotlib does not promise thread-safety even for separate figures (shared font caches).
RENDER_LOCK: Final = threading.Lock()


@cache
def font_file(name: str) -> Path:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("koreanize-matplotlib is required for Korean fonts in charts")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / name
    if not path.is_file():
        raise RuntimeError(f"bundled font not found: {path}")
    return path


def korean_font(size: float, bold: bool = False) -> FontProperties:
    # A fresh FontProperties per use: they are mutable, so sharing one would be a race.
    name = "NanumGothicBold.ttf" if bold else "NanumGothic.ttf"
    return FontProperties(fname=font_file(name), size=size)
