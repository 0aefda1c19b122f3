"""The bench's load generator, run as its own process: `python -m vodokanal.bench.load PLAN`.

PLAN is a JSON file: {"base": "http://127.0.0.1:PORT", "cookie": "sessionid", "users":
[{"path": ..., "session": ...}, ...], "duration": s, "warmup": s, "think": [min, max]}.
Each user is a thread with its own keep-alive connection and session cookie; it requests
its page, waits a random pause of `think` seconds, and again, until `duration` ends.
Requests finished in the first `warmup` seconds are not counted. Prints one JSON object:
requests, errors (and what they were), rps, p50/p95/p99/mean/max latency in milliseconds.

Only the standard library: nothing here imports Django, so the generator costs the server
as little CPU as possible on a small machine. Every request goes to the given base URL on
this machine, and the run stops by itself after `duration` seconds.
"""

import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit


def _user(
    plan: dict, user: dict, start: float, stop: float, latencies: list[float], errors: list[str]
) -> None:
    url = urlsplit(plan["base"])
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load generator only talks to this machine")
    headers = {"Cookie": f"{plan['cookie']}={user['session']}", "Connection": "keep-alive"}
    low, high = plan["think"]
    warm = start + plan["warmup"]
    rng = random.Random()  # noqa: S311 - pauses, not secrets
    time.sleep(rng.uniform(0, max(high, 0.05)))  # users do not all click at once
    connection = None
    while time.monotonic() < stop:
        if connection is None:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        began = time.monotonic()
        try:
            connection.request("GET", user["path"], headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
            failure = str(response.status)
            if response.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            ok = False
            failure = type(error).__name__
            connection.close()
            connection = None
        ended = time.monotonic()
        if ended >= warm and ended < stop:
            if ok:
                latencies.append(ended - began)
            else:
                errors.append(failure)
        if high:
            time.sleep(rng.uniform(low, high))
    if connection is not None:
        connection.close()


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index] * 1000


def run(plan: dict) -> dict:
    start = time.monotonic()
    stop = start + plan["duration"]
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_user, args=(plan, user, start, stop, latencies, errors), daemon=True
        )
        for user in plan["users"]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=plan["duration"] + 60)
    measured = plan["duration"] - plan["warmup"]
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "failures": {failure: errors.count(failure) for failure in sorted(set(errors))},
        "rps": len(ordered) / measured if measured > 0 else 0.0,
        "p50": _percentile(ordered, 0.50),
        "p95": _percentile(ordered, 0.95),
        "p99": _percentile(ordered, 0.99),
        "mean": sum(ordered) / len(ordered) * 1000 if ordered else 0.0,
        "max": ordered[-1] * 1000 if ordered else 0.0,
    }


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as file:
        plan = json.load(file)
    sys.stdout.write(json.dumps(run(plan)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
