"""Reading PyTorch checkpoints (``torch.save``'s zip and legacy formats) without running anything from the file.

A ``.pt`` file written by ``torch.save(model.state_dict(), path)`` is a zip archive holding a
pickle (``data.pkl``) and one raw entry per tensor storage (``data/0``, ``data/1``, ...). The
pickle is read by a restricted unpickler that admits what ``torch.load(weights_only=True)``
admits for tensors and containers: ``collections.OrderedDict``, the tensor-rebuilding functions
(``torch._utils._rebuild_tensor_v2``, ``_rebuild_parameter``), the storage types, ``torch.Size``
and dtypes, and Python's plain data. Any other name — ``os.system``, ``builtins.eval``, a model
class — is refused with :class:`~shendu.io.serialization.SerializationError` before anything is
called; no import named by the file is ever performed. Every tensor's shape, strides and offset
are checked against its storage's size.

The legacy format (PyTorch before 1.6, or ``_use_new_zipfile_serialization=False``) is a run of
pickles — a magic number, the protocol version, the writer's byte order and type sizes, the object,
the list of storage keys — followed by each storage as an 8-byte element count and its raw bytes. It
is read by the same restricted unpickler; tensors are rebuilt once their storages have been read.

Example:
    >>> model.load_state_dict(shendu.load("resnet18-f37072fd.pth"))   # trained in PyTorch
"""

import io
import math
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from .files import brief

__all__ = ["is_torch_zip", "load_torch_zip", "is_pickle", "load_torch_legacy", "save_torch_zip"]

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_, "BFloat16Storage": "bfloat16",
}  # fmt: skip
_DTYPE_NAMES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64, "float16": np.float16,
    "half": np.float16, "int64": np.int64, "long": np.int64, "int32": np.int32, "int": np.int32, "int16": np.int16,
    "short": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_, "bfloat16": "bfloat16",
}  # fmt: skip
#: Decompressed size of one entry at most this many times its compressed size (torch stores entries uncompressed).
_MAX_RATIO = 100


class _StorageType:
    """Stands for ``torch.FloatStorage`` and friends: only its element type is used."""

    def __init__(self, dtype):
        self.dtype = dtype


class _Dtype:
    """Stands for ``torch.float32`` and friends."""

    def __init__(self, dtype):
        self.dtype = dtype


class _Storage:
    def __init__(self, array, dtype=None, numel=None):
        self.array, self.dtype, self.numel = array, dtype, numel  # array is None until a legacy file's data is read


class _PendingTensor:
    """A tensor of a legacy checkpoint whose storage comes after the pickle: rebuilt by :func:`_resolve`."""

    def __init__(self, args):
        self.args = args


def _error():
    from .serialization import SerializationError

    return SerializationError


def _to_numpy_dtype(dtype):
    if isinstance(dtype, str):  # bfloat16: NumPy has no such type; widened to float32 when read
        return dtype
    return np.dtype(dtype)


