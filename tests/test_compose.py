"""docker-compose.yml cannot run here (no Docker), so check what it relies on.

Every ``ingest …`` command it runs (service commands and health checks)
must parse with the real CLI, every ``python -c`` check must compile and
call an existing endpoint, and every environment variable it sets on our
image must be one the config reads.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from ingest.cli import app
from ingest.config import Config, find_config_file, load_config

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docker-compose.yml")

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
SPECIAL_ENV = {"INGEST_DATABASE_URL", "INGEST_CONFIG"}


def _services() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = data["services"]
    return services


def _ours(service: dict[str, Any]) -> bool:
    return "build" in service


def _argv(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _commands(service: dict[str, Any]) -> list[list[str]]:
    found = []
    if "command" in service:
        found.append(_argv(service["command"]))
    test = service.get("healthcheck", {}).get("test")
    if test:
        argv = _argv(test)
        if argv[0] == "CMD":
            found.append(argv[1:])
        elif argv[0] == "CMD-SHELL":
            found.append(shlex.split(argv[1]))
    return found


class NotRunnable(Exception):
    """A compose command the CLI would refuse (unknown command or option, missing argument)."""


def check_ingest_command(argv: list[str]) -> None:
    """Parse ``argv`` (after ``ingest``) down to its leaf command; raise :class:`NotRunnable` if it would not run."""
    try:
        _parse(argv)
    except Exception as exc:  # click's, or typer's vendored click's, UsageError
        if getattr(exc, "exit_code", None) == 2 or isinstance(exc, NotRunnable):
            raise NotRunnable(str(exc)) from exc
        raise


def _parse(argv: list[str]) -> None:
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("ingest", list(argv), resilient_parsing=False)
    while hasattr(command, "resolve_command"):  # a group (TyperGroup is not a click.Group)
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not args:
            raise NotRunnable(f"'ingest {' '.join(argv)}' names a group, not a command")
        name, sub, rest = command.resolve_command(ctx, list(args))
        assert sub is not None and name is not None
        command = sub
        ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=False)


def test_compose_has_the_four_services() -> None:
    services = _services()
    assert {"db", "migrate", "daemon", "api"} <= set(services)
    assert all("healthcheck" in services[name] for name in ("db", "daemon", "api"))
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]


@pytest.mark.parametrize(
    "argv",
    [argv for s in _services().values() if _ours(s) for argv in _commands(s) if argv[0] == "ingest"],
    ids=lambda argv: " ".join(argv),
)
def test_every_ingest_command_exists_in_the_cli(argv: list[str]) -> None:
    check_ingest_command(argv[1:])


def test_the_checker_rejects_unknown_commands_and_options() -> None:
    for bad in (["serv"], ["serve", "--hots", "x"], ["articles"], ["db", "downgrade"]):
        with pytest.raises(NotRunnable):
            check_ingest_command(bad)


def test_python_health_checks_compile_and_hit_real_endpoints() -> None:
    from ingest.api.routes import router

    paths = {getattr(r, "path", None) for r in router.routes}
    checks = [argv for s in _services().values() for argv in _commands(s) if argv[0] == "python"]
    assert checks, "the api service should have a python health check"
    for argv in checks:
        code = argv[argv.index("-c") + 1]
        compile(code, "<healthcheck>", "exec")
        for url_path in re.findall(r"http://[^/'\"]+(/[^'\"?]*)", code):
            assert url_path in paths


def test_every_env_var_is_read_by_the_config(tmp_path: Path) -> None:
    for name, service in _services().items():
        if not _ours(service):
            continue
        env = {str(k): str(v) for k, v in (service.get("environment") or {}).items()}
        for key in env:
            assert key.startswith("INGEST_"), f"{name}: {key} is not an ingest setting"
            if key in SPECIAL_ENV:
                continue
            section, _, field = key[len("INGEST_"):].lower().partition("__")
            assert section in Config.model_fields, f"{name}: {key}: no config section {section!r}"
            model = Config.model_fields[section].annotation
            assert field in getattr(model, "model_fields", {}), f"{name}: {key}: no key {field!r} in [{section}]"
        if "INGEST_CONFIG" in env:
            assert find_config_file(None, env) == Path(env["INGEST_CONFIG"])
        local = tmp_path / "ingest.toml"
        local.write_text("")
        config = load_config(local, env={k: v for k, v in env.items() if k != "INGEST_CONFIG"})
        if "INGEST_DATABASE_URL" in env:
            assert config.database.url == env["INGEST_DATABASE_URL"]
