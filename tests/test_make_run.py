"""`make run` from a clean clone, in both modes of the README: embedded servers (no
DATABASE_URL / REDIS_URL) and servers given in the environment. Each time: migrations, demo
data, web, worker and beat; the URL and demo logins printed; a subscriber logs in and sees the
cabinet; Ctrl-C stops everything it started. When a process dies, the launcher says in one
line which one and why."""

import collections
import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from vodokanal.devservices import Child, free_port, last_error, pid_alive, port_is_open

# Embedded servers on their preferred ports: one test of them at a time under xdist
# (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("embedded_servers")

BASE_DIR = Path(__file__).resolve().parent.parent


def clean_clone(target: Path) -> Path:
    """The project as a fresh clone has it: the files git tracks or would add (as they are in
    the working tree), nothing it ignores (no var/), the installed .venv linked in."""
    names = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=BASE_DIR,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, names):
        source = BASE_DIR / os.fsdecode(name)
        if source.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    (target / ".venv").symlink_to(BASE_DIR / ".venv")
    # The venv this test runs in is installed: make must not install it again.
    installed = (BASE_DIR / ".venv" / ".installed").stat().st_mtime
    for name in ("requirements.txt", "requirements-dev.txt"):
        os.utime(target / name, (installed - 1, installed - 1))
    assert not (target / "var").exists()
    return target


def start_make_run(clone: Path, port: int, **env: str) -> tuple[subprocess.Popen, Path]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "VODOKANAL_VAR_DIR", "MAKEFLAGS")
    }
    environment.update(PORT=str(port), DJANGO_ALLOW_ASYNC_UNSAFE="", **env)
    log = clone / "run.log"
    process = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def wait_until_ready(process: subprocess.Popen, log: Path, port: int) -> str:
    deadline = time.monotonic() + 300
    while True:
        output = log.read_text()
        assert process.poll() is None, output[-3000:]
        if "celery@" in output and "beat: Starting" in output and port_is_open(port):
            time.sleep(2)  # beat opens its schedule file right after it says it starts
            return log.read_text()
        assert time.monotonic() < deadline, output[-3000:]
        time.sleep(1)


def cabinet_page(port: int) -> str:
    """Log in as the demo subscriber with two accounts and open the cabinet."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = opener.open(f"{base}/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "username": "ivanova@example.ru",
        "password": "demo12345",
    }
    request = urllib.request.Request(
        f"{base}/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": f"{base}/login/"},
    )
    opener.open(request, timeout=30).read()
    return opener.open(f"{base}/cabinet/", timeout=30).read().decode()


def stop_with_ctrl_c(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    process.wait(timeout=180)


def check_the_portal(process, log, port) -> str:
    output = wait_until_ready(process, log, port)
    page = cabinet_page(port)
    assert "Личный кабинет" in page
    assert re.search(r"23\d{8}", page), page[:2000]  # her personal accounts
    assert f"Портал: http://127.0.0.1:{port}/" in output
    assert "operator@vodokanal.local" in output
    assert "stopped (exit code" not in output  # no process died
    return output


def test_make_run_with_embedded_servers_from_a_clean_clone(tmp_path):
    clone = clean_clone(tmp_path)
    port = free_port(0)
    process, log = start_make_run(clone, port)
    try:
        check_the_portal(process, log, port)
        var = clone / "var"
        assert (var / "celerybeat-schedule").exists() or list(var.glob("celerybeat-schedule*"))
        redis_pid = int((var / "redis" / "redis.pid").read_text())
        postmaster_pid = int((var / "pgdata" / "postmaster.pid").read_text().split()[0])
    finally:
        stop_with_ctrl_c(process)
    deadline = time.monotonic() + 180  # servers finish their own shutdown (slow under load)
    while (pid_alive(redis_pid) or pid_alive(postmaster_pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    output = log.read_text()[-3000:]
    assert not port_is_open(port)
    assert not pid_alive(redis_pid), f"Redis {redis_pid} still runs:\n{output}"
    assert not pid_alive(postmaster_pid), f"PostgreSQL {postmaster_pid} still runs:\n{output}"
    assert "PostgreSQL stopped" in output


@pytest.fixture
def given_servers():
    """A database of its own on the test run's PostgreSQL and a Redis database of its own,
    as a developer's own servers: the launcher creates the database, starts nothing."""
    db = settings.DATABASES["default"]
    name = f"vodokanal_run_{uuid.uuid4().hex[:8]}"
    redis = urllib.parse.urlparse(os.environ["REDIS_URL"])
    yield {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT']}/{name}",
        "REDIS_URL": f"redis://{redis.hostname}:{redis.port}/13",
    }
    connection = psycopg2.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"] or "postgres", dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def test_make_run_with_given_servers_from_a_clean_clone(tmp_path, given_servers):
    clone = clean_clone(tmp_path)
    port = free_port(0)
    process, log = start_make_run(clone, port, **given_servers)
    try:
        output = check_the_portal(process, log, port)
        assert "using DATABASE_URL from the environment" in output
        assert "using REDIS_URL from the environment" in output
        assert not (clone / "var" / "pgdata").exists()  # nothing embedded was started
    finally:
        stop_with_ctrl_c(process)
    assert not port_is_open(port)


def test_a_dying_process_is_named_with_its_reason_in_one_line():
    child = Child("beat", [sys.executable, "-c", "open('/nonexistent/var/schedule.dat', 'w')"], {})
    child.process.wait(timeout=30)
    assert child.why() == (
        "beat stopped (exit code 1): FileNotFoundError: [Errno 2] No such file or directory: "
        "'/nonexistent/var/schedule.dat'"
    )


def test_the_reason_is_found_in_a_loggers_traceback():
    beat = collections.deque(
        [
            "[2026-12-05 10:00:00,001: WARNING/MainProcess] Traceback (most recent call last):",
            *["[2026-12-05 10:00:00,002: WARNING/MainProcess] ^"] * 150,
            "[2026-12-05 10:00:00,003: WARNING/MainProcess] FileNotFoundError",
            "[2026-12-05 10:00:00,003: WARNING/MainProcess] : ",
            "[2026-12-05 10:00:00,003: WARNING/MainProcess] [Errno 2] No such file or directory: "
            "b'/srv/portal/var/celerybeat-schedule.dat'",
        ],
        maxlen=200,
    )
    assert last_error(beat) == (
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "b'/srv/portal/var/celerybeat-schedule.dat'"
    )
    web = [
        "Traceback (most recent call last):",
        '  File "manage.py", line 8, in <module>',
        "django.core.exceptions.ImproperlyConfigured: Set the SECRET_KEY environment variable",
    ]
    assert last_error(web) == (
        "django.core.exceptions.ImproperlyConfigured: Set the SECRET_KEY environment variable"
    )
    assert last_error(["[INFO] started", "[ERROR] cannot connect to redis"]) == (
        "cannot connect to redis"
    )
