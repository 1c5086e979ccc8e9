"""A guard that refuses any connection or name lookup that is not loopback, for the platform tests.

The adapters are pointed at fake servers on 127.0.0.1; if anything (a default base URL, a missed
setting) tried to reach the real Telegram or Discord, the test fails instead of sending traffic."""

from __future__ import annotations

import socket
from typing import Any

import pytest

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class NetworkGuard:
    def __init__(self) -> None:
        self.refused: list[str] = []

    def check(self, host: object) -> None:
        if host is None or host in LOOPBACK_HOSTS:
            return
        self.refused.append(str(host))
        raise ConnectionRefusedError(f"test network guard: refused non-loopback address {host!r}")

    def check_address(self, address: Any) -> None:
        # AF_UNIX paths (str/bytes) are local by nature; inet addresses are (host, port, ...).
        if isinstance(address, tuple):
            self.check(address[0])


def install(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        guard.check_address(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check_address(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check(host.decode() if isinstance(host, bytes) else host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard
