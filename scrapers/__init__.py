"""Pure extraction code: HTML (or text dumps) in, article data out.

No network, no database, nothing of ``ingest`` or ``db``.

Modules: ``extractor`` (``extract``: the pipeline), ``guards`` (bad-input
checks before parsing), ``encoding`` (``decode_html``), ``blocks`` (one walk
of the DOM into text blocks), ``body`` (the generic body finder),
``patterns`` (vocabulary of site chrome), ``metadata`` and ``dates``
(fields with provenance), ``rules`` (per-site specs as data), ``dump``
(``clean_dump`` for text dumps), ``listing`` (article links on a listing page).
"""

from scrapers.dump import clean_dump
from scrapers.encoding import decode_html
from scrapers.errors import DumpFormatError, RuleError, ScraperError
from scrapers.extractor import extract
from scrapers.model import CleanedDump, ExtractedArticle, ExtractionFlag, FieldSource

__all__ = [
    "CleanedDump",
    "DumpFormatError",
    "ExtractedArticle",
    "ExtractionFlag",
    "FieldSource",
    "RuleError",
    "ScraperError",
    "clean_dump",
    "decode_html",
    "extract",
]
