"""``shendu.save`` / ``shendu.load``: tensors in the safetensors format, never pickle.

A flat mapping ``name -> tensor`` (a ``state_dict``) is written as a plain safetensors file
that any safetensors reader (PyTorch's included) can open. Nested state — an optimiser's
``{"state": {0: {"exp_avg": ...}}, "param_groups": [...]}``, a training checkpoint — is
flattened: every tensor or array becomes one safetensors entry and the structure around them
(dicts, lists, tuples, numbers, strings) is stored as JSON in the header's ``__metadata__``.

Loading parses the header itself before touching the data, so a hostile or damaged file fails
with a clear :class:`SerializationError` (header too large, truncated data, overlapping or
out-of-range offsets, unknown dtype, shape/size mismatch) and never runs code.

Example:
    >>> shendu.save(model.state_dict(), "model.safetensors")
    >>> model.load_state_dict(shendu.load("model.safetensors"))
"""

import json
import math
import os
from collections import OrderedDict

import numpy as np

from ..tensor import Tensor
from .atomic import atomic_write

__all__ = ["save", "load", "save_bytes", "load_bytes", "SerializationError", "MAX_HEADER_BYTES"]

#: Largest header (JSON) :func:`load` accepts, in bytes; pass ``max_header_bytes`` to change it.
MAX_HEADER_BYTES = 16 * 1024 * 1024
_STRUCTURE_KEY = "shendu.structure"
_FORMAT_KEY = "format"

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8,
    "BOOL": np.bool_,
}  # fmt: skip
_DTYPE_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


class SerializationError(ValueError):
    """A file is not a valid shendu/safetensors file (truncated, malformed, too large, ...)."""


# ----- structure <-> JSON ---------------------------------------------------------------
class _Flattener:
    """Turns nested state into (JSON-able structure, {entry name: array})."""

    def __init__(self):
        self.arrays = OrderedDict()

    def _entry(self, path, array):
        name = path or "tensor"
        if name in self.arrays:
            suffix = 1
            while f"{name}#{suffix}" in self.arrays:
                suffix += 1
            name = f"{name}#{suffix}"
        if array.dtype not in _DTYPE_NAMES:
            raise TypeError(f"cannot save {path or 'tensor'}: dtype {array.dtype} is not supported by safetensors")
        self.arrays[name] = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
        return name

    def encode(self, obj, path):
        if isinstance(obj, Tensor):
            return {"$tensor": self._entry(path, obj._array)}
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self._entry(path, obj)}
        if isinstance(obj, np.generic):
            return {"$npscalar": self._entry(path, np.asarray(obj))}
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            items = [(k, self.encode(v, f"{path}.{k}" if path else str(k))) for k, v in obj.items()]
            if all(isinstance(k, str) and not k.startswith("$") for k, _ in items) and type(obj) in (dict, OrderedDict):
                return dict(items)
            for k, _ in items:
                if not (k is None or isinstance(k, (bool, int, float, str))):
                    raise TypeError(f"cannot save {path or 'object'}: dict key {k!r} of type {type(k).__name__}")
            return {"$dict": [[self.encode(k, ""), v] for k, v in items]}
        raise TypeError(
            f"cannot save {path or 'object'} of type {type(obj).__name__}: shendu.save stores tensors, arrays, "
            "numbers, strings and dicts/lists/tuples of them (never pickle)"
        )


