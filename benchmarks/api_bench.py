"""Cached sizing and product listing against ``/healthz`` of the same server, in one run.

    .venv/bin/python benchmarks/api_bench.py [--tree before=/work/main] [--tree after=.]
        [--duration 8] [--connections 16] [--gzip]

For each source tree (default: this checkout only) a real API process is started
(``uvicorn app.main:create_app``, one worker) on a fresh copy of the real catalog, the
sizing is made once (a miss), and then each route is loaded for ``--duration`` seconds at
``--connections`` keep-alive connections: ``/healthz``, cached ``POST /v1/sizing``,
``GET /v1/products``, ``/healthz`` again. The figure that matters is each route's rate as a
fraction of the mean ``/healthz`` rate of the same server in the same run, plus p99 latency;
absolute rates mean little on a 2-core machine the load generator shares.

The load generator is ``wrk`` when it is on PATH (as the issue measured), else the
asyncio client below (HTTP/1.1 keep-alive over raw sockets, about as light as a Python
client gets; it reports the same figures). ``--gzip`` sends ``Accept-Encoding: gzip``, as
browsers do. The machine's load average is printed with every run: other processes on the
same cores lower every figure alike, which is why the ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BODY = {"site": {"municipality": "Uberlândia", "uf": "MG"}, "consumption": {"monthly_kwh": 650},
        "connection": "three_phase"}
PRODUCTS = "/v1/products?category=inverter&limit=20"


# ---------------------------------------------------------------- load generators


class Target:
    def __init__(self, name: str, method: str, path: str, body: bytes = b"", gzip: bool = False) -> None:
        self.name, self.method, self.path, self.body, self.gzip = name, method, path, body, gzip

    def request_bytes(self, host: str) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
        if self.gzip:
            head.append("Accept-Encoding: gzip")
        if self.body:
            head += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


async def _connection(host: str, port: int, raw: bytes, stop_at: float, latencies: list[float],
                      sizes: list[int], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
            body = await reader.readexactly(int(m.group(1))) if m else b""
            latencies.append(time.perf_counter() - t0)
            sizes.append(len(body))
            if status >= 400:
                errors.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


def python_load(port: int, target: Target, duration_s: float, connections: int) -> dict:
    async def run() -> dict:
        latencies: list[float] = []
        sizes: list[int] = []
        errors: list[str] = []
        raw = target.request_bytes(f"127.0.0.1:{port}")
        start = time.perf_counter()
        await asyncio.gather(*(_connection("127.0.0.1", port, raw, start + duration_s, latencies, sizes, errors)
                               for _ in range(connections)))
        elapsed = time.perf_counter() - start
        latencies.sort()
        return {"requests": len(latencies), "rate": len(latencies) / elapsed,
                "p50_ms": 1000 * latencies[len(latencies) // 2],
                "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
                "bytes": sizes[0] if sizes else 0, "errors": len(errors), "first_error": errors[:1]}

    try:
        import uvloop

        return uvloop.run(run())
    except ImportError:
        return asyncio.run(run())


def wrk_load(port: int, target: Target, duration_s: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        headers = {"Content-Type": "application/json"} if target.body else {}
        if target.gzip:
            headers["Accept-Encoding"] = "gzip"
        script.write(f"wrk.method = {json.dumps(target.method)}\n")
        if target.body:
            script.write(f"wrk.body = {json.dumps(target.body.decode())}\n")
        for k, v in headers.items():
            script.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
        script.write('done = function(summary, latency, requests)\n'
                     '  io.write(string.format("JSON {\\"requests\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, '
                     '\\"errors\\": %d}\\n", summary.requests, latency:percentile(50), latency:percentile(99), '
                     'summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))\n'
                     'end\n')
    seconds = max(1, round(duration_s))  # wrk takes whole seconds only ("1.0s" is a usage error)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
                          f"http://127.0.0.1:{port}{target.path}"], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    stats = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    return {"requests": stats["requests"], "rate": stats["requests"] / seconds,
            "p50_ms": stats["p50_us"] / 1000, "p99_ms": stats["p99_us"] / 1000, "bytes": None,
            "errors": stats["errors"], "first_error": []}


# ---------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_catalog(tmp: Path) -> Path:
    """The real catalog export ingested into a fresh SQLite store (once per run)."""
    from app.catalog.store import SQLiteCatalogStore
    from ingest.catalog import pipeline

    store = SQLiteCatalogStore(tmp / "catalog.db")
    pipeline.run_catalog_ingest(ROOT / "data" / "catalog", store, tmp / "reports")
    return store.path


def start_server(tree: Path, catalog: Path, tmp: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    db = tmp / f"catalog-{port}.db"
    shutil.copy(catalog, db)
    env = {**os.environ, "PYTHONPATH": str(tree), "CATALOG__DB_PATH": str(db), "CATALOG__REPORT_DIR": str(tmp),
           "QDRANT__PATH": str(tmp / f"q-{port}"), "QDRANT__EDGE_PATH": str(tmp / f"edge-{port}"),
           "VAR_DIR": str(tmp / f"var-{port}"), "EMBEDDING__PRELOAD": "false", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    env.pop("REDIS__URL", None)  # results in process memory: the route's own cost, not Redis'

    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--port", str(port),
                             "--no-access-log", "--log-level", "warning"], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 300  # a loaded 2-core machine starts it slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"API de {tree} não respondeu em 300 s")


def bench_tree(label: str, tree: Path, catalog: Path, tmp: Path, args) -> dict:
    import httpx

    load = wrk_load if shutil.which("wrk") and not args.python_client else python_load
    proc, port = start_server(tree, catalog, tmp)
    try:
        body = json.dumps(BODY).encode()
        first = httpx.post(f"http://127.0.0.1:{port}/v1/sizing", content=body,
                           headers={"Content-Type": "application/json"}, timeout=120)
        first.raise_for_status()
        targets = [Target("healthz", "GET", "/healthz", gzip=args.gzip),
                   Target("sizing", "POST", "/v1/sizing", body, gzip=args.gzip),
                   Target("products", "GET", PRODUCTS, gzip=args.gzip),
                   Target("healthz", "GET", "/healthz", gzip=args.gzip)]
        results: dict[str, list[dict]] = {}
        for t in targets:
            load(port, t, 1.0, args.connections)  # warm-up of this route
            r = load(port, t, args.duration, args.connections)
            if r["bytes"] is None:  # wrk does not say: one request shows the body as it travels
                one = httpx.request(t.method, f"http://127.0.0.1:{port}{t.path}", content=t.body or None,
                                    headers={"Content-Type": "application/json", **(
                                        {"Accept-Encoding": "gzip"} if t.gzip else {"Accept-Encoding": "identity"})})
                r["bytes"] = int(one.headers.get("content-length", len(one.content)))
            results.setdefault(t.name, []).append(r)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    health_rate = sum(r["rate"] for r in results["healthz"]) / len(results["healthz"])
    out = {"label": label, "tree": str(tree), "generator": load.__name__, "healthz_rate": health_rate,
           "healthz_p99_ms": max(r["p99_ms"] for r in results["healthz"]), "loadavg": os.getloadavg()[0]}
    for name in ("sizing", "products"):
        r = results[name][0]
        out[name] = {**r, "ratio": r["rate"] / health_rate}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", action="append", default=[], help="label=path of a source tree (repeatable)")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per route")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    ap.add_argument("--python-client", action="store_true", help="use the asyncio client even if wrk is there")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the trees this many times; medians reported")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree] or [("this", ROOT)]
    print(f"cores: {os.cpu_count()}  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  "
          f"generator: {'wrk' if shutil.which('wrk') and not args.python_client else 'python asyncio'}  "
          f"connections: {args.connections}  gzip: {args.gzip}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="helio-apibench-") as tmp:
        catalog = real_catalog(Path(tmp))
        for label, tree in [t for _ in range(args.rounds) for t in trees]:  # alternated: drift hits all alike
            row = bench_tree(label, tree, catalog, Path(tmp), args)
            rows.append(row)
            print(f"\n[{label}] {tree}  /healthz {row['healthz_rate']:.0f} req/s (p99 {row['healthz_p99_ms']:.1f} ms)"
                  f"  load average {row['loadavg']:.2f}")
            for name in ("sizing", "products"):
                r = row[name]
                size = f"{r['bytes'] / 1024:.1f} KB" if r["bytes"] is not None else "?"
                print(f"  {name:9s} {r['rate']:7.0f} req/s  = {r['ratio']:.2f}× /healthz   p50 {r['p50_ms']:.1f} ms"
                      f"  p99 {r['p99_ms']:.1f} ms  body {size}  errors {r['errors']} {r['first_error']}")
    if args.rounds > 1:
        print("\nmedians over rounds:")
        for label, _ in trees:
            mine = [r for r in rows if r["label"] == label]
            for name in ("sizing", "products"):
                ratio = statistics.median(r[name]["ratio"] for r in mine)
                p99 = statistics.median(r[name]["p99_ms"] for r in mine)
                rate = statistics.median(r[name]["rate"] for r in mine)
                print(f"  [{label}] {name:9s} {rate:7.0f} req/s  {ratio:.2f}× /healthz  p99 {p99:.1f} ms  "
                      f"(/healthz {statistics.median(r['healthz_rate'] for r in mine):.0f} req/s, "
                      f"load average {statistics.median(r['loadavg'] for r in mine):.1f})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
