"""Turning fetched bytes into text: which charset a page is in.

Order of evidence (first one that decodes the bytes cleanly wins):

1. the ``charset`` parameter of the HTTP ``Content-Type`` header,
2. a byte-order mark,
3. a ``<meta charset>`` / ``<meta http-equiv=content-type>`` in the first 4 KiB,
4. strict UTF-8 (most of the web; cheap to check),
5. UTF-8 with replacement characters when the bytes are mostly valid UTF-8
   (a few broken bytes must not make the whole page mojibake),
6. charset-normalizer's detection on a sample.

One exception to that order: bytes that contain non-ASCII and are valid UTF-8
are read as UTF-8 whatever a header or meta says, because legacy single-byte
text is practically never valid multi-byte UTF-8 while mislabelled UTF-8 pages
are common.

A declaration that does not decode the bytes (a wrong header or meta, common
on old sites) is skipped rather than trusted.  If nothing decodes cleanly the
best guess is used with replacement characters and ``had_errors`` is set.
Latin-1 and ASCII labels are read as windows-1252, as browsers do.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_SCAN_BYTES = 4096
_DETECT_SAMPLE_BYTES = 64 * 1024

_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in practice; gb2312 pages are gb18030.
_ALIASES = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso-8859-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
    "tis-620": "cp874",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of decoding: text, the codec used, where it came from."""

    text: str
    encoding: str
    source: str
    had_errors: bool
    bom_length: int = 0


def normalize_label(label: str) -> str | None:
    """Map a charset label to a Python codec name, or None if unknown."""
    key = label.strip().strip("\"'").lower()
    key = _ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    # Text-transform pseudo codecs (base64, rot13 ...) cannot read a page.
    if name in {"base64", "hex", "rot-13", "zlib", "bz2", "quopri", "uu"}:
        return None
    return _ALIASES.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return normalize_label(match.group(1)) if match else None


def sniff_meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
    if not match:
        return None
    label = normalize_label(match.group(1).decode("ascii", "ignore"))
    # A page that is readable as ASCII cannot really be UTF-16 (meta says so
    # after a server-side transcode); browsers treat that as UTF-8.
    if label and label.startswith("utf-16"):
        return "utf-8"
    return label


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset the header (or, without one, a BOM or the meta tag) declares.

    ``"utf-8"`` for a UTF-8 BOM and ``"bom"`` for a UTF-16/32 one; None when
    nothing (or no label naming a codec) is declared.
    """
    header = charset_from_content_type(content_type)
    if header is not None:
        return header
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "bom"
    return sniff_meta_charset(data)


def declares_utf8(data: bytes, content_type: str | None = None) -> bool:
    """True when the header (or, without one, the meta tag or a BOM) says UTF-8.

    Lets a caller hand such bytes to a UTF-8 parser without decoding them
    first, as browsers do, and check the result for U+FFFD afterwards.
    """
    header = charset_from_content_type(content_type)
    if header is not None:
        return header == "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        return True
    return sniff_meta_charset(data) == "utf-8"


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    results = from_bytes(data[:_DETECT_SAMPLE_BYTES])
    best = results.best()
    if best is None:
        return None
    # Single-byte Latin codecs often tie on short samples; the web's default
    # (windows-1252) is the likeliest of the tied ones.
    for match in results:
        if match.encoding == "cp1252" and match.chaos <= best.chaos:
            return "cp1252"
    return normalize_label(best.encoding)


def decode(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode ``data`` following the order of evidence in the module docstring."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(name, "replace")
            return Decoded(text, name, "bom", "\ufffd" in text, len(bom))
    candidates: list[tuple[str, str]] = []
    header = charset_from_content_type(content_type)
    if header:
        candidates.append((header, "header"))
    meta = sniff_meta_charset(data)
    if meta:
        candidates.append((meta, "meta"))
    if not data.isascii():
        utf8 = _try(data, "utf-8")
        if utf8 is not None:
            declared = [src for enc, src in candidates if enc == "utf-8"]
            return Decoded(utf8, "utf-8", declared[0] if declared else "utf-8", False)
    candidates.append(("utf-8", "utf-8"))
    for encoding, source in candidates:
        decoded = _try(data, encoding)
        if decoded is not None:
            return Decoded(decoded, encoding, source, False)
    # Mostly UTF-8 with a few broken bytes (a bad splice, a truncated
    # character): keep UTF-8 and mark the damage rather than mis-decode it all.
    lossy = data.decode("utf-8", "replace")
    bad = lossy.count("\ufffd")
    non_ascii = len(lossy) - len(lossy.encode("ascii", "ignore"))
    if non_ascii - bad >= 4 * bad:
        return Decoded(lossy, "utf-8", "utf-8-lossy", True)
    detected = _detect(data)
    if detected:
        decoded = _try(data, detected)
        if decoded is not None:
            return Decoded(decoded, detected, "detected", False)
    # Nothing decodes cleanly: trust the first declaration, else UTF-8.
    fallback = detected or candidates[0][0]
    return Decoded(data.decode(fallback, "replace"), fallback, "fallback", True)


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a fetched page; returns ``(text, encoding_used)``.

    Never raises: undecodable bytes become U+FFFD.
    """
    result = decode(data, content_type)
    return result.text, result.encoding
