"""The model server through FastAPI's TestClient: the seed-004 contract, metadata, health, the page,
and every limit and error (413 with and without Content-Length, 422 naming the field, 500 without
a traceback)."""

import asyncio
import inspect
import json

import numpy as np
import pytest

import shendu
from shendu import nn

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")
from fastapi.testclient import TestClient  # noqa: E402

from shendu.serve import app_from_dir, create_app, serve  # noqa: E402

CLASSES = [str(i) for i in range(10)]


def _mlp(last=None):
    layers = [nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10)] + ([last] if last is not None else [])
    return nn.Sequential(*layers)


@pytest.fixture
def model():
    return _mlp()


@pytest.fixture
def client(model):
    return TestClient(create_app(model, {"class_names": CLASSES, "metrics": {"accuracy": 0.9}}))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _detail(response):
    body = response.json()
    assert "Traceback" not in response.text
    return body["detail"]


# ----- the contract ----------------------------------------------------------------------------
def test_predict_one_sample(client, model, rng):
    x = rng.random(784).astype(np.float32)
    response = client.post("/predict", json={"data": x.tolist()})
    assert response.status_code == 200
    body = response.json()
    expected = _softmax(model(shendu.tensor(x[None])).detach().numpy().astype(np.float64))
    assert body["predictions"] == [int(expected.argmax())]
    np.testing.assert_allclose(body["probabilities"], expected, atol=1e-6)
    assert body["labels"] == [CLASSES[int(expected.argmax())]]


def test_predict_a_batch(client, model, rng):
    x = rng.random((5, 784)).astype(np.float32)
    body = client.post("/predict", json={"data": x.tolist()}).json()
    expected = _softmax(model(shendu.tensor(x)).detach().numpy().astype(np.float64))
    assert body["predictions"] == expected.argmax(axis=1).tolist()
    assert np.allclose(np.sum(body["probabilities"], axis=1), 1.0)


def test_softmax_output_is_taken_as_probabilities(rng):
    model = _mlp(nn.Softmax(dim=1))
    x = rng.random((2, 784)).astype(np.float32)
    body = TestClient(create_app(model)).post("/predict", json={"data": x.tolist()}).json()
    np.testing.assert_allclose(body["probabilities"], model(shendu.tensor(x)).detach().numpy(), atol=1e-6)
    assert "labels" not in body


def test_regression_model_answers_values_and_null_probabilities(rng):
    model = nn.Sequential(nn.Linear(13, 1))
    x = rng.random((3, 13)).astype(np.float32)
    client = TestClient(create_app(model))
    body = client.post("/predict", json={"data": x.tolist()}).json()
    np.testing.assert_allclose(body["predictions"], model(shendu.tensor(x)).detach().numpy()[:, 0], atol=1e-6)
    assert body["probabilities"] is None
    meta = client.get("/metadata").json()
    assert meta["task"] == "regression" and meta["input_kind"] == "vector"


def test_token_model_takes_integer_ids_in_range():
    model = nn.Sequential(nn.Embedding(50, 4), nn.Flatten(), nn.Linear(4 * 6, 3))
    client = TestClient(create_app(model, {"input_shape": [6]}))
    ok = client.post("/predict", json={"data": [[1, 2, 3, 4, 5, 49]]})
    assert ok.status_code == 200 and len(ok.json()["probabilities"][0]) == 3
    fraction = client.post("/predict", json={"data": [1, 2, 3.5, 4, 5, 6]})
    assert fraction.status_code == 422 and "data[2]" in _detail(fraction)[0]["msg"]
    outside = client.post("/predict", json={"data": [1, 2, 3, 4, 5, 50]})
    assert outside.status_code == 422
    assert _detail(outside)[0]["loc"] == ["body", "data", 5] and "[0, 50)" in _detail(outside)[0]["msg"]
    assert client.get("/metadata").json()["input_kind"] == "tokens"


def test_health_and_metadata(client):
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    meta = client.get("/metadata").json()
    assert meta["input_shape"] == [784]
    assert meta["classes"] == CLASSES
    assert meta["input_kind"] == "image"
    assert "Linear(in_features=784, out_features=16" in meta["summary"]
    assert meta["shendu_version"] == shendu.__version__
    assert meta["num_parameters"] == 784 * 16 + 16 + 16 * 10 + 10
    assert meta["max_batch"] == 256 and meta["max_body_bytes"] == 1_000_000


