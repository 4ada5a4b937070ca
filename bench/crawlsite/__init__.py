"""A synthetic news site for the crawl benchmark: N hosts on 127.0.0.1, one port each."""
