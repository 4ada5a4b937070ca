"""Bounded decoding of ``Content-Encoding`` (gzip, deflate, br).

httpx decodes a whole network chunk at once, so a 40 KB gzip bomb chunk can
become gigabytes before any size check runs.  Here every decompressor call is
capped to what is left of the body budget, so a bomb stops at the cap with
:class:`BodyTooLarge` and memory stays bounded by the cap.  zstd is not
offered: its streaming API cannot bound the output of one call.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

try:  # optional: brotli comes with httpx[brotli]
    import brotli as _brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - depends on the install
    _brotli = None

class BodyTooLarge(Exception):
    """The decoded body passed the cap."""


class BadEncoding(Exception):
    """The body is not valid for its declared ``Content-Encoding`` (or the coding is unknown)."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


def accept_encoding() -> str:
    """The ``Accept-Encoding`` we can honour with bounded decoders."""
    codings = ["gzip", "deflate"]
    if _brotli is not None:
        codings.append("br")
    return ", ".join(codings)


class _Identity:
    def __init__(self, limit: int) -> None:
        self._left = limit

    def feed(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise BodyTooLarge
        return data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    """gzip and deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, limit: int, wbits: int) -> None:
        self._left = limit
        self._wbits = wbits
        self._obj = zlib.decompressobj(wbits)
        self._first = True

    def feed(self, data: bytes) -> bytes:
        if self._first and self._wbits == zlib.MAX_WBITS and data and (data[0] & 0x0F) != 8:
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate without zlib header
        self._first = False
        out: list[bytes] = []
        buf = data
        try:
            while True:
                chunk = self._obj.decompress(buf, self._left + 1)
                self._take(chunk)
                out.append(chunk)
                buf = self._obj.unconsumed_tail
                if not buf:
                    break
        except zlib.error as exc:
            raise BadEncoding(str(exc)) from None
        return b"".join(out)

    def _take(self, chunk: bytes) -> None:
        self._left -= len(chunk)
        if self._left < 0:
            raise BodyTooLarge

    def flush(self) -> bytes:
        try:
            rest = self._obj.flush()
        except zlib.error as exc:
            raise BadEncoding(str(exc)) from None
        self._take(rest)
        return rest


class _Brotli:
    def __init__(self, limit: int) -> None:
        assert _brotli is not None
        self._left = limit
        self._obj = _brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        buf = data
        try:
            while True:
                chunk = self._obj.process(buf, output_buffer_limit=min(self._left + 1, 1 << 20))
                self._left -= len(chunk)
                if self._left < 0:
                    raise BodyTooLarge
                out.append(chunk)
                buf = b""
                if self._obj.can_accept_more_data():
                    break
        except _brotli.error as exc:
            raise BadEncoding(str(exc)) from None
        return b"".join(out)

    def flush(self) -> bytes:
        return b""



_FACTORIES: dict[str, Callable[[int], Decoder]] = {
    "identity": _Identity,
    "gzip": lambda limit: _Zlib(limit, 16 + zlib.MAX_WBITS),
    "x-gzip": lambda limit: _Zlib(limit, 16 + zlib.MAX_WBITS),
    "deflate": lambda limit: _Zlib(limit, zlib.MAX_WBITS),
}
if _brotli is not None:
    _FACTORIES["br"] = _Brotli


class _Chain:
    """Several codings applied in order (``Content-Encoding: gzip, br`` is decoded br first)."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.feed(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.feed(data) + decoder.flush() if data else decoder.flush()
        return data


def decoder_for(content_encoding: str | None, limit: int) -> Decoder:
    """A decoder whose total output may not pass ``limit`` bytes.

    Raises :class:`BadEncoding` for a coding we did not offer.
    """
    names = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    names = [n for n in names if n != "identity"] or ["identity"]
    decoders: list[Decoder] = []
    for name in reversed(names):
        factory = _FACTORIES.get(name)
        if factory is None:
            raise BadEncoding(f"unsupported Content-Encoding {name!r}")
        decoders.append(factory(limit))
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
