"""The conversation: one message in, one reply out. The service and its reply policy, input
cleaning, per-person rate limits and short-lived context (in memory only)."""

from engine.conversation.bank import ReplyBank, Situation, check_bank
from engine.conversation.context import ContextMemory
from engine.conversation.ratelimit import RateLimiter
from engine.conversation.reflective import reflective_reply
from engine.conversation.service import ConversationPolicy, ConversationService, Inference
from engine.conversation.text import clean_input

__all__ = [
    "ContextMemory",
    "ConversationPolicy",
    "ConversationService",
    "Inference",
    "RateLimiter",
    "ReplyBank",
    "Situation",
    "check_bank",
    "clean_input",
    "reflective_reply",
]
