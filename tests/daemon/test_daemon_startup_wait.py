"""A database that is not up when the daemon starts is waited for, then given up on clearly."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from daemonproc import daemon, free_port, run_cli, wait_for, write_config
from sqlalchemy.engine import make_url


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


@contextmanager
def forwarder(port: int, target: tuple[str, int]) -> Iterator[None]:
    """Accept on ``port`` and relay each connection to ``target``: the database "comes up"."""
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_a_database_still_down_after_the_wait_is_one_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = write_config(tmp_path / "ingest.toml", [], daemon={"startup_wait_seconds": 2})
    done = run_cli(f"postgresql://postgres@127.0.0.1:{port}/nowhere", "--config", str(config), "run", timeout=60)
    assert done.returncode == 1, done.stderr  # the CLI's code for a database error
    assert "retrying in" in done.stderr  # it waited before giving up
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect to postgresql") and f":{port}/nowhere" in last
    assert "Traceback" not in done.stderr


def test_the_daemon_starts_once_the_database_comes_up(tmp_path: Path, pg_url: str) -> None:
    real = make_url(pg_url)
    port = free_port()
    late = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    config = write_config(tmp_path / "ingest.toml", [], daemon={"startup_wait_seconds": 120})
    with daemon(config, late, tmp_path / "daemon.log") as proc:
        assert wait_for(lambda: "retrying in" in proc.log(), limit=60), proc.log()
        assert proc.proc.poll() is None  # still waiting, not exited
        with forwarder(port, (real.host or "127.0.0.1", real.port or 5432)):
            assert wait_for(lambda: "started with 0 sources" in proc.log(), limit=60), proc.log()
            proc.signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, proc.log()
    assert "Traceback" not in proc.log()


def test_sigterm_during_the_wait_stops_the_daemon_cleanly(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path / "ingest.toml", [], daemon={"startup_wait_seconds": 300})
    with daemon(config, f"postgresql://postgres@127.0.0.1:{port}/nowhere", tmp_path / "daemon.log") as proc:
        assert wait_for(lambda: "retrying in" in proc.log(), limit=60), proc.log()
        proc.signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.log()  # not after the 300 s wait
    assert "stopped while waiting for the database" in proc.log()
    assert "Traceback" not in proc.log()


def test_what_waiting_cannot_fix_fails_at_once(tmp_path: Path, pg_url: str) -> None:
    missing = make_url(pg_url).set(database="ingest_no_such_database").render_as_string(hide_password=False)
    config = write_config(tmp_path / "ingest.toml", [], daemon={"startup_wait_seconds": 300})
    done = run_cli(missing, "--config", str(config), "run", timeout=60)  # not 300 s
    assert done.returncode == 1, done.stderr
    assert "retrying in" not in done.stderr
    assert 'database "ingest_no_such_database" does not exist' in done.stderr.strip().splitlines()[-1]
