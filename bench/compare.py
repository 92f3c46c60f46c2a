"""The comparison's benchmarks: estimate latency, HTTP under load, cache replay, page weight.

Issue targets: the comparison of a quick workload across every bundled model with p95 under
150 ms, measured over 200 requests through the Django test client and over HTTP under 8
concurrent clients against gunicorn with PostgreSQL; the cache replay of a 1,000,000-request
timeline across every policy under 5 s; and the compressed weight of the comparison page.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.imports import DEFAULT_DATABASE_URL, choose_database, django_env, prepare_django

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PORT = 8791
QUICK = {"requests_per_month": 100_000, "input_tokens": 3_000, "output_tokens": 400,
         "cached_prefix_tokens": 2_000, "mean_gap_seconds": 30, "batch_share": 0.2}  # fmt: skip


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(pick(0.50) * 1000, 1), "p95_ms": round(pick(0.95) * 1000, 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1), "n": len(ordered)}  # fmt: skip


def body(i: int) -> bytes:
    """A different workload per request, so no cache answers for the estimate."""
    return json.dumps({**QUICK, "requests_per_month": QUICK["requests_per_month"] + i}).encode()


def test_client_latency(n: int) -> dict[str, Any]:
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    api, page = [], []
    for i in range(n):
        t = time.perf_counter()
        r = client.post("/api/v1/estimate", data=body(i), content_type="application/json")
        api.append(time.perf_counter() - t)
        assert r.status_code == 200, r.content[:200]
    for i in range(n):
        t = time.perf_counter()
        r = client.get(
            "/compare/", {**QUICK, "requests_per_month": QUICK["requests_per_month"] + i}
        )
        page.append(time.perf_counter() - t)
        assert r.status_code == 200
    return {
        "api_estimate": percentiles(api),
        "compare_page": percentiles(page),
        "models": len(r.context["rows"]),
    }


def http_load(env: dict[str, str], requests: int, clients: int) -> dict[str, Any]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if not gunicorn:
        return {"skipped": "gunicorn is not installed in the bench venv"}
    server = subprocess.Popen(
        [gunicorn, "pricing_site.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_up(f"http://127.0.0.1:{PORT}/api/v1/models")
        if shutil.which("wrk"):
            return _wrk(clients)
        latencies: list[float] = []
        lock = threading.Lock()
        counter = iter(range(requests))

        def worker() -> None:
            for i in counter:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{PORT}/api/v1/estimate", data=body(10_000 + i),
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                t = time.perf_counter()
                with urllib.request.urlopen(req, timeout=30) as resp:
                    resp.read()
                with lock:
                    latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - start
        return {**percentiles(latencies), "clients": clients, "requests_per_s": round(len(latencies) / wall, 1),
                "server": "gunicorn -w 2 (sync workers)"}  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"requests_per_month": %d, "input_tokens": 3000, "output_tokens": 400, '
    .. '"cached_prefix_tokens": 2000, "mean_gap_seconds": 30, "batch_share": 0.2}', 100000 + counter)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("p95_us %d\\n", latency:percentile(95)))
end
"""


