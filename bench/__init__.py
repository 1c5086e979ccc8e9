"""``maeum bench``: the engine against the seed's way of running the same models, in one process.

Speed depends on the architecture, not on what the weights learned, so by default the models are
built at the real sizes (KoBERT-base: vocab 8002, 768 × 12 layers; KoGPT2-small: vocab 51200,
768 × 12 layers) with random weights, saved, and loaded through the users' code path. Real
checkpoints can be benched instead (``--emotion-model``/``--reply-model``); a trained emotion
checkpoint also gets the int8-vs-fp32 quality check on its held-out split.

The seed's way: emotion in fp32 padded to 64 tokens; replies by re-running the whole sequence for
every new token (no KV cache) in fp32; one message at a time. Every timed reply is exactly
``new_tokens`` long on both sides (EOS is suppressed until then), so the comparison is fair.

The package may import ``engine`` and ``training``; nothing imports it but the CLI.
"""

from bench.options import BenchOptions
from bench.report import Goal, Report, Row, percentiles
from bench.runner import run_bench

__all__ = ["BenchOptions", "Goal", "Report", "Row", "percentiles", "run_bench"]
