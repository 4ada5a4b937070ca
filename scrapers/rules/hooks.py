"""Python hooks a site rule may name (``hook = "name"``) for what CSS cannot say.

A hook takes the extracted article and the parsed tree and returns the
article, changed.  Keep them small and general; register each in ``HOOKS``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from scrapers.model import ExtractedArticle

_PUBLISHED = re.compile(r"\s*\b(?:published|posted|updated)\b.*$", re.IGNORECASE | re.DOTALL)


def published_byline(article: ExtractedArticle, tree: Any) -> ExtractedArticle:
    """Bylines like ``Muhammad Irfan Published September 10, 2025 | 04:40 PM``.

    The rule points both ``authors`` and ``published`` at the byline; the
    date parser finds the date in it, this hook cuts the name out of it.
    """
    names = tuple(n for n in (_PUBLISHED.sub("", a).strip(" |,") for a in article.authors) if n)
    if names == article.authors:
        return article
    return dataclasses.replace(article, authors=names)


HOOKS: dict[str, Callable[[ExtractedArticle, Any], ExtractedArticle]] = {
    "published_byline": published_byline,
}
