"""Site rules: small declarative specs (TOML files in this folder) per outlet.

A rule is chosen by the URL's host and overrides the generic extractor only
where it gives something: a body selector, title/date/author selectors, extra
chrome to drop, a site time zone, an optional Python hook.  See ``README.md``
here for the format and how to add a site.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from scrapers.dates import parse_date, parse_offset
from scrapers.errors import RuleError

if TYPE_CHECKING:
    from scrapers.metadata import Metadata
    from scrapers.model import ExtractedArticle

RULES_DIR = Path(__file__).parent
_KEYS = frozenset(
    {"name", "hosts", "timezone", "body", "title", "published", "authors", "drop", "hook",
     "description"}
)  # fmt: skip
Hook = Callable[["ExtractedArticle", Any], "ExtractedArticle"]


@dataclass(frozen=True)
class Rule:
    """One site's spec, validated."""

    name: str
    hosts: tuple[str, ...]
    timezone: tzinfo | None = None
    body: str | None = None
    title: str | None = None
    published: str | None = None
    authors: str | None = None
    drop: tuple[str, ...] = ()
    hook: str | None = None
    source: str = ""
    _hook_fn: Hook | None = field(default=None, compare=False, repr=False)

    def matches(self, host: str) -> int:
        """Length of the matching host pattern (0 = no match), longest wins."""
        host = host.lower().rstrip(".")
        best = 0
        for pattern in self.hosts:
            if host == pattern or host.endswith("." + pattern):
                best = max(best, len(pattern))
        return best

    def body_node(self, tree: Any) -> Any:
        return tree.css_first(self.body) if self.body else None

    def drop_ids(self, tree: Any) -> set[int] | None:
        if not self.drop:
            return None
        ids: set[int] = set()
        for selector in self.drop:
            ids.update(node.mem_id for node in tree.css(selector))
        return ids

    def apply_metadata(self, tree: Any, meta: Metadata) -> None:
        """Override metadata fields this rule has selectors for (when they match)."""
        origin = f"rule:{self.name}"
        tz = self.timezone
        if self.title:
            node = tree.css_first(self.title)
            text = " ".join(node.text(separator=" ").split()) if node is not None else ""
            if text:
                meta.title = text
                meta.provenance["title"] = origin
        if self.published:
            node = tree.css_first(self.published)
            if node is not None:
                attrs = node.attributes
                raw = attrs.get("datetime") or attrs.get("content") or node.text(separator=" ")
                when = parse_date(raw, tz) if tz else parse_date(raw)
                if when is not None:
                    meta.published_at = when
                    meta.provenance["published_at"] = origin
        if self.authors:
            names = [" ".join(n.text(separator=" ").split()) for n in tree.css(self.authors)]
            names = [n for n in dict.fromkeys(names) if n]
            if names:
                meta.authors = tuple(names)
                meta.provenance["authors"] = origin

    def run_hook(self, article: ExtractedArticle, tree: Any) -> ExtractedArticle:
        if self._hook_fn is None:
            return article
        result = self._hook_fn(article, tree)
        return result if result is not None else article


def _selector(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{where}: {key!r} must be a non-empty CSS selector string")
    try:
        LexborHTMLParser("<p></p>").css(value)
    except (SelectolaxError, ValueError) as exc:
        raise RuleError(f"{where}: {key!r} is not a valid CSS selector: {value!r}") from exc
    return value.strip()


def parse_rule(data: dict[str, Any], source: str = "<rule>") -> Rule:
    """Validate one rule's data (as read from TOML) into a :class:`Rule`."""
    from scrapers.rules.hooks import HOOKS

    unknown = set(data) - _KEYS
    if unknown:
        raise RuleError(f"{source}: unknown key(s) {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError(f"{source}: 'name' is required")
    hosts = data.get("hosts")
    if (
        not isinstance(hosts, list)
        or not hosts
        or not all(isinstance(h, str) and h.strip() and "/" not in h for h in hosts)
    ):
        raise RuleError(f"{source}: 'hosts' must be a non-empty list of host names")
    tz = None
    if "timezone" in data:
        tz = parse_offset(str(data["timezone"]))
        if tz is None:
            raise RuleError(f"{source}: 'timezone' must be an offset like '+05:00'")
    selectors = {
        key: _selector(data[key], key, source)
        for key in ("body", "title", "published", "authors")
        if key in data
    }
    drop = data.get("drop", [])
    if not isinstance(drop, list):
        raise RuleError(f"{source}: 'drop' must be a list of CSS selectors")
    drop_t = tuple(_selector(s, "drop", source) for s in drop)
    hook = data.get("hook")
    hook_fn = None
    if hook is not None:
        if not isinstance(hook, str) or hook not in HOOKS:
            raise RuleError(f"{source}: unknown hook {hook!r} (known: {sorted(HOOKS)})")
        hook_fn = HOOKS[hook]
    return Rule(
        name=name.strip(),
        hosts=tuple(h.strip().lower().removeprefix("www.") for h in hosts),
        timezone=tz,
        drop=drop_t,
        hook=hook,
        source=source,
        _hook_fn=hook_fn,
        **selectors,
    )


def load_rule(path: Path) -> Rule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path.name}: cannot read rule: {exc}") from exc
    return parse_rule(data, path.name)


def load_rules(directory: Path = RULES_DIR) -> tuple[Rule, ...]:
    """Load and validate every ``*.toml`` rule in ``directory``."""
    rules = tuple(load_rule(p) for p in sorted(directory.glob("*.toml")))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise RuleError(f"duplicate rule names in {directory}")
    return rules


@functools.cache
def builtin_rules() -> tuple[Rule, ...]:
    return load_rules(RULES_DIR)


def rule_for_host(host: str | None, rules: Iterable[Rule] | None = None) -> Rule | None:
    """The rule whose host pattern matches ``host`` most specifically."""
    if not host:
        return None
    best: Rule | None = None
    best_len = 0
    for rule in builtin_rules() if rules is None else rules:
        n = rule.matches(host)
        if n > best_len:
            best, best_len = rule, n
    return best


__all__ = ["Rule", "builtin_rules", "load_rule", "load_rules", "parse_rule",
           "rule_for_host"]  # fmt: skip
