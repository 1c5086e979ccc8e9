"""The crisis card, before anything else: shared by the conversation service and by a front-end
that talks to a remote engine (which must still show the card when that engine is down)."""

from __future__ import annotations

from datetime import datetime

from engine.conversation.text import clean_input
from engine.safety import CRISIS_CARD, THIRD_PARTY_CARD, CrisisScreen, CrisisVerdict, bounded
from engine.types import ConversationResult, IncomingMessage, Receipt, ReplySource

__all__ = ["screen_message"]


def screen_message(
    screen: CrisisScreen, message: IncomingMessage, now: datetime
) -> tuple[CrisisVerdict, ConversationResult | None]:
    """The screen's verdict on the message (its text, quotes and recent short messages), and the
    card to send when it is a crisis."""
    text = clean_input(bounded(message.text))
    quoted = tuple(clean_input(bounded(q)) for q in message.quoted if q)
    verdict = screen.check(message.user.key, text, quoted, now=now, forwarded=message.forwarded)
    if not verdict.is_crisis:
        return verdict, None
    card = THIRD_PARTY_CARD if verdict.about_someone_else else CRISIS_CARD
    receipt = Receipt(message.user, now, message.update_id)
    return verdict, ConversationResult(reply=card, source=ReplySource.CRISIS, receipt=receipt)
