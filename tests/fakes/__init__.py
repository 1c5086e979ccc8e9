"""Loopback fakes of the platforms' APIs, for driving the real adapters end to end in tests."""
