"""English (and leetspeak) crisis phrasings, read after the Korean rules found nothing."""

from __future__ import annotations

from engine.safety.rules import Rule
from engine.safety.rules import rule as _rule

ENGLISH_RULES: tuple[Rule, ...] = (
    _rule(
        "english",
        r"\b(?:want|wanna|wish|wished|going|gonna|plan|planning|ready|deserve|need) (?:to )?(?:just |"
        r"really |fucking )?die\b",
        after=r" (?:of|for|laughing|from|my|your|her|his)\b",
    ),
    _rule("english", r"\bkill(?:ing)? (?:my ?self|me ?self)\b", after=r" laughing"),
    _rule("english", r"\bkms\b", before=r"\d ?$"),
    _rule(
        "english",
        r"\bsuicid(?:e|al)\b",
        after=r" (?:squad|prevention|awareness|hotline|door|doors|run|runs|mission|bomb|bomber|bombing|"
        r"attack|attacks)\b",
    ),
    _rule(
        "english",
        r"\b(?:end|ending|take|taking) (?:my|my own) life\b|\bend (?:it|this) all\b|\bend it tonight\b",
    ),
    _rule(
        "english",
        r"\bself ?harm(?:ing)?\b|\bcutting myself\b|\b(?:cut|cutting|hurt|hurting|harm|harming|burn|"
        r"burning) myself (?:again|on purpose|deliberately)\b|\b(?:want|wanna|keep|kept|been|"
        r"started) (?:to )?(?:cut|cutting|hurt|hurting|harm|harming) myself\b",
    ),
    _rule(
        "english",
        r"\b(?:dont|do not|no longer|never) want to (?:live|be alive|exist|wake up)\b|\bno (?:reason|"
        r"point) (?:to|in) (?:live|living|go on|going on|being alive)\b|\bbetter off (?:dead|without me)\b|"
        r"\bwant to disappear\b|\bwish i (?:was|were) (?:dead|never born)\b|\bwish i (?:wasnt|"
        r"werent) (?:alive|born)\b|\bunalive (?:my ?self|me)\b|\bsewer ?slide\b|"
        r"\bdont want to be here anymore\b",
    ),
)

# Phonetic spellings people type when upset (연음): 주그면 = 죽으면, 주글래 = 죽을래.
