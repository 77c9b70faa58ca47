"""The model server (extra ``[serve]``: FastAPI + uvicorn) and its demo page.

- :func:`create_app`: an ASGI app around any :class:`shendu.nn.Module`: ``POST /predict``
  (``{"data": ...}`` → ``{"predictions": ..., "probabilities": ...}``, the contract of seed 004),
  ``GET /health``, ``GET /metadata``, OpenAPI docs at ``/docs``, and at ``/`` a page where a digit
  drawn with the mouse or a finger is classified as it is drawn (a form for other models).
- :func:`app_from_dir`: the same for a directory written by ``shendu.save_model``.
- :func:`serve`: run it with uvicorn (``shendu serve MODEL_DIR``), bound to 127.0.0.1 unless told otherwise.

Example:
    >>> from shendu.serve import serve
    >>> serve("runs/mnist-mlp", port=8000)
"""

from .app import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, create_app
from .limits import BodySizeLimit
from .predictor import InputError, Predictor

__all__ = ["create_app", "app_from_dir", "serve", "Predictor", "InputError", "BodySizeLimit",
           "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_BATCH"]  # fmt: skip


def app_from_dir(model_dir, **kwargs):
    """An app for the model saved in ``model_dir`` (``config.json``, ``model.safetensors``, ``metadata.json``)."""
    from ..io import load_model

    model, metadata = load_model(model_dir, with_metadata=True)
    return create_app(model, metadata, **kwargs)


def serve(model_dir, host="127.0.0.1", port=8000, *, log_level="info", access_log=True, **kwargs):
    """Serve the model in ``model_dir`` with uvicorn until interrupted.

    Args:
        model_dir: a directory written by :func:`shendu.save_model`.
        host: the address to bind. Defaults to 127.0.0.1 (this machine only).
        port: the TCP port. Defaults to 8000.
        log_level: uvicorn's log level. Defaults to "info".
        access_log: log every request. Defaults to True.
        **kwargs: ``max_body_bytes``, ``max_batch``, ... for :func:`create_app`.
    """
    try:
        import uvicorn
    except ImportError:
        raise ImportError("the model server needs FastAPI and uvicorn: pip install 'shendu[serve]'") from None
    app = app_from_dir(model_dir, **kwargs)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)
