"""URL canonicalization: one article reached by several URLs is stored once.

Only changes that cannot point at a different document are made: scheme and
host case, default ports, fragments, known tracking parameters, parameter
order, percent-encoding of unreserved characters, and AMP variants mapped to
their regular page (``amp.`` hosts, ``/amp`` path segments, ``.amp.html``,
``?amp=1``, ``outputType=amp``).  ``rel=canonical``/``og:url`` are applied
after the fetch by :mod:`ingest.normalize`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi",
        "ref_src", "ref_url", "cmpid", "ncid", "ocid", "smid", "sr_share", "s_cid", "spm",
        "__twitter_impression", "amp", "outputtype", "guccounter", "guce_referrer",
        "guce_referrer_sig", "rss", "feedtype", "mkt_tok", "wt.mc_id", "icid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "oly_", "vero_", "hsa_", "itm_", "ga_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AMP_PATH = re.compile(r"(/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))", re.I)
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def _is_tracking(key: str) -> bool:
    low = key.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def _normalize_escapes(path: str) -> str:
    """Decode %XX of unreserved characters, upper-case the rest (RFC 3986 §6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return quote(_ESCAPE.sub(fix, path), safe=_PATH_SAFE)


def canonicalize(url: str, *, drop_amp: bool = True) -> str:
    """Normalize ``url`` for identity (see the module docstring).

    Raises ``ValueError`` for a URL that cannot be parsed (bad port, broken IPv6).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if drop_amp and host.startswith("amp."):
        host = host[4:]
    port = parts.port
    netloc = host
    if parts.hostname and ":" in host:
        netloc = f"[{host}]"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    path = _normalize_escapes(parts.path)
    if drop_amp:
        path = _AMP_PATH.sub("", path)
    path = path or "/"
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def try_canonicalize(url: str) -> str | None:
    """:func:`canonicalize`, or ``None`` for an unparseable or non-http(s) URL (for link lists)."""
    try:
        canonical = canonicalize(url)
    except ValueError:
        return None
    return canonical if canonical.startswith(("http://", "https://")) else None


def absolute(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; ``None`` for non-http links (mailto:, javascript:)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def host_of(url: str) -> str:
    """``host`` or ``host:port`` — the unit the politeness budget is kept per."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def same_site(a: str, b: str) -> bool:
    """True when two URLs share a registrable-looking domain (last two labels)."""
    ha, hb = (urlsplit(u).hostname or "" for u in (a, b))
    return ha.split(".")[-2:] == hb.split(".")[-2:]
