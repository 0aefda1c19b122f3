"""The production shape is a valid compose file (docs/architecture.md §11)."""

import shutil
import subprocess
from pathlib import Path

import yaml

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


def compose_config() -> dict:
    result = subprocess.run(
        [*compose_command(), "config"], cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_only_the_reverse_proxy_is_reachable_and_the_portal_trusts_it_alone():
    """gunicorn publishes no port, so X-Forwarded-Proto can only be the proxy's (review)."""
    services = compose_config()["services"]

    assert "ports" not in services["web"]
    published = {service for service, spec in services.items() if spec.get("ports")}
    assert published == {"proxy"}
    assert services["web"]["environment"]["BEHIND_PROXY"] == "true"
    config = (BASE_DIR / "vodokanal" / "deploy" / "nginx.conf").read_text()
    assert "proxy_pass http://web:8000;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config  # overwritten, never passed on
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert any("nginx.conf" in volume for volume in map(str, services["proxy"]["volumes"]))