def _bfloat16_to_float32(raw):
    halves = np.frombuffer(raw, dtype="<u2")
    return (halves.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage, storage_offset, size, stride, *rest):
    """``torch._utils._rebuild_tensor_v2``: a view into a storage, checked, copied out as a Tensor."""
    from ..tensor import Tensor

    error = _error()
    if not isinstance(storage, _Storage):
        raise error("a tensor refers to something that is not a storage")
    if storage.array is None:  # legacy format: the data follows the pickle
        return _PendingTensor((storage, storage_offset, size, stride))
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride) <= 64):
        raise error(f"a tensor has a bad size {brief(size)} or stride {brief(stride)}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (storage_offset, *size, *stride)):
        raise error(f"a tensor has a bad size {brief(size)}, stride {brief(stride)} or offset {brief(storage_offset)}")
    array = storage.array
    count = math.prod(size)
    if count:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= array.size:
            raise error(f"a tensor of size {size} and stride {stride} at offset {storage_offset} reaches past its storage of {array.size} elements")
    view = np.lib.stride_tricks.as_strided(array[storage_offset:] if count else array[:0], shape=size,
                                           strides=tuple(s * array.itemsize for s in stride), writeable=False)  # fmt: skip
    return Tensor(np.array(view, copy=True))


def _rebuild_parameter(data, requires_grad, backward_hooks, *rest):
    return data


def _resolve(value, depth=0):
    """``value`` with every pending tensor rebuilt (containers rebuilt alike; depth bounded)."""
    if depth > 100:
        raise _error()("the checkpoint's containers are nested too deeply")
    if isinstance(value, _PendingTensor):
        return _rebuild_tensor(*value.args)
    if isinstance(value, dict):
        resolved = {key: _resolve(item, depth + 1) for key, item in value.items()}
        return OrderedDict(resolved) if isinstance(value, OrderedDict) else resolved
    if isinstance(value, (list, tuple)):
        items = [_resolve(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _size(*args):
    values = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    return tuple(values)


_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): _size,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
}
_ALLOWED.update({("torch", name): _StorageType(dtype) for name, dtype in _STORAGE_DTYPES.items()})
_ALLOWED.update({("torch", name): _Dtype(dtype) for name, dtype in _DTYPE_NAMES.items()})


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, where):
        super().__init__(file)
        self.archive, self.prefix, self.where, self.storages = archive, prefix, where, {}

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise _error()(
                f"{self.where}: the checkpoint names {str(module)[:80]}.{str(name)[:80]}, which shendu will not import: "
                "only tensors and plain containers are read from PyTorch checkpoints (as torch.load(weights_only=True)); "
                "in PyTorch, save the state_dict() rather than the model object"
            )
        return found

    def persistent_load(self, pid):
        error = _error()
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise error(f"{self.where}: an unknown persistent reference {brief(pid)}")
        storage_type, key, _location, numel = pid[1], pid[2], pid[3], pid[4]
        if not isinstance(storage_type, (_StorageType, _Dtype)) or not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise error(f"{self.where}: a bad storage reference {brief(pid)}")
        if key in self.storages:
            return self.storages[key]
        name = f"{self.prefix}data/{key}"
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise error(f"{self.where}: the storage {brief(key)} is missing from the archive") from None
        dtype = _to_numpy_dtype(storage_type.dtype)
        itemsize = 2 if isinstance(dtype, str) else dtype.itemsize
        if info.file_size != numel * itemsize:
            raise error(f"{self.where}: storage {brief(key)} holds {info.file_size} bytes, not {numel} elements of {itemsize} bytes")
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
            raise error(f"{self.where}: storage {brief(key)} would decompress {info.file_size / max(info.compress_size, 1):.0f} times over")
        raw = self.archive.read(info)
        array = _bfloat16_to_float32(raw) if isinstance(dtype, str) else np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
        storage = _Storage(array)
        self.storages[key] = storage
        return storage


def is_torch_zip(head):
    """True if ``head`` (the first bytes of a file) is a zip archive, the container of ``torch.save``."""
    return head[:4] == b"PK\x03\x04"


def load_torch_zip(path, max_pickle_bytes=64 * 1024 * 1024):
    """The object a ``torch.save`` zip checkpoint holds, with every tensor as a shendu Tensor.

    Raises:
        SerializationError: not a PyTorch checkpoint (a Keras ``.keras`` archive, another zip), a
            name the restricted unpickler refuses, a tensor outside its storage, a damaged archive.
    """
    error = _error()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as problem:
        raise error(f"{path}: a damaged zip archive ({problem})") from None
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if not pickles:
            kind = "a Keras .keras archive" if "config.json" in names or "model.weights.h5" in names else "a zip archive"
            raise error(f"{path} is {kind}, not a PyTorch checkpoint nor a safetensors file")
        prefix = pickles[0][: -len("data.pkl")]
        info = archive.getinfo(pickles[0])
        if info.file_size > max_pickle_bytes:
            raise error(f"{path}: its pickle is {info.file_size:,} bytes, over the limit of {max_pickle_bytes:,}")
        byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip() if prefix + "byteorder" in names else "little"
        if byteorder != "little":
            raise error(f"{path}: written on a big-endian machine ({brief(byteorder)}); shendu reads little-endian checkpoints")
        unpickler = _Unpickler(io.BytesIO(archive.read(info)), archive, prefix, path)
        try:
            return unpickler.load()
        except error:
            raise
        except RecursionError:
            raise error(f"{path}: the pickle is nested too deeply") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
                zipfile.BadZipFile, OverflowError, MemoryError) as problem:  # fmt: skip
            raise error(f"{path}: not a readable PyTorch checkpoint ({type(problem).__name__}: {brief(str(problem), 200)})") from None


