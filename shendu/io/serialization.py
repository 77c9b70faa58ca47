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

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict

from typing import Any

import numpy as np

from ..tensor import Tensor
from .atomic import atomic_write
from .files import bounded_message, brief, open_regular_file
from .torch_format import is_pickle, is_torch_zip, load_torch_legacy, load_torch_zip, save_torch_zip

__all__ = ["save", "load", "save_bytes", "load_bytes", "read_header", "read_metadata", "SerializationError", "MAX_HEADER_BYTES"]

#: Largest header (JSON) :func:`load` accepts, in bytes; pass ``max_header_bytes`` to change it.
MAX_HEADER_BYTES = 16 * 1024 * 1024
_STRUCTURE_KEY = "shendu.structure"
_MODULE_KEY = "shendu.module"
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

    def __init__(self, message):
        super().__init__(bounded_message(message))


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
    module = _whole_module(obj)
    if module is not None:
        return _serialize_module(module, metadata)
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


def save(obj: Any, path: str | os.PathLike, metadata: dict[str, str] | None = None, *, format: str = "safetensors"
         ) -> None:
    """Save tensors (a ``state_dict``, a tensor, or nested state such as an optimiser's) to ``path``.

    The file is the safetensors format, or with ``format="torch"`` PyTorch's own (``torch.save``'s zip
    format, which ``torch.load(path, weights_only=True)`` reads; written without pickle's machinery,
    see :func:`shendu.io.torch_format.save_torch_zip`). The write is atomic (see :mod:`shendu.io.atomic`).

    Args:
        obj: a Tensor, a mapping ``name -> Tensor/ndarray``, nested dicts/lists/tuples of
            tensors, arrays, numbers, strings and ``None``, or a whole model built from registered
            layer classes (its architecture is stored as plain data beside its weights, and
            :func:`load` rebuilds it; a model of your own class: save its ``state_dict()``).
        path: the file to write (conventionally ``*.safetensors``).
        metadata: extra ``str -> str`` pairs for the header. Defaults to None.
        format: ``"safetensors"`` (the default) or ``"torch"`` (tensors, numbers, strings and containers only).

    Example:
        >>> shendu.save(model.state_dict(), "model.safetensors")
        >>> shendu.save(model.state_dict(), "model.pt", format="torch")   # for torch.load in PyTorch
        >>> shendu.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    """
    if format == "torch":
        if metadata is not None:
            raise ValueError("save: metadata is a safetensors header field; PyTorch's format has none")
        return save_torch_zip(obj, os.fspath(path))
    if format != "safetensors":
        raise ValueError(f"save: format must be 'safetensors' or 'torch'. Received: format={format!r}")
    return atomic_write(os.fspath(path), save_bytes(obj, metadata))


# ----- reading --------------------------------------------------------------------------
class _Header:
    """A validated safetensors header: its entries in file order, metadata, and the data size."""

    def __init__(self, header_len, entries, metadata, data_len):
        self.header_len, self.entries, self.metadata, self.data_len = header_len, entries, metadata, data_len

    @property
    def file_size(self):
        return 8 + self.header_len + self.data_len

    def shapes(self):
        """``{name: (shape tuple, numpy dtype)}`` for every tensor entry."""
        return {name: (tuple(shape), dtype) for name, dtype, shape, _, _ in self.entries}


def _header_length(head, where, size, max_header_bytes):
    if len(head) < 8:
        raise SerializationError(f"{where} is truncated: {len(head)} bytes, but a safetensors file starts with an 8-byte header length")
    if head[:4] == b"PK\x03\x04":
        raise SerializationError(
            f"{where} is a zip archive (a PyTorch torch.save checkpoint or a Keras .keras file), not safetensors; "
            "shendu.load reads safetensors files: in PyTorch, save with safetensors.torch.save_file(model.state_dict(), path)"
        )
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        raise SerializationError(f"{where} is an HDF5 file (Keras .h5 weights), not safetensors")
    header_len = int.from_bytes(bytes(head[:8]), "little")
    if header_len > max_header_bytes:
        raise SerializationError(
            f"{where}: header of {header_len} bytes is over the limit of {max_header_bytes} bytes "
            "(not a safetensors file, or a hostile one; pass max_header_bytes to raise the limit)"
        )
    if size is not None and 8 + header_len > size:
        raise SerializationError(f"{where} is truncated: the header needs {header_len} bytes but only {size - 8} follow")
    return header_len


