"""What the server runs for one request: check the JSON data, run the model, shape the answer.

Kept free of any web framework so it can be tested (and reused) on its own.
"""

import numpy as np

__all__ = ["Predictor", "InputError", "ModelOutputError"]


class InputError(ValueError):
    """The request's data is not what the model takes; ``loc`` is the JSON path of the bad field."""

    def __init__(self, message, loc=("body", "data")):
        super().__init__(message)
        self.loc = list(loc)


class ModelOutputError(RuntimeError):
    """The model produced NaN or infinite outputs for inputs that passed every check: a server fault."""


def _leaf_modules(model):
    return [m for m in model.modules() if not m._modules]


def _final_activation(model):
    """The activation a Keras-dialect layer applies last (``Dense(10, activation="softmax")``), if any."""
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]
    if not leaves:
        return None
    leaf_name, leaf = leaves[-1]
    owners = [m for name, m in model.named_modules() if m is leaf or (name and leaf_name.startswith(name + "."))]
    for module in reversed(owners):  # the innermost layer holding the last leaf that names an activation
        name = getattr(module, "_activation_name", None)
        if isinstance(name, str):
            return {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}.get(name.lower())
    return None


def _describe(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


class Predictor:
    """Turn ``{"data": ...}`` into ``{"predictions": ..., "probabilities": ...}`` for a model.

    Args:
        model: a :class:`shendu.nn.Module` (put in eval mode).
        input_shape: the shape of one sample, without the batch dimension. Defaults to the
            metadata's ``input_shape``, else the first layer's ``in_features``.
        class_names: a label per output class. Defaults to the metadata's ``class_names``.
        metadata: a saved model's ``metadata.json`` dict. Defaults to None.
        max_batch: the largest batch one request may hold. Defaults to 256.
        max_abs_input: the largest magnitude an input value may have (model-ready inputs are
            normalised; far larger ones are a client's mistake and overflow float32 layers).
            Defaults to 1e6; None for no bound.
        predict: ``fn(model, array) -> outputs array``; defaults to a forward pass without
            gradients (in eval mode).

    The output is read as probabilities when the model ends in Softmax (or Sigmoid for one unit),
    log-probabilities after LogSoftmax, logits otherwise (softmax is applied); a model with one
    output unit and no Sigmoid is a regression (``probabilities`` is null).
    """

    def __init__(self, model, input_shape=None, class_names=None, metadata=None, max_batch=256, predict=None,
                 max_abs_input=1e6):  # fmt: skip
        from ..nn import Embedding, LogSoftmax, Sigmoid, Softmax
        from ..nn.module import Module

        if not isinstance(model, Module):
            raise TypeError(f"Predictor expects a shendu.nn.Module; got {type(model).__name__}")
        if not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive integer. Received: max_batch={max_batch!r}")
        metadata = dict(metadata or {})
        self.model = model.eval()
        self.metadata = metadata
        self.max_batch = max_batch
        if max_abs_input is not None and not (isinstance(max_abs_input, (int, float)) and max_abs_input > 0):
            raise ValueError(f"max_abs_input must be a positive number or None. Received: max_abs_input={max_abs_input!r}")
        self.max_abs_input = None if max_abs_input is None else float(max_abs_input)
        self._predict = predict
        leaves = _leaf_modules(model)
        first = leaves[0] if leaves else None
        last = leaves[-1] if leaves else None
        shape = input_shape if input_shape is not None else metadata.get("input_shape")
        if shape is None and first is not None and isinstance(getattr(first, "in_features", None), int):
            shape = [first.in_features]
        if shape is None:
            raise ValueError(
                "the model's input shape is unknown: save it with shendu.save_model(..., input_shape=...) "
                "or pass input_shape"
            )
        if not all(isinstance(n, int) and n > 0 for n in shape):
            raise ValueError(f"input_shape must be positive integers; got {shape!r}")
        self.input_shape = tuple(int(n) for n in shape)
        self.vocabulary = first.num_embeddings if isinstance(first, Embedding) else None
        float_dtype = next((p._array.dtype for p in model.parameters() if p._array.dtype.kind == "f"), np.dtype(np.float32))
        self.input_dtype = np.dtype(np.int64) if self.vocabulary is not None else np.dtype(float_dtype)
        names = class_names if class_names is not None else metadata.get("class_names")
        self.class_names = [str(n) for n in names] if names else None
        final = _final_activation(model)
        if isinstance(last, Softmax) or final == "softmax":
            self.output_kind = "probabilities"
        elif isinstance(last, LogSoftmax) or final == "log_softmax":
            self.output_kind = "log_probabilities"
        elif isinstance(last, Sigmoid) or final == "sigmoid":
            self.output_kind = "sigmoid"
        else:
            self.output_kind = "logits"
        self.output_size = self._probe_output_size()
        if self.output_kind == "logits" and self.output_size > 1 and self._outputs_look_like_probabilities():
            self.output_kind = "probabilities"  # a softmax applied inside some layer's forward
        if self.output_size == 1 and self.output_kind == "logits" and not self.class_names:
            self.output_kind = "regression"
        self.task = "regression" if self.output_kind == "regression" else "classification"
        self.problem = self._check_outputs_are_finite()

    def _check_outputs_are_finite(self):
        """None, or why the model cannot serve: its outputs for ordinary inputs (zeros, a few
        standard-normal samples or random tokens) are not all finite — NaN weights, say."""
        rng = np.random.default_rng(0)
        if self.vocabulary is not None:
            probe = rng.integers(0, self.vocabulary, size=(4,) + self.input_shape)
        else:
            probe = rng.standard_normal((4,) + self.input_shape).astype(self.input_dtype)
            probe[0] = 0
        try:
            out = self._run(probe)
        except Exception as error:  # reported by /health and at start-up, never raised from here
            return f"the model fails on ordinary inputs: {type(error).__name__}: {error}"
        if np.issubdtype(out.dtype, np.number) and not np.isfinite(out).all():
            bad = [name for name, p in self.model.named_parameters() if not np.isfinite(p._array).all()]
            where = f" (non-finite values in {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''})" if bad else ""
            return f"the model's outputs for ordinary inputs are NaN or infinite{where}"
        return None

    def _outputs_look_like_probabilities(self):
        rng = np.random.default_rng(0)
        if self.vocabulary is not None:
            probe = rng.integers(0, self.vocabulary, size=(4,) + self.input_shape)
        else:
            probe = rng.standard_normal((4,) + self.input_shape).astype(self.input_dtype)
        try:
            out = self._run(probe).astype(np.float64).reshape(4, -1)
        except Exception:  # a guess only: a model that fails on random inputs keeps the logits reading
            return False
        return bool(np.all(out >= 0) and np.all(out <= 1) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4))

    def _probe_output_size(self):
        sample = np.zeros((1,) + self.input_shape, dtype=self.input_dtype)
        out = self._run(sample)
        return int(np.prod(out.shape[1:])) if out.ndim > 1 else 1

    # ----- input ---------------------------------------------------------------------------------
    def parse(self, data, may_hold_booleans=True):
        """The request's ``data`` as a batch array of the model's input dtype, or :class:`InputError`.

        NumPy reads ``true``/``false`` among numbers as 1/0; ``may_hold_booleans=False`` (the JSON
        text had neither word) skips the element-by-element search for them.
        """
        if data is None:
            raise InputError("field required: data (one sample or a list of samples)")
        if isinstance(data, (bool, int, float, str, dict)):
            raise InputError(f"data must be a list of numbers (one sample of shape {_describe(self.input_shape)}) or a list of samples")
        try:
            array = np.asarray(data)
        except (ValueError, OverflowError):
            raise InputError(
                f"data is ragged or holds numbers that are too large; expected one sample of shape "
                f"{_describe(self.input_shape)} or a batch of shape [n, {', '.join(map(str, self.input_shape))}]"
            ) from None
        if array.dtype.kind not in "iuf" or may_hold_booleans:
            self._raise_non_numeric(data)
        if array.dtype.kind not in "iuf":
            raise InputError("data holds integers too large to be numbers a model can take")
        expected = self.input_shape
        if array.shape == expected:
            batch = array[None]
        elif array.ndim == len(expected) + 1 and array.shape[1:] == expected:
            batch = array
        else:
            raise InputError(
                f"data has shape {_describe(array.shape)}; expected one sample of shape {_describe(expected)} "
                f"or a batch of shape [n, {', '.join(map(str, expected))}]"
            )
        if len(batch) == 0:
            raise InputError("data is an empty batch; send at least one sample")
        if len(batch) > self.max_batch:
            raise InputError(f"data holds a batch of {len(batch)} samples; at most {self.max_batch} are allowed per request")
        if batch.dtype.kind == "f":
            bad = ~np.isfinite(batch)
            if bad.any():
                where = np.argwhere(bad)[0]
                index = tuple(int(i) for i in (where if array.ndim == batch.ndim else where[1:]))
                raise InputError(f"data{''.join(f'[{i}]' for i in index)} is NaN or infinite; only finite numbers are allowed",
                                 ("body", "data", *index))  # fmt: skip
        if self.vocabulary is not None:
            return self._tokens(batch, array.ndim == batch.ndim)
        if self.max_abs_input is not None:
            bad = np.abs(batch) > self.max_abs_input
            if bad.any():
                where = np.argwhere(bad)[0]
                index = tuple(int(i) for i in (where if array.ndim == batch.ndim else where[1:]))
                raise InputError(f"data{''.join(f'[{i}]' for i in index)} = {batch[tuple(where)]:g} is out of range; values "
                                 f"must lie within ±{self.max_abs_input:g}", ("body", "data", *index))  # fmt: skip
        with np.errstate(over="ignore"):
            cast = batch.astype(self.input_dtype, copy=False)
        if cast.dtype.kind == "f" and not np.isfinite(cast).all():
            raise InputError(f"data holds values too large for the model's {self.input_dtype}")
        return cast

    def _tokens(self, batch, batched):
        if batch.dtype.kind == "f":
            whole = batch == np.round(batch)
            if not whole.all():
                where = np.argwhere(~whole)[0]
                index = tuple(int(i) for i in (where if batched else where[1:]))
                raise InputError(f"data{''.join(f'[{i}]' for i in index)} is not a whole number; this model takes token ids",
                                 ("body", "data", *index))  # fmt: skip
        tokens = batch.astype(np.int64)
        bad = (tokens < 0) | (tokens >= self.vocabulary)
        if bad.any():
            where = np.argwhere(bad)[0]
            index = tuple(int(i) for i in (where if batched else where[1:]))
            raise InputError(
                f"data{''.join(f'[{i}]' for i in index)} = {int(tokens[tuple(where)])} is not a token id in [0, {self.vocabulary})",
                ("body", "data", *index),
            )
        return tokens

    def _raise_non_numeric(self, data):
        """Find the first element that is not a number (if any), for a message that points at it."""
        stack = [((), data)]
        while stack:
            path, value = stack.pop()
            if isinstance(value, list):
                stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(
                    f"data{''.join(f'[{i}]' for i in path)} is {type(value).__name__} {value!r:.40}; only numbers are allowed",
                    ("body", "data", *path),
                )

    # ----- model ---------------------------------------------------------------------------------
    def _run(self, batch):
        from ..autograd import no_grad
        from ..tensor import Tensor

        if self._predict is not None:
            out = self._predict(self.model, batch)
        else:
            with no_grad():
                out = self.model(Tensor(batch))
        if isinstance(out, (tuple, list)):
            out = out[0]
        return np.asarray(out._array if isinstance(out, Tensor) else out)

    def __call__(self, batch):
        """``{"predictions": [...], "probabilities": [...] or None}`` for a checked batch."""
        out = self._run(batch).astype(np.float64).reshape(len(batch), -1)
        finite = np.isfinite(out).all(axis=1)
        if not finite.all():
            first = int(np.argmin(finite))
            raise ModelOutputError(f"the model produced a NaN or infinite output for sample {first}; the input passed every check, "
                                   "so this is a fault of the model, not of the request")  # fmt: skip
        if self.output_kind == "regression":
            values = out[:, 0] if out.shape[1] == 1 else out
            return {"predictions": values.tolist(), "probabilities": None}
        if self.output_kind == "sigmoid" and out.shape[1] == 1:
            p = out[:, 0]
            probabilities = np.stack([1 - p, p], axis=1)
        elif self.output_kind == "probabilities":
            probabilities = out
        elif self.output_kind == "log_probabilities":
            probabilities = np.exp(out)
        elif self.output_kind == "sigmoid":
            probabilities = out  # multi-label: one independent probability per unit
        else:
            with np.errstate(under="ignore"):
                shifted = np.exp(out - out.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        predictions = probabilities.argmax(axis=1)
        result = {"predictions": predictions.tolist(), "probabilities": probabilities.tolist()}
        if self.class_names and len(self.class_names) == probabilities.shape[1]:
            result["labels"] = [self.class_names[i] for i in predictions]
        return result

    # ----- description -----------------------------------------------------------------------------
    def describe(self):
        """What ``GET /metadata`` answers."""
        from .. import __version__

        extra = self.metadata.get("extra") or {}
        preprocess = extra.get("preprocess") if isinstance(extra, dict) else None
        size = int(np.prod(self.input_shape))
        if self.vocabulary is not None:
            kind = "tokens"
        elif size == 784 and self.input_shape in ((784,), (28, 28), (1, 28, 28), (28, 28, 1)):
            kind = "image"
        else:
            kind = "vector"
        classes = self.class_names
        if classes is None and self.task == "classification":
            width = 2 if self.output_kind == "sigmoid" and self.output_size == 1 else self.output_size
            classes = [str(i) for i in range(width)]
        return {
            "model": type(self.model).__name__,
            "task": self.task,
            "input_shape": list(self.input_shape),
            "input_dtype": str(self.input_dtype),
            "input_kind": kind,
            "preprocess": preprocess,
            "vocabulary_size": self.vocabulary,
            "output_size": self.output_size,
            "classes": classes,
            "num_parameters": int(sum(p.numel() for p in self.model.parameters())),
            "summary": repr(self.model),
            "metrics": self.metadata.get("metrics") or {},
            "shendu_version": __version__,
            "max_batch": self.max_batch,
            "max_abs_input": self.max_abs_input,
        }
