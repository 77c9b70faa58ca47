"""The IDX file format of the MNIST database, gzipped or raw.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order, big-endian. MNIST images are type 0x08 (uint8) with 3
dimensions (magic 2051); labels are uint8 with 1 dimension (magic 2049).

Example:
    >>> write_idx("labels-idx1-ubyte.gz", np.array([5, 0, 4], np.uint8))
    >>> read_idx("labels-idx1-ubyte.gz")
    array([5, 0, 4], dtype=uint8)
"""

import gzip
import os
import tempfile
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXError", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051  # uint8, 3 dimensions
LABELS_MAGIC = 2049  # uint8, 1 dimension

# IDX type code -> big-endian dtype
_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _TYPES.items()}


class IDXError(ValueError):
    """An IDX file is truncated, corrupted or not what was expected."""


def describe_magic(magic):
    """``2051`` -> ``'2051 (uint8, 3 dims)'``."""
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    dtype = _TYPES.get(code)
    kind = dtype.newbyteorder("=").name if dtype is not None else f"unknown type 0x{code:02x}"
    return f"{magic} ({kind}, {ndim} dims)"


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":  # not gzip: a raw IDX file
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise IDXError(
            f"{path}: corrupted or truncated gzip stream ({error}); delete the file and fetch it again"
        ) from error


def read_idx(path, expected_magic=None):
    """Read an IDX file (gzipped or raw) into a NumPy array in native byte order.

    Args:
        path: the file. Gzip is recognised by its content, not its name.
        expected_magic: if given (e.g. :data:`IMAGES_MAGIC`), the file's magic number must equal it.

    Returns:
        An array of the file's shape and type (uint8 for MNIST).

    Raises:
        IDXError: the file is truncated, corrupted, has extra bytes, an unknown type or an unexpected
            magic number; the message names the file and what was expected.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXError(
            f"{path} is truncated: an IDX file starts with a 4-byte magic number, but it has {len(data)} bytes"
        )
    magic = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or code not in _TYPES:
        known = ", ".join(f"0x{c:02x} ({d.newbyteorder('=').name})" for c, d in _TYPES.items())
        raise IDXError(
            f"{path} is not an IDX file: magic number 0x{magic:08x} should be 0x0000TTNN with type TT one of {known}"
        )
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(f"{path}: wrong magic number {describe_magic(magic)}; expected {describe_magic(expected_magic)}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            f"{path} is truncated: its header needs {header} bytes for {ndim} dimensions, the file has {len(data)}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IDXError(
            f"{path} is truncated: shape {shape} of {dtype.newbyteorder('=').name} needs {expected} bytes of data, "
            f"found {found}"
        )
    if found > expected:
        raise IDXError(f"{path} is corrupted: {found - expected} bytes after the data of shape {shape}")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzipped if ``path`` ends in ``.gz``; atomically.

    The bytes go to a temporary file in the same directory, renamed over ``path`` only when complete,
    so a failure never leaves a half-written file.

    Args:
        path: the file to write.
        array: uint8, int8, int16, int32, float32 or float64 values, at most 255 dimensions.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        names = ", ".join(d.name for d in _CODES)
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; convert to one of {names}")
    if array.ndim > 255 or any(s >= 2**32 for s in array.shape):
        raise ValueError(f"write_idx: shape {array.shape} does not fit the IDX header")
    header = bytes([0, 0, _CODES[native], array.ndim]) + b"".join(s.to_bytes(4, "big") for s in array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_TYPES[_CODES[native]]).tobytes()
    if path.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    atomic_write(path, payload)


def atomic_write(path, payload):
    """Write bytes to ``path`` through a temporary file in the same directory and ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
