"""The HTTP API and web page (FastAPI); ``create_app`` lives in :mod:`ingest.api.app`.

Importing this package does not import FastAPI, so the CLI can reuse
:mod:`ingest.api.schemas` and :mod:`ingest.api.views` for ``--json`` output.
"""