def test_openapi_documents_only_the_three_endpoints(client):
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/predict", "/health", "/metadata"}  # nothing loads or replaces a model
    predict = spec["paths"]["/predict"]["post"]
    assert {"200", "413", "422", "500"} <= set(predict["responses"])
    schema = predict["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["data"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_docs_page_works_offline(client):
    pytest.importorskip("swagger_ui_bundle")
    docs = client.get("/docs").text
    assert "cdn." not in docs and "/docs/swagger-ui-bundle.js" in docs
    assert client.get("/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/docs/../app.py").status_code == 404


def test_app_from_a_saved_model_directory(tmp_path, model):
    shendu.save_model(model, tmp_path / "m", class_names=CLASSES, metrics={"accuracy": 0.5})
    client = TestClient(app_from_dir(tmp_path / "m"))
    meta = client.get("/metadata").json()
    assert meta["classes"] == CLASSES and meta["metrics"] == {"accuracy": 0.5}
    assert client.post("/predict", json={"data": [0.0] * 784}).status_code == 200


# ----- 422: data that does not fit --------------------------------------------------------------
@pytest.mark.parametrize(
    "data, loc, words",
    [
        ([0.0] * 700, ["body", "data"], "shape [700]; expected one sample of shape [784]"),
        ([[0.0] * 784, [0.0] * 783], ["body", "data"], "ragged"),
        ([[[0.0] * 784]], ["body", "data"], "shape [1, 1, 784]"),
        (["0.5"] + [0.0] * 783, ["body", "data", 0], "str"),
        ([0.0] * 783 + [None], ["body", "data", 783], "NoneType"),
        ([[0.0] * 784, [0.0] * 10 + [True] + [0.0] * 773], ["body", "data", 1, 10], "bool"),
        ([{"x": 1}] * 784, ["body", "data", 0], "dict"),
        (3.5, ["body", "data"], "list of numbers"),
        ([], ["body", "data"], "shape [0]"),
        ([0.0] * 5 + [2e6] + [0.0] * 778, ["body", "data", 5], "within ±1e+06"),
    ],
)
def test_bad_data_is_422_naming_the_field(client, data, loc, words):
    response = client.post("/predict", json={"data": data})
    assert response.status_code == 422
    (error,) = _detail(response)
    assert error["loc"] == loc
    assert words in error["msg"]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinity_are_422(client, literal):
    body = b"{\"data\": [[" + b"0.5, " * 783 + b"0.5], [" + b"0, " * 300 + literal + b", 0" * 483 + b"]]}"
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    (error,) = _detail(response)
    assert error["loc"] == ["body", "data", 1, 300]
    assert "NaN or infinite" in error["msg"]


@pytest.mark.parametrize(
    "body, loc",
    [
        (b"{not json", ["body"]),
        (b"[1, 2, 3]", ["body"]),
        (b'{"values": [1]}', ["body", "values"]),
        (b"{}", ["body", "data"]),
        (b"", ["body"]),
        (b"[" * 100_000 + b"]" * 100_000, ["body"]),
    ],
    ids=["invalid", "array", "extra-field", "missing", "empty", "deep"],
)
def test_malformed_bodies_are_422(client, body, loc):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert _detail(response)[0]["loc"] == loc


def test_batch_over_the_limit_is_422(client):
    ok = client.post("/predict", json={"data": [[0.0] * 784] * 256})
    assert ok.status_code == 200 and len(ok.json()["predictions"]) == 256
    response = client.post("/predict", json={"data": [[0.0] * 784] * 257})
    assert response.status_code == 422
    assert "257 samples; at most 256" in _detail(response)[0]["msg"]


def test_batch_limit_is_configurable(model):
    client = TestClient(create_app(model, max_batch=4))
    assert client.post("/predict", json={"data": [[0.0] * 784] * 4}).status_code == 200
    assert client.post("/predict", json={"data": [[0.0] * 784] * 5}).status_code == 422


# ----- 413: bodies over the limit ---------------------------------------------------------------
def test_body_over_1mb_is_413(client):
    body = json.dumps({"data": [[0.123456789] * 784] * 100}).encode()
    assert len(body) > 1_000_000
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1000000 bytes" in _detail(response)


def test_chunked_body_without_content_length_is_413(client):
    def chunks():
        for _ in range(30):
            yield b" " * 50_000

    response = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_chunked_body_under_the_limit_is_served(client):
    payload = json.dumps({"data": [0.0] * 784}).encode()

    def chunks():
        for start in range(0, len(payload), 1000):
            yield payload[start : start + 1000]

    response = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 200


def test_body_limit_is_configurable(model):
    client = TestClient(create_app(model, max_body_bytes=2000))
    response = client.post("/predict", json={"data": [0.0] * 784})
    assert response.status_code == 413 and "2000 bytes" in _detail(response)


# ----- 500: the model fails ------------------------------------------------------------------------
def test_internal_error_is_500_without_traceback(model, caplog):
    def failing(module, batch):
        if len(batch) == 2:  # (the start-up probes send 1 and 4 samples)
            raise RuntimeError("secret internal detail /etc/passwd")
        with shendu.no_grad():
            return module(shendu.tensor(batch))

    client = TestClient(create_app(model, predict=failing), raise_server_exceptions=False)
    response = client.post("/predict", json={"data": [[0.0] * 784] * 2})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "prediction failed" in caplog.text  # logged on the server side


def test_predictions_run_off_the_event_loop(model):
    seen = []

    def predict(module, batch):
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")
        with shendu.no_grad():
            return module(shendu.tensor(batch))

    client = TestClient(create_app(model, predict=predict))
    seen.clear()  # the start-up probe ran outside any request
    assert client.post("/predict", json={"data": [0.0] * 784}).status_code == 200
    assert seen == ["worker thread"]


# ----- the page -----------------------------------------------------------------------------------
def test_page_and_its_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<canvas id="canvas"' in page.text and "/static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/predict" in script.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/secrets.txt").status_code == 404
    assert client.get("/static/..%2F__init__.py").status_code == 404


def test_the_title_and_favicon_need_no_cjk_font(client):
    """深度 is drawn as SVG paths (no text left to a font the machine may lack); the page links a favicon."""
    import xml.etree.ElementTree as ET

    page = client.get("/").text
    assert 'src="/static/title.svg" alt="深度"' in page and 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in page
    header = page[page.index("<h1>"):page.index("</h1>")]
    assert not any("\u4e00" <= c <= "\u9fff" for c in header.replace('alt="深度"', ""))  # no CJK text to render
    for name, glyphs in (("title.svg", 2), ("favicon.svg", 1)):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
        svg = ET.fromstring(answer.text)
        paths = svg.findall(".//{http://www.w3.org/2000/svg}path")
        assert len(paths) == glyphs and all(len(p.get("d")) > 100 for p in paths)
        assert svg.find("{http://www.w3.org/2000/svg}text") is None


def test_binds_localhost_by_default():
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


def test_unknown_input_shape_is_refused_at_start():
    class Bare(nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(ValueError, match="input shape is unknown"):
        create_app(Bare())
