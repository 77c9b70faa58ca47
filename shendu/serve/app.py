"""The FastAPI application: ``POST /predict``, ``GET /health``, ``GET /metadata``, the demo page.

The app is built around one model given in Python; no endpoint loads, replaces or names a model
file. Request bodies are limited in size by :class:`~shendu.serve.limits.BodySizeLimit` (413),
batches by ``max_batch`` (422). Parsing, checking and the forward pass run in the thread pool,
off the event loop.
"""

import json
import logging
import os
import time

from .limits import BodySizeLimit
from .predictor import InputError, ModelOutputError, Predictor

__all__ = ["create_app", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_BATCH"]

DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_BATCH = 256
DEFAULT_MAX_ABS_INPUT = 1e6
DEFAULT_BODY_TIMEOUT = 30.0
_STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_PAGE_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
               "style.css": "text/css; charset=utf-8", "title.svg": "image/svg+xml", "favicon.svg": "image/svg+xml"}  # fmt: skip
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
log = logging.getLogger("shendu.serve")


def _require_fastapi():
    try:
        import fastapi
    except ImportError:
        raise ImportError("the model server needs FastAPI and uvicorn: pip install 'shendu[serve]'") from None
    return fastapi


def _schemas():
    from typing import Any

    from pydantic import BaseModel, ConfigDict, Field

    class PredictResponse(BaseModel):
        predictions: list[Any] = Field(description="One entry per sample: the class index (classification) or the value (regression).")
        probabilities: list[list[float]] | None = Field(description="Per sample, the probability of each class; null for regression.")
        labels: list[str] | None = Field(None, description="The class name of each prediction, when the model has class names.")

    class ErrorItem(BaseModel):
        loc: list[str | int]
        msg: str
        type: str

    class ValidationErrorResponse(BaseModel):
        detail: list[ErrorItem]

    class MessageResponse(BaseModel):
        detail: str

    class Health(BaseModel):
        status: str = Field(description="'ok', or 'unhealthy' (HTTP 503) when the model cannot produce finite outputs.")
        model: str
        uptime_seconds: float
        detail: str | None = Field(None, description="Why the model is unhealthy.")

    class Metadata(BaseModel):
        model_config = ConfigDict(extra="allow")
        model: str
        task: str
        input_shape: list[int]
        input_dtype: str
        input_kind: str
        preprocess: dict[str, Any] | None = None
        vocabulary_size: int | None = None
        output_size: int
        classes: list[str] | None = None
        num_parameters: int
        summary: str
        metrics: dict[str, Any]
        shendu_version: str
        max_batch: int
        max_abs_input: float | None = None
        max_body_bytes: int

    return PredictResponse, ValidationErrorResponse, MessageResponse, Health, Metadata


def _request_schema(predictor):
    if predictor.vocabulary:
        number = {"type": "integer", "minimum": 0, "maximum": predictor.vocabulary - 1}
    else:
        number = {"type": "number"}
        if predictor.max_abs_input is not None:
            number.update(minimum=-predictor.max_abs_input, maximum=predictor.max_abs_input)
    sample = number
    for n in reversed(predictor.input_shape):
        sample = {"type": "array", "items": sample, "minItems": n, "maxItems": n}
    batch = {"type": "array", "items": sample, "minItems": 1, "maxItems": predictor.max_batch}
    example = [0] * predictor.input_shape[-1] if len(predictor.input_shape) == 1 else None
    schema = {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "data": {
                "description": f"One sample of shape {list(predictor.input_shape)} or a batch of at most "
                f"{predictor.max_batch} samples. Finite numbers only"
                + (f", within ±{predictor.max_abs_input:g}" if predictor.max_abs_input and not predictor.vocabulary else "")
                + (f"; token ids in [0, {predictor.vocabulary})" if predictor.vocabulary else "")
                + ".",
                "anyOf": [sample, batch],
            }
        },
    }
    if example is not None:
        schema["example"] = {"data": example}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_DOCS_FILES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "favicon-32x32.png": "image/png"}  # fmt: skip


