"""Pure extraction code: HTML (or text dumps) in, article data out.

No network, no database, nothing of ``ingest`` or ``db``.
"""

from scrapers.errors import DumpFormatError, RuleError, ScraperError
from scrapers.model import CleanedDump, ExtractedArticle, ExtractionFlag, FieldSource

__all__ = [
    "CleanedDump",
    "DumpFormatError",
    "ExtractedArticle",
    "ExtractionFlag",
    "FieldSource",
    "RuleError",
    "ScraperError",
]
