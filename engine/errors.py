"""Errors the engine raises on purpose; each message says what to do next."""

from __future__ import annotations


class MaeumError(Exception):
    """Base class for errors meant to be shown to an operator as one sentence."""


class ModelLoadError(MaeumError):
    """A model named by the settings is missing or cannot be loaded."""

    def __init__(self, role: str, location: str, setting: str, command: str, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"The {role} model at '{location}' could not be loaded{detail}. "
            f"Set {setting} to a trained checkpoint directory or hub id, or make one with `{command}`."
        )
        self.role = role
        self.location = location
        self.setting = setting


class EngineClosedError(MaeumError):
    """The inference worker was stopped; the request was not run."""


class StoreUnavailableError(MaeumError):
    """The database could not be reached or stayed locked after retries."""


class CheckinError(ValueError):
    """A check-in or time-zone request that cannot be honoured; the message is for the person, in
    Korean, and adapters show it as it is."""


class EngineUnavailableError(MaeumError):
    """A remote engine (``MAEUM_ENGINE_URL``) could not be reached, refused the token or kept failing."""
