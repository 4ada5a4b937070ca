"""The HTTP API inside ``ingest run --api``: uvicorn on the daemon's own event loop.

One process then crawls on schedule and answers queries, which suits a single
machine (``ingest serve`` stays the way to run the API on its own or with several
workers).  The daemon keeps its signal handlers: uvicorn's are left out, and the
daemon stops the server after its own graceful shutdown.  The socket is bound
before the daemon starts, so a port in use is one clear error, not a daemon
running without its API; and if the server dies later, the daemon stops (exit 1)
rather than run on without it.  uvicorn's loggers propagate to the daemon's
handlers (``daemon.log_json`` applies); per-request access lines are left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

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
    """The API served from the running event loop until :meth:`stop` (or :meth:`close`
    when it never started)."""

    def __init__(self, config: Config, *, host: str | None = None, port: int | None = None) -> None:
        settings = api_settings(config)
        self.host = host or settings.host
        self.port = settings.port if port is None else port
        self.socket = _bind(self.host, self.port)
        self.address = self.socket.getsockname()[:2]
        try:
            self.app = create_app(config)
        except BaseException:
            self.socket.close()
            raise
        self._server = _QuietServer(uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on"))
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.failed = False

    def start(self, on_failure: Callable[[], None]) -> None:
        """Serve from the running loop; ``on_failure`` runs if the server stops by itself."""
        self._task = asyncio.get_running_loop().create_task(self._serve())
        self._task.add_done_callback(lambda task: self._ended(task, on_failure))
        log.info("API listening on http://%s:%d/", *self.address)

    async def _serve(self) -> None:
        try:
            await self._server.serve(sockets=[self.socket])
        except SystemExit as exc:  # uvicorn exits the process when its startup fails
            raise DaemonError(f"api: the server did not start (exit code {exc.code})") from None

    def _ended(self, task: asyncio.Task[None], on_failure: Callable[[], None]) -> None:
        if self._stopping or task.cancelled():
            return
        self.failed = True
        log.error("API stopped by itself (%s); stopping the daemon", task.exception() or "no error")
        on_failure()

    def update_config(self, config: Config) -> None:
        """After a daemon reload: the API lists and triggers the sources the daemon now has."""
        self.app.state.config = config

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests in progress (up to ``timeout``), then release everything."""
        self._stopping = True
        self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                log.warning("API did not stop within %.0f s", timeout)
            except Exception as exc:
                log.warning("API stopped with an error: %s", exc)
        self.close()

    def close(self) -> None:
        """Close the socket and the app's database engines (its lifespan closes them only
        when the server ran its shutdown; disposing twice is harmless)."""
        self.socket.close()
        state = self.app.state
        state.read_engine.dispose()
        state.database.close()


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