#: The first pickle of a legacy ``torch.save`` file, and the protocol version that follows it.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


def is_pickle(head):
    """True if ``head`` starts like a pickle of protocol 2 to 5 (a legacy ``torch.save`` file, or any pickle)."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


class _LegacyUnpickler(_Unpickler):
    """Storages are announced in the pickle and filled from the data after it."""

    def __init__(self, file, where):
        super().__init__(file, None, "", where)

    def persistent_load(self, pid):
        error = _error()
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise error(f"{self.where}: an unknown persistent reference {brief(pid)}")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(storage_type, (_StorageType, _Dtype)) or not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise error(f"{self.where}: a bad storage reference {brief(pid)}")
        if key not in self.storages:
            self.storages[key] = _Storage(None, _to_numpy_dtype(storage_type.dtype), numel)
        return self.storages[key]


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy header pickles: numbers, strings and containers only."""

    def __init__(self, file, where):
        super().__init__(file)
        self.where = where

    def find_class(self, module, name):
        raise _error()(f"{self.where}: the pickle names {str(module)[:80]}.{str(name)[:80]}, which shendu will not import "
                       "(only PyTorch checkpoints of tensors and plain containers are read)")  # fmt: skip


def load_torch_legacy(path, max_bytes=4 * 1024**3):
    """The object a legacy ``torch.save`` file holds, with every tensor as a shendu Tensor.

    Raises:
        SerializationError: a pickle that is not a PyTorch checkpoint (shendu never unpickles other
            objects), a refused name, a big-endian writer, storages missing, short or of the wrong size.
    """
    from .files import read_regular_file

    error = _error()
    data = read_regular_file(path, max_bytes, "checkpoint", error)
    stream = io.BytesIO(data)

    def plain():
        try:
            return _PlainUnpickler(stream, path).load()
        except error:
            raise
        except Exception as problem:  # a damaged header
            raise error(f"{path}: not a readable PyTorch checkpoint ({type(problem).__name__})") from None

    if plain() != LEGACY_MAGIC:
        raise error(f"{path} is a Python pickle, not a PyTorch checkpoint nor a safetensors file: shendu does not "
                    "unpickle arbitrary objects (save tensors with shendu.save or safetensors instead)")  # fmt: skip
    if plain() != LEGACY_PROTOCOL:
        raise error(f"{path}: an unknown legacy PyTorch checkpoint version")
    info = plain()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise error(f"{path}: written on a big-endian machine; shendu reads little-endian checkpoints")
    unpickler = _LegacyUnpickler(stream, path)
    try:
        loaded = unpickler.load()
    except error:
        raise
    except RecursionError:
        raise error(f"{path}: the pickle is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
            OverflowError, MemoryError) as problem:  # fmt: skip
        raise error(f"{path}: not a readable PyTorch checkpoint ({type(problem).__name__}: {brief(str(problem), 200)})") from None
    keys = plain()
    if not (isinstance(keys, list) and sorted(keys) == sorted(unpickler.storages)):
        raise error(f"{path}: its storage list does not match the storages its tensors use")
    for key in keys:
        storage = unpickler.storages[key]
        itemsize = 2 if isinstance(storage.dtype, str) else storage.dtype.itemsize
        head = stream.read(8)
        count = int.from_bytes(head, "little") if len(head) == 8 else -1
        if count != storage.numel:
            raise error(f"{path}: storage {brief(key)} is short or holds {count} elements, not {storage.numel}")
        raw = stream.read(count * itemsize)
        if len(raw) != count * itemsize:
            raise error(f"{path} is truncated: storage {brief(key)} needs {count * itemsize} bytes, {len(raw)} remain")
        dtype = storage.dtype
        storage.array = _bfloat16_to_float32(raw) if isinstance(dtype, str) else np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype)
    return _resolve(loaded)


