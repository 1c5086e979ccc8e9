"""The engine across a network hop: its versioned JSON API (``api``: the router any server can
host; ``codec``: the neutral types as JSON) and the front-end's client (``client.RemoteEngine``,
which keeps the crisis card independent of the engine). Ray Serve itself lives in ``serving/``."""

from engine.remote.api import API_VERSION, CALLS, ApiRouter, Response
from engine.remote.codec import CodecError, decode, encode

__all__ = ["API_VERSION", "CALLS", "ApiRouter", "CodecError", "Response", "decode", "encode"]