def _parse_header(blob, header_len, where):
    """Validate a header as the safetensors library does; returns a :class:`_Header`.

    The rules: UTF-8 JSON object starting with ``{``; optional ``__metadata__`` mapping strings to
    strings; every entry has exactly dtype, shape and data_offsets; each entry's byte span equals
    its shape times its dtype size; sorted by offset, the spans are contiguous from 0 (no gap, no
    overlap), so the data section is covered exactly and its length is the last span's end.
    """
    if len(blob) < header_len:
        raise SerializationError(f"{where} is truncated: the header needs {header_len} bytes but only {len(blob)} follow")
    try:
        text = bytes(blob).decode("utf-8")
    except UnicodeDecodeError:
        raise SerializationError(f"{where}: the header is not UTF-8 text (not a safetensors file?)") from None
    if not text.startswith("{"):
        raise SerializationError(f"{where}: the header does not start with '{{' (not a safetensors file?)")
    try:
        header = json.loads(text)
    except RecursionError:
        raise SerializationError(f"{where}: the header is nested too deeply") from None
    except ValueError as error:
        raise SerializationError(f"{where}: the header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{where}: the header must be a JSON object; got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise SerializationError(f"{where}: __metadata__ must map strings to strings")
    entries = []
    for name, entry in header.items():
        if not (isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}):
            raise SerializationError(f"{where}: entry {brief(name)} must have exactly dtype, shape and data_offsets")
        dtype_name, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
            raise SerializationError(f"{where}: entry {brief(name)} has dtype {brief(dtype_name)}; supported: {sorted(_DTYPES)}")
        if not (isinstance(shape, list) and len(shape) <= 64 and all(_is_count(d) for d in shape)):
            raise SerializationError(f"{where}: entry {brief(name)} has a bad shape {brief(shape)}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise SerializationError(f"{where}: entry {brief(name)} has bad data_offsets {brief(offsets)}")
        begin, end = offsets
        dtype = np.dtype(_DTYPES[dtype_name]).newbyteorder("<")
        expected = math.prod(shape) * dtype.itemsize
        if end < begin or end - begin != expected:
            raise SerializationError(
                f"{where}: entry {brief(name)} has shape {brief(tuple(shape))} and dtype {dtype_name} ({expected} bytes) "
                f"but data_offsets {offsets} span {end - begin} bytes"
            )
        entries.append((name, dtype, shape, begin, end))
    position = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != position:
            problem = "overlaps the entry before it" if begin < position else f"leaves bytes {position}..{begin} covered by no tensor"
            raise SerializationError(f"{where}: entry {brief(name)} at data_offsets [{begin}, {end}] {problem}")
        position = end
    return _Header(header_len, entries, metadata, position)


def _check_size(header, size, where):
    if size < header.file_size:
        raise SerializationError(
            f"{where} is truncated: its tensors need {header.data_len} bytes of data but only {size - 8 - header.header_len} follow the header"
        )
    if size > header.file_size:
        raise SerializationError(
            f"{where} has {size - header.file_size} bytes after its last tensor (trailing data, or not a safetensors file)"
        )


def _arrays(header, data):
    """The entries as arrays: views of ``data`` where it is writable and already in native byte
    order (a ``bytearray`` read from a file), copies otherwise."""
    arrays = OrderedDict()
    share = isinstance(data, bytearray)
    for name, dtype, shape, begin, _ in header.entries:
        array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=begin).reshape(shape)
        native = dtype.newbyteorder("=")
        arrays[name] = array.view(native) if share and native == dtype else array.astype(native, copy=True)
    return arrays


def _parse(buffer, where, max_header_bytes):
    """Validate the safetensors layout of ``buffer``; returns (arrays, metadata)."""
    size = len(buffer)
    header_len = _header_length(bytes(buffer[:8]), where, size, max_header_bytes)
    header = _parse_header(memoryview(buffer)[8 : 8 + header_len], header_len, where)
    _check_size(header, size, where)
    return _arrays(header, memoryview(buffer)[8 + header_len :]), header.metadata


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _whole_module(obj):
    """``obj`` if it is a whole Module (``shendu.save(model, path)``), else None."""
    from ..nn.module import Module

    return obj if isinstance(obj, Module) else None


def _serialize_module(module, metadata):
    """A whole model as one safetensors file: its weights, and its architecture as JSON in the header.

    No pickle: the architecture is the same plain data as a model folder's config.json, so only
    models built from registered layer classes can be stored this way.
    """
    from .model_files import model_to_config

    try:
        config = model_to_config(module)
    except TypeError:
        name = type(module).__name__
        raise TypeError(
            f"shendu.save cannot store a whole {name}: its class is not registered, and shendu never pickles code. "
            f"Save its weights with shendu.save(model.state_dict(), path) and rebuild it with {name}(...) and "
            f"load_state_dict(shendu.load(path)); or decorate {name} with @shendu.io.register_model"
        ) from None
    extra = {_FORMAT_KEY: "pt", _MODULE_KEY: json.dumps(config, allow_nan=False)}
    flattener = _Flattener()
    for name, value in module.state_dict().items():
        flattener.encode(value, name)
    return _serialize(flattener.arrays, {**(metadata or {}), **extra})


def _rebuild_module(path, max_header_bytes):
    """The model a file of :func:`_serialize_module` holds (built without initialisation, then filled)."""
    from .model_files import ModelFormatError, _check_shapes, model_from_config
    from ..nn import init
    from ..nn.module import AllocationBudgetError, allocation_budget

    built = {}

    def build(header):
        try:
            config = json.loads(header.metadata[_MODULE_KEY])
            with init.skip_init(), allocation_budget(2 * header.data_len + (64 << 20), path):
                built["model"] = model_from_config(config)
        except (ValueError, ModelFormatError, AllocationBudgetError) as error:
            raise SerializationError(f"{path}: the stored architecture cannot be rebuilt: {error}") from None
        _check_shapes(built["model"], header.shapes(), path)

    header, arrays = _read_file(path, max_header_bytes, check=build)
    model = built["model"]
    model.load_state_dict(arrays)
    return model


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