# ----- writing PyTorch's zip format, without pickle's machinery ---------------------------------------
# The pickle is written opcode by opcode (protocol 2) from plain containers and tensors only, so that
# nothing of shendu's — no class, no function — can end up named in the file.
_STORAGE_NAMES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float64): "DoubleStorage",
                  np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage", np.dtype(np.int32): "IntStorage",
                  np.dtype(np.int16): "ShortStorage", np.dtype(np.int8): "CharStorage", np.dtype(np.uint8): "ByteStorage",
                  np.dtype(np.bool_): "BoolStorage"}  # fmt: skip


class _PickleWriter:
    """Protocol-2 opcodes for str-keyed dicts, lists, tuples, numbers, strings, None and tensors."""

    def __init__(self):
        self.parts, self.storages = [b"\x80\x02"], []

    def global_(self, module, name):
        self.parts.append(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def write(self, value, depth=0):
        from ..tensor import Tensor

        if depth > 100:
            raise _error()("save: the object is nested too deeply")
        add = self.parts.append
        if value is None:
            add(b"N")
        elif isinstance(value, bool):
            add(b"\x88" if value else b"\x89")
        elif isinstance(value, (int, np.integer)):
            value = int(value)
            if -(2**31) <= value < 2**31:
                add(b"J" + value.to_bytes(4, "little", signed=True))
            else:
                raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
                add(b"\x8a" + bytes([len(raw)]) + raw)
        elif isinstance(value, (float, np.floating)):
            add(b"G" + struct.pack(">d", float(value)))
        elif isinstance(value, str):
            raw = value.encode("utf-8")
            add(b"X" + len(raw).to_bytes(4, "little") + raw)
        elif isinstance(value, (Tensor, np.ndarray)):
            self.tensor(value._array if isinstance(value, Tensor) else value)
        elif isinstance(value, dict):
            if isinstance(value, OrderedDict):
                self.global_("collections", "OrderedDict")
                add(b")R")
            else:
                add(b"}")
            if value:
                add(b"(")
                for key, item in value.items():
                    self.write(key, depth + 1)
                    self.write(item, depth + 1)
                add(b"u")
        elif isinstance(value, list):
            add(b"]")
            if value:
                add(b"(")
                for item in value:
                    self.write(item, depth + 1)
                add(b"e")
        elif isinstance(value, tuple):
            add(b"(")
            for item in value:
                self.write(item, depth + 1)
            add(b"t")
        else:
            raise _error()(f"save: cannot write a {type(value).__name__} in PyTorch's format (tensors, numbers, strings, "
                           "lists, tuples and dicts only)")  # fmt: skip

    def tensor(self, array):
        dtype = np.dtype(array.dtype)
        if dtype not in _STORAGE_NAMES:
            raise _error()(f"save: no PyTorch storage for dtype {dtype}")
        key = str(len(self.storages))
        self.storages.append(np.ascontiguousarray(array).astype(dtype.newbyteorder("<"), copy=False))
        strides = [1] * array.ndim
        for axis in range(array.ndim - 2, -1, -1):
            strides[axis] = strides[axis + 1] * array.shape[axis + 1]
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.parts.append(b"(")  # the arguments
        self.parts.append(b"(")  # the persistent id: ('storage', torch.XStorage, key, 'cpu', numel)
        self.write("storage")
        self.global_("torch", _STORAGE_NAMES[dtype])
        for item in (key, "cpu", int(array.size)):
            self.write(item)
        self.parts.append(b"tQ")
        for item in (0, tuple(int(n) for n in array.shape), tuple(strides), False):
            self.write(item)
        self.global_("collections", "OrderedDict")
        self.parts.append(b")Rt" + b"R")

    def pickle(self):
        return b"".join([*self.parts, b"."])


def save_torch_zip(obj, path):
    """Write ``obj`` (a ``state_dict``, or dicts/lists/tuples of tensors and plain values) as ``torch.save`` does.

    PyTorch reads the file with ``torch.load(path, weights_only=True)``; shendu reads it back with
    :func:`shendu.load`. The write is atomic (a temporary file, then a rename).
    """
    from .atomic import atomic_open

    writer = _PickleWriter()
    writer.write(obj)
    folder = "archive/"
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(folder + "data.pkl", writer.pickle())
            archive.writestr(folder + "byteorder", "little")
            for key, array in enumerate(writer.storages):
                archive.writestr(f"{folder}data/{key}", array.tobytes())
            archive.writestr(folder + "version", "3\n")
