"""A real ``shendu serve`` process on 127.0.0.1 against slow clients and a broken model.

Slow clients (headers or body a trickle, a Content-Length larger than the body, connections that
send nothing) get 408 and are disconnected within the configured deadlines, and the server keeps
answering others. A model whose outputs are NaN is reported by /health (503) and its predictions
are a server fault (500 with a clear message), not the client's. Every socket is bounded in time.
"""

import json
import socket
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import shendu  # noqa: E402
import shendu.nn as nn  # noqa: E402
from benchmarks.serve_load import running_server, save_seed_mlp  # noqa: E402

DEADLINES = ["--header-timeout", "1", "--body-timeout", "1", "--keep-alive-timeout", "1"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = save_seed_mlp(tmp_path_factory.mktemp("slow") / "seed-mlp")
    with running_server(model_dir, extra_args=DEADLINES) as url:
        yield url


def _connect(url):
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_until_closed(sock, limit=10.0):
    """Everything the server sends until it closes the connection (at most ``limit`` seconds)."""
    sock.settimeout(limit)
    chunks, started = [], time.monotonic()
    while time.monotonic() - started < limit:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            return b"".join(chunks), time.monotonic() - started
        chunks.append(data)
    raise AssertionError(f"the server kept the connection open for {limit} s; it sent {b''.join(chunks)[:200]!r}")


def _valid_body():
    return json.dumps({"data": [0.0] * 784}).encode()


def test_a_client_that_sends_nothing_is_disconnected_with_408(server):
    with _connect(server) as sock:
        reply, waited = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408")
    assert waited < 5


def test_headers_sent_a_trickle_at_a_time_get_408(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):
            time.sleep(0.5)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        reply, _ = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408")
    assert b"headers did not arrive" in reply


def test_a_content_length_larger_than_the_body_gets_408(server):
    body = _valid_body()
    with _connect(server) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(body) + 100) + body)  # fmt: skip
        reply, waited = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"body did not arrive" in reply and waited < 5


def test_many_slow_clients_are_all_dropped_and_the_server_keeps_answering(server):
    sockets = []
    try:
        for _ in range(60):
            sock = _connect(server)
            sock.sendall(b"POST /predict HTTP/1.1\r\n")
            sockets.append(sock)
        replies = [_read_until_closed(sock)[0] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert all(reply.startswith(b"HTTP/1.1 408") or reply == b"" for reply in replies)
    response = httpx.post(server + "/predict", content=_valid_body(), headers={"content-type": "application/json"}, timeout=10)
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1


def test_a_keep_alive_connection_serves_several_requests_in_time(server):
    body = _valid_body()
    request = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with _connect(server) as sock:
        for _ in range(3):
            sock.sendall(request)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                reply += sock.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200")


# ----- a model that cannot produce finite outputs ------------------------------------------------------
@pytest.fixture(scope="module")
def nan_server(tmp_path_factory):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    for parameter in model.parameters():
        parameter.data.fill_(float("nan"))
    folder = tmp_path_factory.mktemp("nan") / "model"
    shendu.save_model(model, folder, input_shape=[4], class_names=["a", "b"])
    with running_server(folder, health_status=503) as url:
        yield url


def test_health_reports_a_model_with_nan_outputs(nan_server):
    response = httpx.get(nan_server + "/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and "NaN or infinite" in body["detail"] and "0.weight" in body["detail"]


def test_a_valid_request_to_a_nan_model_is_a_server_fault(nan_server):
    response = httpx.post(nan_server + "/predict", json={"data": [0.1, 0.2, 0.3, 0.4]}, timeout=10)
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert "fault of the model, not of the request" in detail and "Traceback" not in detail


def test_the_healthy_server_says_ok(server):
    response = httpx.get(server + "/health", timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert np.isfinite(response.json()["uptime_seconds"])