def _read_file(path, max_header_bytes, check=None):
    """(header, arrays) of the safetensors file ``path``, reading only what its validated header declares.

    Only a regular file is read; the header is read and validated first (its length against
    ``max_header_bytes``, the data size it declares against the file's real size), then
    ``check(header)`` may refuse it before a byte of tensor data is read.
    """
    with open_regular_file(path, "weights file") as handle:
        size = os.fstat(handle.fileno()).st_size
        header_len = _header_length(handle.read(8), path, size, max_header_bytes)
        header = _parse_header(handle.read(header_len), header_len, path)
        _check_size(header, size, path)
        if check is not None:
            check(header)
        data = bytearray(header.data_len)
        if handle.readinto(data) != header.data_len:
            raise SerializationError(f"{path} is truncated: it shrank while being read")
    return header, _arrays(header, data)


def read_header(path, max_header_bytes=MAX_HEADER_BYTES):
    """The validated header of a safetensors file (entries, metadata), without reading the tensors."""
    path = os.fspath(path)
    with open_regular_file(path, "weights file") as handle:
        size = os.fstat(handle.fileno()).st_size
        header_len = _header_length(handle.read(8), path, size, max_header_bytes)
        header = _parse_header(handle.read(header_len), header_len, path)
    _check_size(header, size, path)
    return header


def read_metadata(path, max_header_bytes=MAX_HEADER_BYTES):
    """The header's ``__metadata__`` (``str -> str``) of a safetensors file, without loading the tensors."""
    return dict(read_header(path, max_header_bytes).metadata)


def load(f: Any, map_location: Any = None, weights_only: bool | None = None, mmap: bool | None = None, *, max_header_bytes: int = MAX_HEADER_BYTES, as_numpy: bool = False) -> Any:
    """Load what :func:`save` wrote, any safetensors file, or a PyTorch checkpoint.

    A file written by ``torch.save`` (its zip format) is read through a restricted unpickler
    that admits only tensors and plain containers, as ``torch.load(weights_only=True)``: a
    ``state_dict`` saved in PyTorch loads into the same shendu model with
    ``model.load_state_dict(shendu.load("model.pt"))``. Nothing named by a file is ever run.

    Args:
        f: the file's path.
        map_location: PyTorch's keyword: ``None``, ``"cpu"`` or a ``shendu.device("cpu")``
            (everything lives on the CPU).
        weights_only: PyTorch's keyword. shendu never unpickles arbitrary objects, whatever it
            says: a whole model saved by ``shendu.save(model)`` is rebuilt from plain data, and a
            PyTorch checkpoint naming anything but tensors and containers is refused.
        mmap: PyTorch's keyword; accepted and ignored (the tensors are read into memory).
        max_header_bytes: refuse headers larger than this. Defaults to 16 MiB.
        as_numpy: return NumPy arrays instead of Tensors. Defaults to False.

    Returns:
        An ``OrderedDict`` of name -> Tensor for a plain ``state_dict`` file; the saved nested
        structure (dicts, lists, tuples, numbers, tensors) otherwise.

    Raises:
        SerializationError: the file is truncated, malformed or its header is too large.
        FileNotFoundError: there is no such file.
        NotARegularFileError: a FIFO, a device, a directory.
    """
    if isinstance(map_location, str) and map_location != "cpu" or (
        map_location is not None and type(map_location).__name__ == "device" and str(map_location) != "cpu"
    ):
        raise ValueError(f"shendu.load: map_location must be 'cpu' (shendu runs on the CPU). Received: {map_location!r}")
    del mmap  # a mapping function or dict of locations has nothing to do: every tensor is on the CPU
    path = os.fspath(f)
    with open_regular_file(path, "file") as handle:
        head = handle.read(9)
    # safetensors: an 8-byte header length, then the JSON header's "{" (a length such as 640 starts like a pickle)
    legacy = is_pickle(head) and head[8:9] != b"{"
    if is_torch_zip(head) or legacy:  # a PyTorch checkpoint: read through the restricted unpickler
        loaded = load_torch_zip(path) if is_torch_zip(head) else load_torch_legacy(path)
        return _to_numpy(loaded) if as_numpy else loaded
    if _MODULE_KEY in read_header(path, max_header_bytes).metadata:  # shendu.save(model, path): the whole model
        return _rebuild_module(path, max_header_bytes)
    header, arrays = _read_file(path, max_header_bytes)
    return _rebuild(arrays, header.metadata, path, as_numpy)


def _to_numpy(value):
    if isinstance(value, Tensor):
        return value._array
    if isinstance(value, dict):
        return type(value)((k, _to_numpy(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v) for v in value)
    return value