def _decode(obj, arrays, as_numpy=False):
    if isinstance(obj, list):
        return [_decode(v, arrays, as_numpy) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag in ("$tensor", "$ndarray", "$npscalar"):
            if not isinstance(value, str) or value not in arrays:
                raise SerializationError(f"structure refers to a missing tensor entry {value!r}")
            array = arrays[value]
            if tag == "$npscalar":
                return array[()]
            return array if (tag == "$ndarray" or as_numpy) else Tensor(array)
        if tag == "$float":
            if value not in ("nan", "inf", "-inf"):
                raise SerializationError(f"bad $float value {value!r}")
            return float(value)
        if tag == "$tuple":
            return tuple(_decode(v, arrays, as_numpy) for v in _expect_list(value, tag))
        if tag == "$dict":
            out = {}
            for pair in _expect_list(value, tag):
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise SerializationError("bad $dict entry: expected [key, value] pairs")
                key = _decode(pair[0], arrays, as_numpy)
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise SerializationError(f"bad $dict key of type {type(key).__name__}")
                out[key] = _decode(pair[1], arrays, as_numpy)
            return out
    for key in obj:
        if key.startswith("$"):
            raise SerializationError(f"unknown tag {key!r} in the file's structure")
    return {k: _decode(v, arrays, as_numpy) for k, v in obj.items()}


def _expect_list(value, tag):
    if not isinstance(value, list):
        raise SerializationError(f"bad {tag}: expected a list")
    return value


def _is_flat_tensor_mapping(obj):
    return isinstance(obj, dict) and all(
        isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items()
    )


# ----- writing --------------------------------------------------------------------------
def _serialize(arrays, metadata):
    """The safetensors byte layout: u64 header length, JSON header, raw little-endian data."""
    header, offset, chunks = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, array in arrays.items():
        data = array.tobytes()
        header[name] = {"dtype": _DTYPE_NAMES[array.dtype.newbyteorder("=")], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}  # fmt: skip
        chunks.append(data)
        offset += len(data)
    blob = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # align the data to 8 bytes, as the reference writer does
    return b"".join([len(blob).to_bytes(8, "little"), blob, *chunks])


def save_bytes(obj, metadata=None):
    """Serialise like :func:`save` and return the bytes instead of writing a file."""
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TypeError("save: metadata must be a dict of str to str (the safetensors header's __metadata__)")
    if isinstance(obj, Tensor | np.ndarray):
        obj = {"tensor": obj}
    extra = {_FORMAT_KEY: "pt"}
    if _is_flat_tensor_mapping(obj):
        flattener = _Flattener()
        for name, value in obj.items():
            flattener.encode(value, name)
        arrays = flattener.arrays
        if any(isinstance(v, np.ndarray) for v in obj.values()):
            extra[_STRUCTURE_KEY] = json.dumps({k: {"$ndarray": k} if isinstance(v, np.ndarray) else {"$tensor": k}
                                                for k, v in obj.items()})  # fmt: skip
    else:
        flattener = _Flattener()
        structure = flattener.encode(obj, "")
        arrays = flattener.arrays
        extra[_STRUCTURE_KEY] = json.dumps(structure, allow_nan=False)
    for key in extra:
        if metadata and key in metadata:
            raise ValueError(f"save: metadata key {key!r} is reserved")
    return _serialize(arrays, {**(metadata or {}), **extra})


def save(obj, path, metadata=None):
    """Save tensors (a ``state_dict``, a tensor, or nested state such as an optimiser's) to ``path``.

    The file is the safetensors format; the write is atomic (see :mod:`shendu.io.atomic`).

    Args:
        obj: a Tensor, a mapping ``name -> Tensor/ndarray``, or nested dicts/lists/tuples of
            tensors, arrays, numbers, strings and ``None``.
        path: the file to write (conventionally ``*.safetensors``).
        metadata: extra ``str -> str`` pairs for the header. Defaults to None.

    Example:
        >>> shendu.save(model.state_dict(), "model.safetensors")
        >>> shendu.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    """
    return atomic_write(os.fspath(path), save_bytes(obj, metadata))


# ----- reading --------------------------------------------------------------------------
def _parse(buffer, where, max_header_bytes):
    """Validate the safetensors layout of ``buffer``; returns (arrays, metadata)."""
    size = len(buffer)
    if size < 8:
        raise SerializationError(f"{where} is truncated: {size} bytes, but a safetensors file starts with an 8-byte header length")
    header_len = int.from_bytes(bytes(buffer[:8]), "little")
    if header_len > max_header_bytes:
        raise SerializationError(
            f"{where}: header of {header_len} bytes is over the limit of {max_header_bytes} bytes "
            "(not a safetensors file, or a hostile one; pass max_header_bytes to raise the limit)"
        )
    if 8 + header_len > size:
        raise SerializationError(f"{where} is truncated: the header needs {header_len} bytes but only {size - 8} follow")
    try:
        header = json.loads(bytes(buffer[8 : 8 + header_len]).decode("utf-8"))
    except RecursionError:
        raise SerializationError(f"{where}: the header is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise SerializationError(f"{where}: the header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{where}: the header must be a JSON object; got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise SerializationError(f"{where}: __metadata__ must map strings to strings")
    data = memoryview(buffer)[8 + header_len :]
    spans, arrays = [], OrderedDict()
    for name, entry in header.items():
        if not (isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}):
            raise SerializationError(f"{where}: entry {name!r} must have exactly dtype, shape and data_offsets")
        dtype_name, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype_name not in _DTYPES:
            raise SerializationError(f"{where}: entry {name!r} has dtype {dtype_name!r}; supported: {sorted(_DTYPES)}")
        if not (isinstance(shape, list) and len(shape) <= 64 and all(_is_count(d) for d in shape)):
            raise SerializationError(f"{where}: entry {name!r} has a bad shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise SerializationError(f"{where}: entry {name!r} has bad data_offsets {offsets!r}")
        begin, end = offsets
        dtype = np.dtype(_DTYPES[dtype_name]).newbyteorder("<")
        expected = math.prod(shape) * dtype.itemsize
        if end < begin or end - begin != expected:
            raise SerializationError(
                f"{where}: entry {name!r} has shape {tuple(shape)} and dtype {dtype_name} ({expected} bytes) "
                f"but data_offsets {offsets} span {end - begin} bytes"
            )
        if end > len(data):
            raise SerializationError(
                f"{where} is truncated: entry {name!r} needs bytes up to {end} of the data section, which has {len(data)}"
            )
        spans.append((begin, end, name))
        array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=begin).reshape(shape)
        arrays[name] = array.astype(dtype.newbyteorder("="), copy=True)
    spans.sort()
    for (_, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise SerializationError(f"{where}: entries {n0!r} and {n1!r} overlap")
    return arrays, metadata


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rebuild(arrays, metadata, where, as_numpy):
    if _STRUCTURE_KEY not in metadata:
        return OrderedDict((k, v if as_numpy else Tensor(v)) for k, v in arrays.items())
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
        result = _decode(structure, arrays, as_numpy)
    except RecursionError:
        raise SerializationError(f"{where}: the stored structure is nested too deeply") from None
    except SerializationError as error:
        raise SerializationError(f"{where}: {error}") from None
    except ValueError as error:
        raise SerializationError(f"{where}: the stored structure is not valid JSON ({error})") from None
    return OrderedDict(result) if isinstance(result, dict) else result


def load_bytes(data, max_header_bytes=MAX_HEADER_BYTES, as_numpy=False, where="data"):
    """Load what :func:`save_bytes` produced (or any safetensors bytes)."""
    arrays, metadata = _parse(data, where, max_header_bytes)
    return _rebuild(arrays, metadata, where, as_numpy)


def read_metadata(path, max_header_bytes=MAX_HEADER_BYTES):
    """The header's ``__metadata__`` (``str -> str``) of a safetensors file, without loading the tensors."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise SerializationError(f"{path} is truncated: {len(head)} bytes")
        header_len = int.from_bytes(head, "little")
        if header_len > max_header_bytes:
            raise SerializationError(f"{path}: header of {header_len} bytes is over the limit of {max_header_bytes} bytes")
        blob = handle.read(header_len)
    if len(blob) < header_len:
        raise SerializationError(f"{path} is truncated: the header needs {header_len} bytes")
    try:
        header = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SerializationError(f"{path}: the header is not valid JSON ({error})") from None
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(metadata, dict):
        raise SerializationError(f"{path}: __metadata__ must be a JSON object")
    return dict(metadata)


def load(path, max_header_bytes=MAX_HEADER_BYTES, as_numpy=False):
    """Load what :func:`save` wrote (or any safetensors file).

    Args:
        path: the file.
        max_header_bytes: refuse headers larger than this. Defaults to 16 MiB.
        as_numpy: return NumPy arrays instead of Tensors. Defaults to False.

    Returns:
        An ``OrderedDict`` of name -> Tensor for a plain ``state_dict`` file; the saved nested
        structure (dicts, lists, tuples, numbers, tensors) otherwise.

    Raises:
        SerializationError: the file is truncated, malformed or its header is too large.
        FileNotFoundError: there is no such file.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    arrays, metadata = _parse(data, path, max_header_bytes)
    return _rebuild(arrays, metadata, path, as_numpy)