def _wrk(clients: int, seconds: int = 20) -> dict[str, Any]:
    """wrk (C, Debian's package) as the load generator: the client steals little CPU."""
    script = OUT / "estimate.lua"
    OUT.mkdir(parents=True, exist_ok=True)
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{PORT}/api/v1/estimate"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(ms|s)", out, re.M) and [
        (p, float(v) * (1000 if unit == "s" else 1)) for p, v, unit in
        re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(ms|s)", out, re.M)
    ])  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p95 = re.search(r"^p95_us (\d+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad or p95 is None:  # a broken script makes wrk send plain GETs: say so, never a figure
        raise RuntimeError(f"wrk run is not valid ({bad.group(0) if bad else 'no p95'}):\n{out}")
    return {"p50_ms": dist.get("50"), "p90_ms": dist.get("90"),
            "p95_ms": round(int(p95.group(1)) / 1000, 2),
            "p99_ms": dist.get("99"), "clients": clients,
            "requests_per_s": rate, "server": "gunicorn -w 2 (sync workers)", "client": "wrk"}  # fmt: skip


def _wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def replay_million() -> dict[str, Any]:
    from django.utils import timezone

    from apps.compare.estimate.conversation import estimate_workload
    from apps.compare.estimate.timeline import ConversationWorkload
    from apps.compare.sources import candidates

    params = ConversationWorkload(
        conversations_per_month=20_000, turns_per_conversation=50, system_tokens=8_000,
        user_tokens_per_turn=400, tool_tokens_per_turn=1_500, output_tokens_per_turn=600,
        gaps=((0.6, 5.0), (0.35, 90.0), (0.05, 7200.0)), context_window=200_000,
        context_strategy="hysteresis", trim_high=0.9, trim_low=0.5,
    )  # fmt: skip
    found, _ = candidates(None, timezone.now())
    t = time.perf_counter()
    timeline, estimates = estimate_workload(params, found, timezone.now(), seed=0)
    wall = time.perf_counter() - t
    strategies = sum(len(e.strategies) for e in estimates)
    return {
        "requests": int(timeline.n),
        "models": len(estimates),
        "strategies": strategies,
        "seconds": round(wall, 2),
    }


def page_weight() -> dict[str, Any]:
    from django.test import Client

    html = Client().get("/compare/", QUICK).content
    static = ROOT / "static"
    assets = {
        "css/site.css": static / "css/site.css",
        "js/charts.js": static / "js/charts.js",
        "js/compare.js": static / "js/compare.js",
        "vendor/plotly-strict.min.js": static / "vendor/plotly-strict.min.js",
    }
    sizes = {"html": _gz(html)}
    for name, path in assets.items():
        if path.exists():
            sizes[name] = _gz(path.read_bytes())
    htmx = next(Path(sys.modules["django_htmx"].__file__).parent.rglob("htmx.min.js"), None)
    if htmx:
        sizes["htmx.min.js"] = _gz(htmx.read_bytes())
    return {"gzip_bytes": sizes, "total_gzip_kb": round(sum(sizes.values()) / 1024, 1)}


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    args = parser.parse_args(argv)
    url, vendor, label = choose_database(args.database_url)
    env = django_env(url)
    prepare_django(sys.executable, env, vendor, url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    results: dict[str, Any] = {"database": label}
    results["test_client"] = tc = test_client_latency(args.requests)
    print(f"database: {label}")
    print(f"estimate API, {tc['models']} models, test client: p50 {tc['api_estimate']['p50_ms']} ms, "
          f"p95 {tc['api_estimate']['p95_ms']} ms over {args.requests} requests (target p95 < 150 ms)")  # fmt: skip
    print(f"comparison page, test client: p50 {tc['compare_page']['p50_ms']} ms, "
          f"p95 {tc['compare_page']['p95_ms']} ms (tables and charts, every request a new workload)")  # fmt: skip
    results["http"] = http = http_load(env, args.requests, args.clients)
    if "skipped" in http:
        print(f"HTTP load: skipped ({http['skipped']})")
    else:
        tail = (f"p90 {http['p90_ms']} ms, p95 {http['p95_ms']} ms, p99 {http['p99_ms']} ms"
                if "p90_ms" in http
                else f"p95 {http['p95_ms']} ms")  # fmt: skip
        print(
            f"estimate API over HTTP ({http.get('client', 'python threads')}), {args.clients} concurrent "
            f"clients, {http['server']}: p50 {http['p50_ms']} ms, {tail}, {http['requests_per_s']} req/s"
        )
    results["replay"] = rp = replay_million()
    print(f"cache replay + exact pricing: {rp['requests']:,} requests x {rp['models']} models "
          f"({rp['strategies']} strategies) in {rp['seconds']} s (target < 5 s)")  # fmt: skip
    results["page_weight"] = pw = page_weight()
    print(f"comparison page weight, gzip: {pw['total_gzip_kb']} KB "
          + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in pw["gzip_bytes"].items()))  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "compare.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
