"""Bundled offline demo news site used by ``ingest demo`` (see :mod:`ingest.demo.site`)."""
