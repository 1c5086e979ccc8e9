"""A crisis rule: a phrase shape plus small context vetoes, so everyday idioms stay out.

Every pattern is linear (no nested quantifiers, bounded context windows), so a 20,000-character
or adversarial message cannot backtrack badly."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    category: str
    pattern: re.Pattern[str]
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None
    not_near: re.Pattern[str] | None
    needs_near: re.Pattern[str] | None
    span: int

    def fires(self, text: str) -> bool:
        for m in self.pattern.finditer(text):
            start, end = m.span()
            if self.not_before is not None and self.not_before.search(
                text[max(0, start - self.span) : start]
            ):
                continue
            if self.not_after is not None and self.not_after.match(text, end, end + self.span):
                continue
            if self.not_near is not None and self.not_near.search(
                text, max(0, start - self.span), end + self.span
            ):
                continue
            if self.needs_near is not None and not self.needs_near.search(
                text, max(0, start - self.span), end + self.span
            ):
                continue
            return True
        return False


def rule(
    category: str,
    pattern: str,
    *,
    before: str | None = None,
    after: str | None = None,
    near: str | None = None,
    needs: str | None = None,
    span: int = 24,
) -> Rule:
    """`before`/`after`/`near` veto a match; `needs` must appear near it."""
    return Rule(
        category,
        re.compile(pattern),
        re.compile(before) if before else None,
        re.compile(after) if after else None,
        re.compile(near) if near else None,
        re.compile(needs) if needs else None,
        span,
    )
