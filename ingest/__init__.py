"""The side-effecting half of news-ingest: config, fetching, pipeline, daemon, CLI."""
