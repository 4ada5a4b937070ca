"""Exceptions of the ``scrapers`` package.

Extraction itself never raises for bad input: it returns a result with
``flags`` saying why the body is empty or partial.  These exceptions are for
programming and configuration mistakes::

    ScraperError
    ├── RuleError          a site rule file is malformed (bad selector, unknown key)
    └── DumpFormatError    a text dump does not start with ``date YYYY-MM-DD``
"""


class ScraperError(Exception):
    """Base class of every error raised by ``scrapers``."""


class RuleError(ScraperError):
    """A site rule is malformed."""


class DumpFormatError(ScraperError):
    """A text dump is not of the form ``date YYYY-MM-DD <text>``."""
