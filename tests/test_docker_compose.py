"""The production shape is a valid compose file (issue 2)."""

import shutil
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def compose_command() -> list[str]:
    # Debian's docker-compose (installed by `make test`) validates without a Docker engine.
    return ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]


def test_docker_compose_config_is_valid_and_has_the_production_services():
    result = subprocess.run(
        [*compose_command(), "config", "--services"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(result.stdout.split())
