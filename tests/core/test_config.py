import os
import subprocess
import sys

from django.conf import settings

from config.embedded import celery_broker_url, parse_database_url

ROOT = settings.BASE_DIR


def test_database_url_parsing_tcp_and_unix_socket():
    tcp = parse_database_url("postgres://me:s%40cret@db.example:6543/cg")
    assert (tcp["HOST"], tcp["PORT"], tcp["USER"], tcp["PASSWORD"], tcp["NAME"]) == (
        "db.example",
        "6543",
        "me",
        "s@cret",
        "cg",
    )
    sock = parse_database_url("postgresql://postgres:@/chargegrid?host=/tmp/pg")
    assert (sock["HOST"], sock["NAME"], sock["PORT"]) == ("/tmp/pg", "chargegrid", "")
    assert tcp["ENGINE"] == "django_tenants.postgresql_backend"


def test_celery_speaks_unix_socket_redis():
    assert celery_broker_url("unix:///x/redis.socket") == "redis+socket:///x/redis.socket"
    assert celery_broker_url("redis://h:6379/0") == "redis://h:6379/0"


def _manage(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "k" * 20 + "Zq8!xP2@mW5#vL9$tR4%yN7^bH3&cJ6*",
            "DJANGO_ALLOWED_HOSTS": "chargegrid.example,.chargegrid.example",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SECRET_KEY")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_secret_from_file(tmp_path, monkeypatch):
    from config.settings.base import secret

    path = tmp_path / "key"
    path.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(path))
    assert secret("SOME_SECRET") == "from-a-file"


def test_no_missing_migrations():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format_are_clean():
    ruff = [sys.executable, "-m", "ruff"]
    lint = subprocess.run([*ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [*ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_deployment_guide_shows_the_commands_the_platform_runs():
    """docs/deployment.md shows the command lines config.processes builds (bin/run, tests,
    benchmarks): the same flags, the keepalive policy included."""
    from config.processes import asgi_server_command, celery_beat_command, celery_worker_command

    guide = (ROOT / "docs" / "deployment.md").read_text()
    web = " ".join(asgi_server_command("0.0.0.0", 8000, python="python", extra=["--proxy-headers"]))
    worker = " ".join(celery_worker_command(python="python", concurrency=4))
    beat = " ".join(
        celery_beat_command(python="python", schedule="/var/lib/chargegrid/celerybeat-schedule")
    )
    for command in (web, worker, beat):
        assert f"`{command}`" in guide, command
    systemd_web = web.replace("python -m", "/opt/chargegrid/.venv/bin/python -m", 1)
    assert f"ExecStart={systemd_web.replace('--port 8000', '--port %i')}" in guide


def test_asgi_server_command_refuses_a_zero_ping_setting():
    import pytest

    from config.processes import asgi_server_command

    with pytest.raises(ValueError):
        asgi_server_command("127.0.0.1", 8000, ping_interval=0)
