"""URL canonicalization: one article reached by several URLs is stored once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid",
        "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "cmpid", "ncid", "ocid", "smid", "sr_share",
        "spm", "share", "s_cid", "cid", "__twitter_impression", "amp", "outputtype",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "oly_", "vero_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AMP_PATH = re.compile(r"(/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$)|\.amp\.html?$)", re.I)


def _is_tracking(key: str) -> bool:
    low = key.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def canonicalize(url: str, *, drop_amp: bool = True) -> str:
    """Normalize ``url`` for identity: scheme/host case, default port, fragment,
    tracking parameters, parameter order, percent-encoding and (optionally) AMP paths.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("amp.") and drop_amp:
        host = host[4:]
    port = parts.port
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%")
    if drop_amp:
        path = _AMP_PATH.sub("", path) or "/"
    path = path or "/"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def absolute(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; ``None`` for non-http links (mailto:, javascript:)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    joined = urljoin(base, href)
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def same_site(a: str, b: str) -> bool:
    """True when two URLs share a registrable-looking domain (last two labels)."""
    ha, hb = (urlsplit(u).hostname or "" for u in (a, b))
    return ha.split(".")[-2:] == hb.split(".")[-2:]
