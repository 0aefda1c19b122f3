"""`make run` on a machine without services: embedded servers, migrations, demo data, web,
worker and beat; the URL and demo logins printed; Ctrl-C stops everything it started."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from vodokanal.devservices import free_port, pid_alive, port_is_open

BASE_DIR = Path(__file__).resolve().parent.parent


def test_run_serves_the_cabinet_and_ctrl_c_stops_everything(tmp_path):
    port = free_port(0)
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    env.update(VODOKANAL_VAR_DIR=str(tmp_path), PORT=str(port), DJANGO_ALLOW_ASYNC_UNSAFE="")
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "vodokanal.devservices", "run"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            output = (tmp_path / "run.log").read_text()
            if "celery@" in output and "ready" in output and port_is_open(port):
                break
            assert time.monotonic() < deadline, output[-3000:]
            time.sleep(1)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10).read().decode()
        assert "E-mail или телефон" in page
        assert f"Портал: http://127.0.0.1:{port}/" in output
        assert "operator@vodokanal.local" in output
        redis_pid = int((tmp_path / "redis" / "redis.pid").read_text())
        postmaster_pid = int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        process.wait(timeout=60)
    deadline = time.monotonic() + 60  # servers finish their own shutdown
    while (pid_alive(redis_pid) or pid_alive(postmaster_pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_is_open(port)
    assert not pid_alive(redis_pid)
    assert not pid_alive(postmaster_pid)
    assert "PostgreSQL stopped" in (tmp_path / "run.log").read_text()
