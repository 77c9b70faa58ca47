"""A real ``shendu serve`` process on 127.0.0.1: the seed MLP under a bounded load test (no errors;
requests/s and p50/p99 printed), and the body limit enforced by uvicorn for a chunked upload."""

import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from benchmarks.serve_load import report, run_load, running_server, save_seed_mlp  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = save_seed_mlp(tmp_path_factory.mktemp("serve") / "seed-mlp")
    with running_server(model_dir) as url:
        yield url


def test_bounded_load_has_no_errors(server):
    figures = run_load(server, requests=300, concurrency=16)
    print("\n" + report(figures))
    assert figures["errors"] == []
    assert figures["p50_ms"] > 0 and figures["requests_per_second"] > 0


def test_real_server_answers_the_seed_004_contract(server):
    response = httpx.post(server + "/predict", json={"data": [[0.5] * 784, [0.0] * 784]}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert len(body["predictions"]) == 2 and len(body["probabilities"][1]) == 10
    meta = httpx.get(server + "/metadata", timeout=30).json()
    assert meta["input_shape"] == [784] and meta["classes"] == [str(i) for i in range(10)]


def test_real_server_refuses_a_chunked_body_over_the_limit(server):
    def chunks():
        yield b'{"data": ['
        for _ in range(40):
            yield b"0.123456789, " * 2000  # 26 kB a chunk, no Content-Length: chunked transfer encoding
        yield b"0]}"

    response = httpx.post(server + "/predict", content=chunks(), headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_real_server_rejects_nan_with_422(server):
    body = b'{"data": [' + b"0, " * 10 + b"NaN" + b", 0" * 773 + b"]}"
    response = httpx.post(server + "/predict", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 422
    assert json.loads(response.text)["detail"][0]["loc"] == ["body", "data", 10]
