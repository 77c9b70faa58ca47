"""Load test of the model server: a real ``shendu serve`` process on 127.0.0.1 and a bounded client.

The client sends ``--requests`` POST /predict requests (one 784-pixel digit each, the seed-004
contract) with ``--concurrency`` in flight at a time, checks every answer, then stops; the
server process is stopped too. It prints requests/s, the p50/p90/p99 latency and the server's CPU time per request (which, unlike
the rest, holds on a busy machine).

Run: ``python -m benchmarks.serve_load [--requests 2000] [--concurrency 16] [--model DIR] [--json out.json]``
(without ``--model`` it serves an untrained seed MLP 784-500-10 saved to a temporary folder).
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_seed_mlp(folder):
    """An (untrained) seed MLP 784-500-10 saved with shendu.save_model."""
    import shendu
    from shendu import nn

    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    shendu.save_model(model, folder, class_names=[str(i) for i in range(10)], input_shape=[784])
    return folder


_PIDS = {}  # url -> server process id, to read its CPU time


def _cpu_seconds(pid):
    """User + system CPU seconds of a process (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def running_server(model_dir, port=None, extra_args=(), timeout=60.0, health_status=200):
    """Start ``python -m shendu.cli serve MODEL_DIR`` on 127.0.0.1; yield its base URL once /health
    answers ``health_status`` (503 for a model known to be broken); stop it."""
    import httpx

    port = port or free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "shendu.cli", "serve", os.fspath(model_dir), "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning", *extra_args]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _PIDS[url] = process.pid
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"shendu serve exited with code {process.returncode}:\n{output}")
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == health_status:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"shendu serve did not answer /health within {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        _PIDS.pop(url, None)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


async def _load(url, requests, concurrency, bodies, timeout):
    import httpx

    latencies, failures = [], []
    queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:

        async def worker():
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                try:
                    response = await client.post("/predict", content=bodies[i % len(bodies)],
                                                 headers={"content-type": "application/json"})  # fmt: skip
                    ok = response.status_code == 200 and len(response.json()["predictions"]) >= 1
                    if not ok:
                        failures.append(f"request {i}: {response.status_code} {response.text[:200]}")
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    failures.append(f"request {i}: {type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def run_load(url, requests=2000, concurrency=16, batch=1, timeout=30.0, seed=0):
    """Send ``requests`` predictions with ``concurrency`` in flight; returns a dict of figures.

    Keys: requests, concurrency, errors (a list of messages), seconds, requests_per_second,
    p50_ms, p90_ms, p99_ms, max_ms.
    """
    rng = np.random.default_rng(seed)
    bodies = []
    for _ in range(32):
        sample = rng.random((batch, 784) if batch > 1 else 784).round(4)
        bodies.append(json.dumps({"data": sample.tolist()}).encode())
    pid = _PIDS.get(url)
    cpu_before = _cpu_seconds(pid) if pid else None
    latencies, failures, elapsed = asyncio.run(_load(url, requests, concurrency, bodies, timeout))
    cpu_after = _cpu_seconds(pid) if pid else None
    ms = sorted(1000 * t for t in latencies)

    def quantile(q):
        return ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))] if ms else float("nan")

    return {
        "requests": requests,
        "concurrency": concurrency,
        "batch": batch,
        "errors": failures,
        "seconds": elapsed,
        "requests_per_second": requests / elapsed if elapsed else float("nan"),
        "p50_ms": quantile(0.50),
        "p90_ms": quantile(0.90),
        "p99_ms": quantile(0.99),
        "max_ms": ms[-1] if ms else float("nan"),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
        # the server's own CPU time per request: a figure that holds on a busy machine too
        "server_cpu_ms_per_request": None if cpu_before is None or cpu_after is None
        else 1000 * (cpu_after - cpu_before) / requests,
    }


def report(figures):
    return (f"{figures['requests']} requests, concurrency {figures['concurrency']}, batch {figures['batch']}: "
            f"{figures['requests_per_second']:.0f} requests/s, p50 {figures['p50_ms']:.1f} ms, "
            f"p90 {figures['p90_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
            f"{len(figures['errors'])} errors"
            + (f"; server CPU {figures['server_cpu_ms_per_request']:.2f} ms/request"
               if figures.get("server_cpu_ms_per_request") is not None else ""))  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1, help="samples per request (default 1)")
    parser.add_argument("--model", help="a saved model folder (default: an untrained seed MLP)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or save_seed_mlp(os.path.join(tmp, "seed-mlp"))
        with running_server(model_dir) as url:
            figures = run_load(url, args.requests, args.concurrency, args.batch)
    print(report(figures))
    for message in figures["errors"][:5]:
        print("  " + message)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({k: v for k, v in figures.items() if k != "errors"} | {"errors": len(figures["errors"])}, handle, indent=2)
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
