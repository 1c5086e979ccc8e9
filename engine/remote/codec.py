"""The engine's neutral types as JSON and back, for the hop between a front-end and ``maeum serve``.

One generic codec over the dataclasses' own type hints, so a field added to a type travels without
anyone writing a serializer for it: datetimes and dates as ISO 8601 (timezone-aware stays aware),
bytes as base64, enums by value, time zones by name, tuples as lists."""

from __future__ import annotations

import base64
import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo

T = TypeVar("T")

__all__ = ["CodecError", "decode", "encode"]


class CodecError(ValueError):
    """A payload that does not have the shape its type says (a client or server of another version)."""


def encode(value: Any) -> Any:
    """A JSON-ready form of ``value`` (dataclasses, enums, datetimes, bytes, zones, containers)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ZoneInfo):
        return value.key
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(encode(k)): encode(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [encode(v) for v in value]
    raise CodecError(f"cannot encode a {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(kind: Any, data: Any) -> Any:
    """``data`` (from :func:`encode`, through JSON) back into ``kind``; raises :class:`CodecError`."""
    try:
        return _decode(kind, data)
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # Type names only: a payload can carry what someone wrote.
        raise CodecError(f"not a valid {getattr(kind, '__name__', kind)}: {type(exc).__name__}") from None


def _decode(kind: Any, data: Any) -> Any:
    if kind is Any:
        return data
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        options = get_args(kind)
        if data is None:
            if type(None) in options:
                return None
            raise CodecError("a required value is missing")
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, data)
            except (CodecError, TypeError, ValueError, KeyError):
                continue
        raise CodecError(f"no type of {kind} fits")
    if data is None:
        raise CodecError(f"a {getattr(kind, '__name__', kind)} is missing")
    if origin in (list, Sequence):
        (item,) = get_args(kind) or (Any,)
        return [_decode(item, v) for v in _list(data)]
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in _list(data))
        return tuple(_decode(a, v) for a, v in zip(args, _list(data), strict=True))
    if origin in (dict, Mapping):
        key_type, value_type = get_args(kind) or (Any, Any)
        if not isinstance(data, dict):
            raise CodecError("expected an object")
        return {_decode(key_type, k): _decode(value_type, v) for k, v in data.items()}
    if isinstance(kind, type):
        if issubclass(kind, enum.Enum):
            return kind(data)
        if kind is bool:
            if not isinstance(data, bool):
                raise CodecError("expected true or false")
            return data
        if kind is float:
            if isinstance(data, bool) or not isinstance(data, int | float):
                raise CodecError("expected a number")
            return float(data)
        if kind is int:
            if isinstance(data, bool) or not isinstance(data, int):
                raise CodecError("expected an integer")
            return data
        if kind is str:
            if not isinstance(data, str):
                raise CodecError("expected a string")
            return data
        if kind is datetime:
            return datetime.fromisoformat(data)
        if kind is date:
            return date.fromisoformat(data)
        if kind is bytes:
            return base64.b64decode(data, validate=True)
        if kind is ZoneInfo:
            return ZoneInfo(data)
        if dataclasses.is_dataclass(kind):
            if not isinstance(data, dict):
                raise CodecError(f"expected a {kind.__name__} object")
            hints = _hints(kind)
            values = {}
            for f in dataclasses.fields(kind):
                if f.name in data:
                    values[f.name] = _decode(hints[f.name], data[f.name])
                elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise CodecError(f"{kind.__name__}.{f.name} is missing")
            return kind(**values)
    raise CodecError(f"cannot decode into {kind}")


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise CodecError("expected a list")
    return data