def _swagger_assets():
    """Swagger UI's files from the ``swagger-ui-bundle-v2`` package (the ``[serve]`` extra), read once:
    the docs page then works offline. None when the package is missing (FastAPI's CDN page is used)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    assets = {}
    for name in _DOCS_FILES:
        try:
            with open(os.path.join(swagger_ui_path, name), "rb") as handle:
                assets[name] = handle.read()
        except OSError:
            return None
    return assets


def _offline_docs(app, title, assets):
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import JSONResponse, Response

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{title} · API docs",
                                   swagger_js_url="/docs/swagger-ui-bundle.js", swagger_css_url="/docs/swagger-ui.css",
                                   swagger_favicon_url="/docs/favicon-32x32.png")  # fmt: skip

    @app.get("/docs/{name}", include_in_schema=False)
    async def docs_asset(name: str):
        if name not in assets:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return Response(assets[name], media_type=_DOCS_FILES[name], headers={"Cache-Control": "max-age=86400"})


def _error(status, message, loc=("body",), kind="value_error"):
    from fastapi.responses import JSONResponse

    return JSONResponse({"detail": [{"loc": list(loc), "msg": message, "type": kind}]}, status_code=status)


def create_app(model, metadata=None, *, input_shape=None, class_names=None, predict=None,
               max_body_bytes=DEFAULT_MAX_BODY_BYTES, max_batch=DEFAULT_MAX_BATCH, max_abs_input=DEFAULT_MAX_ABS_INPUT,
               title=None, body_timeout=DEFAULT_BODY_TIMEOUT):  # fmt: skip
    """An ASGI app serving ``model``.

    Args:
        model: a :class:`shendu.nn.Module`.
        metadata: the model's ``metadata.json`` dict (input shape, class names, metrics). Defaults to None.
        input_shape: one sample's shape; defaults to the metadata's or the first layer's.
        class_names: labels of the classes; defaults to the metadata's.
        predict: ``fn(model, batch_array) -> outputs`` to use instead of a plain forward pass.
        max_body_bytes: larger request bodies get 413. Defaults to 1,000,000.
        max_batch: larger batches get 422. Defaults to 256.
        max_abs_input: input values beyond ±this get 422 (inputs are model-ready, i.e. normalised).
            Defaults to 1e6; None for no bound.
        title: shown in the OpenAPI docs and the page. Defaults to the model's class name.
        body_timeout: seconds a client has to send the whole body once its headers are in;
            a slower one gets 408. Defaults to 30.

    Example:
        >>> app = create_app(shendu.load_model("runs/mnist-mlp"), shendu.io.load_metadata("runs/mnist-mlp"))
        >>> uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    fastapi = _require_fastapi()
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    from .. import __version__

    predictor = Predictor(model, input_shape=input_shape, class_names=class_names, metadata=metadata,
                          max_batch=max_batch, predict=predict, max_abs_input=max_abs_input)  # fmt: skip
    PredictResponse, ValidationErrorResponse, MessageResponse, Health, Metadata = _schemas()
    description = predictor.describe()
    description["max_body_bytes"] = max_body_bytes
    title = title or f"shendu model server: {description['model']}"
    started = time.monotonic()
    pages = {}
    for name in _PAGE_FILES:
        with open(os.path.join(_STATIC, name), encoding="utf-8") as handle:
            pages[name] = handle.read()

    docs_assets = _swagger_assets()
    app = fastapi.FastAPI(
        title=title,
        version=__version__,
        description="Predictions from a shendu model. `POST /predict` with `{\"data\": ...}` (one sample or a batch).",
        docs_url=None if docs_assets else "/docs",
        redoc_url=None,
    )
    if docs_assets:
        _offline_docs(app, title, docs_assets)
    app.state.predictor = predictor

    def handle(body):
        """Parse, check and predict (runs in the thread pool)."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            return _error(422, f"the body is not valid JSON: {error}", ("body",), "json_invalid")
        except RecursionError:
            return _error(422, "the body is nested too deeply", ("body",), "json_invalid")
        if not isinstance(payload, dict):
            return _error(422, 'the body must be a JSON object {"data": ...}', ("body",), "model_attributes_type")
        extra = sorted(set(payload) - {"data"})
        if extra:
            return _error(422, f"unexpected field {extra[0]!r}; the body is {{\"data\": ...}}", ("body", extra[0]), "extra_forbidden")
        if "data" not in payload:
            return _error(422, "field required: data (one sample or a list of samples)", ("body", "data"), "missing")
        try:
            batch = predictor.parse(payload["data"], may_hold_booleans=b"true" in body or b"false" in body)
        except InputError as error:
            return _error(422, str(error), error.loc)
        except RecursionError:
            return _error(422, "data is nested too deeply", ("body", "data"))
        try:
            result = predictor(batch)
        except InputError as error:
            return _error(422, str(error), error.loc)
        except ModelOutputError as error:
            log.error("prediction failed: %s", error)
            return JSONResponse({"detail": str(error)}, status_code=500)
        except Exception:  # a failure of the model itself: logged here, never shown to the client
            log.exception("prediction failed")
            return JSONResponse({"detail": "internal server error"}, status_code=500)
        return JSONResponse(result)

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={413: {"model": MessageResponse, "description": "Body too large"},
                   422: {"model": ValidationErrorResponse, "description": "Data of the wrong shape or type"},
                   500: {"model": MessageResponse, "description": "The model failed"}},  # fmt: skip
        openapi_extra=_request_schema(predictor),
        summary="Predict one sample or a batch",
    )
    async def predict_endpoint(request: fastapi.Request):  # type: ignore[name-defined]  # fastapi is imported lazily
        body = await request.body()
        return await run_in_threadpool(handle, body)

    @app.get("/health", response_model=Health, summary="Liveness", responses={503: {"model": Health, "description": "The model cannot produce finite outputs"}})
    async def health():
        uptime = round(time.monotonic() - started, 3)
        if predictor.problem is not None:
            return JSONResponse({"status": "unhealthy", "model": description["model"], "uptime_seconds": uptime,
                                 "detail": predictor.problem}, status_code=503)  # fmt: skip
        return {"status": "ok", "model": description["model"], "uptime_seconds": uptime}

    @app.get("/metadata", response_model=Metadata, summary="Input shape, classes, model summary, shendu version")
    async def metadata_endpoint():
        return description

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(pages["index.html"], headers=_PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        if name not in _PAGE_FILES or name == "index.html":
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return Response(pages[name], media_type=_PAGE_FILES[name], headers=_PAGE_HEADERS)

    @app.exception_handler(Exception)
    async def internal_error(request, error):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, timeout=body_timeout)
    return app
