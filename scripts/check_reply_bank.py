"""Validate the reply bank in data/replies (schema, counts, tone rules, duplicates, no crisis).

    python scripts/check_reply_bank.py [FILE ...]

Prints every problem and exits 1 when there is one. The rules are the ones in
data/replies/README.md, applied by engine/conversation/bank.py (the tests run the same check).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.conversation.bank import check_bank  # noqa: E402

LABELS = ("일상", "기쁨", "불안", "슬픔", "분노", "우울")


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((REPO / "data" / "replies").glob("*.json"))
    problems, counts = check_bank(files, LABELS)
    for problem in problems:
        print(problem)
    print(
        f"{counts['situations']} situations, {counts['messages']} messages, {counts['replies']} replies "
        f"in {len(files)} files; {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
