"""The conversation: one message in, one reply out. The service and its reply policy, input
cleaning, per-person rate limits and short-lived context (in memory only)."""

from engine.conversation.context import ContextMemory
from engine.conversation.empathy import NEGATIVE, empathetic_reply
from engine.conversation.ratelimit import RateLimiter
from engine.conversation.service import ConversationPolicy, ConversationService, Inference
from engine.conversation.text import clean_input

__all__ = [
    "NEGATIVE",
    "ContextMemory",
    "ConversationPolicy",
    "ConversationService",
    "Inference",
    "RateLimiter",
    "clean_input",
    "empathetic_reply",
]
