"""The embedded servers of `make run` / `make test` start, serve and stop (docs/architecture.md §11)."""

import psycopg2
import pytest
import redis

from vodokanal import devservices

# Embedded servers on their preferred ports: one test of them at a time under xdist
# (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("embedded_servers")


def test_embedded_redis_starts_serves_and_stops(tmp_path):
    started = devservices.Started()
    url = devservices.ensure_embedded_redis(tmp_path, started)
    try:
        client = redis.Redis.from_url(url)
        client.set("probe", "вода")
        assert client.get("probe").decode() == "вода"
        # A second call reuses the running server instead of starting another.
        again = devservices.Started()
        assert devservices.ensure_embedded_redis(tmp_path, again) == url
        assert again.stops == []
    finally:
        started.stop_all()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, socket_connect_timeout=1).ping()


def test_embedded_postgres_starts_creates_the_database_and_stops(tmp_path):
    started = devservices.Started()
    url = devservices.ensure_embedded_postgres(tmp_path / "var", started)
    try:
        devservices.ensure_database(url)
        connection = psycopg2.connect(url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), lower('ИВАНОВ')")
            assert cursor.fetchone() == ("vodokanal", "иванов")  # Cyrillic case mapping
        connection.close()
    finally:
        started.stop_all()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(url, connect_timeout=2)
