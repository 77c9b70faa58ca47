"""The schema of a model folder's ``metadata.json``, checked when it is read.

Everything the command line and the server take from ``metadata.json`` is checked here, once:
a value that would make a later step compute nonsense (``std: 0`` dividing every input, a
negative input size) or fail somewhere unrelated (``extra`` given as a list) is refused at
load with a message naming the field. Unknown keys are allowed (newer versions may add some).
"""

import math
import numbers
import os

from .files import brief

__all__ = ["check_metadata", "check_preprocess", "MetadataError"]

_MAX_DIMENSIONS = 8
_MAX_SIZE = 2**31 - 1
_MAX_CLASSES = 1_000_000


class MetadataError(ValueError):
    """``metadata.json`` holds a value of the wrong kind or out of range."""


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_int(value, field, where, largest=_MAX_SIZE):
    if not (_is_int(value) and 0 < value <= largest):
        raise MetadataError(f"{where}: {field} must be a positive integer (at most {largest:,}); got {brief(value)}")
    return int(value)


def _finite(value, field, where, positive=False):
    if not (_is_number(value) and math.isfinite(value)) or (positive and not value > 0):
        kind = "a positive finite number" if positive else "a finite number"
        raise MetadataError(f"{where}: {field} must be {kind}; got {brief(value)}")
    return float(value)


def _shape(value, field, where):
    if not (isinstance(value, list) and 0 < len(value) <= _MAX_DIMENSIONS):
        raise MetadataError(f"{where}: {field} must be a list of 1 to {_MAX_DIMENSIONS} positive integers; got {brief(value)}")
    return [_positive_int(d, f"{field}[{i}]", where) for i, d in enumerate(value)]


def _numbers(value, field, where, positive=False):
    if not (isinstance(value, list) and value):
        raise MetadataError(f"{where}: {field} must be a non-empty list of numbers; got {brief(value)}")
    return [_finite(v, f"{field}[{i}]", where, positive) for i, v in enumerate(value)]


def check_preprocess(preprocess, where="metadata.json"):
    """Check ``extra.preprocess`` (how raw inputs become model inputs); returns it unchanged.

    Raises:
        MetadataError: naming the field, e.g. ``extra.preprocess.std must be a positive finite number``.
    """
    if preprocess is None:
        return None
    field = "extra.preprocess"
    if not isinstance(preprocess, dict):
        raise MetadataError(f"{where}: {field} must be an object; got {brief(preprocess)}")
    kind = preprocess.get("kind")
    if kind == "image":
        for key in ("height", "width", "mean", "std", "input_shape"):
            if key not in preprocess:
                raise MetadataError(f"{where}: {field}.{key} is missing (an image preprocess has height, width, mean, std, input_shape)")
        height = _positive_int(preprocess["height"], f"{field}.height", where, 65536)
        width = _positive_int(preprocess["width"], f"{field}.width", where, 65536)
        _finite(preprocess["mean"], f"{field}.mean", where)
        _finite(preprocess["std"], f"{field}.std", where, positive=True)
        shape = _shape(preprocess["input_shape"], f"{field}.input_shape", where)
        if math.prod(shape) != height * width:
            raise MetadataError(f"{where}: {field}.input_shape {shape} does not hold {height}×{width} pixels")
        if not isinstance(preprocess.get("invert", False), bool):
            raise MetadataError(f"{where}: {field}.invert must be true or false; got {brief(preprocess['invert'])}")
    elif kind == "table":
        for key in ("mean", "std"):
            if key not in preprocess:
                raise MetadataError(f"{where}: {field}.{key} is missing (a table preprocess has mean and std, one per column)")
        mean = _numbers(preprocess["mean"], f"{field}.mean", where)
        std = _numbers(preprocess["std"], f"{field}.std", where, positive=True)
        if len(mean) != len(std):
            raise MetadataError(f"{where}: {field}.mean has {len(mean)} columns but {field}.std has {len(std)}")
    elif kind == "text":
        if "maxlen" not in preprocess:
            raise MetadataError(f"{where}: {field}.maxlen is missing (a text preprocess has maxlen and tokenizer)")
        _positive_int(preprocess["maxlen"], f"{field}.maxlen", where, 1_000_000)
        tokenizer = preprocess.get("tokenizer", "tokenizer.json")
        if not (isinstance(tokenizer, str) and tokenizer and os.path.basename(tokenizer) == tokenizer
                and tokenizer not in (".", "..") and "\\" not in tokenizer):  # fmt: skip
            raise MetadataError(f"{where}: {field}.tokenizer must be a file name inside the model folder; got {brief(tokenizer)}")
    else:
        raise MetadataError(f"{where}: {field}.kind must be 'image', 'table' or 'text'; got {brief(kind)}")
    return preprocess


def check_metadata(info, where="metadata.json"):
    """Check the fields of a ``metadata.json`` dict that shendu uses; returns it unchanged.

    Raises:
        MetadataError: a field of the wrong kind or out of range, named in the message.
    """
    if not isinstance(info, dict):
        raise MetadataError(f"{where}: must be a JSON object; got {brief(info)}")
    shape = info.get("input_shape")
    if shape is not None:  # one sample's shape (None for a free dimension), or one such list per input
        shapes = shape if isinstance(shape, list) and shape and all(isinstance(s, list) for s in shape) else [shape]
        for one in shapes:
            if not (isinstance(one, list) and len(one) <= _MAX_DIMENSIONS
                    and all(d is None or (_is_int(d) and 0 < d <= _MAX_SIZE) for d in one)):  # fmt: skip
                raise MetadataError(f"{where}: input_shape must be a list of positive integers (or null); got {brief(shape)}")
    names = info.get("class_names")
    if names is not None:
        if not (isinstance(names, list) and len(names) <= _MAX_CLASSES and all(isinstance(n, (str, int)) and not isinstance(n, bool) for n in names)):
            raise MetadataError(f"{where}: class_names must be a list of strings; got {brief(names)}")
    metrics = info.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise MetadataError(f"{where}: metrics must be an object of name: number; got {brief(metrics)}")
        for key, value in metrics.items():
            if value is not None and not _is_number(value):
                raise MetadataError(f"{where}: metrics.{brief(key)} must be a number or null; got {brief(value)}")
    extra = info.get("extra")
    if extra is not None:
        if not isinstance(extra, dict):
            raise MetadataError(f"{where}: extra must be an object; got {brief(extra)}")
        check_preprocess(extra.get("preprocess"), where)
    for key in ("model_class", "shendu_version", "save_id", "created"):
        if info.get(key) is not None and not isinstance(info[key], str):
            raise MetadataError(f"{where}: {key} must be a string; got {brief(info[key])}")
    if info.get("num_parameters") is not None and not (_is_int(info["num_parameters"]) and info["num_parameters"] >= 0):
        raise MetadataError(f"{where}: num_parameters must be a non-negative integer; got {brief(info['num_parameters'])}")
    return info
