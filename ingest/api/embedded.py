"""The HTTP API inside ``ingest run --api``: uvicorn on the daemon's own event loop.

One process then crawls on schedule and answers queries, which suits a single
machine (``ingest serve`` stays the way to run the API on its own or with several
workers).  The daemon keeps its signal handlers: uvicorn's are left out, and the
daemon stops the server after its own graceful shutdown.  The socket is bound
before the daemon starts, so a port in use is one clear error, not a daemon
running without its API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from ingest.api.app import create_app
from ingest.api.settings import api_settings
from ingest.config import Config
from ingest.errors import DaemonError

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host (the daemon)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn before 0.29's capture_signals
        return None


class EmbeddedApi:
    """The API served from the running event loop until :meth:`stop`."""

    def __init__(self, config: Config, *, host: str | None = None, port: int | None = None) -> None:
        settings = api_settings(config)
        self.host = host or settings.host
        self.port = settings.port if port is None else port
        self.socket = _bind(self.host, self.port)
        self.address = self.socket.getsockname()[:2]
        self._server = _QuietServer(uvicorn.Config(create_app(config), log_level="info", lifespan="on"))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self.socket]))
        log.info("API listening on http://%s:%d/", *self.address)

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests in progress (up to ``timeout``), then close the socket."""
        self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except (TimeoutError, SystemExit) as exc:
                log.warning("API did not stop cleanly: %r", exc)
        self.socket.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DaemonError(f"api: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
