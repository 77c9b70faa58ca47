"""shendu's weights reader accepts exactly what the safetensors library accepts (and reads the same arrays).

Two deliberate differences, both stricter: an entry with keys beyond dtype/shape/data_offsets
is refused, and dtypes NumPy has no type for (BF16, F8_*) are refused with a message naming them.
"""

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shendu.io import SerializationError, load_bytes

safetensors_numpy = pytest.importorskip("safetensors.numpy")

DTYPES = {"F32": 4, "F64": 8, "I64": 8, "U8": 1, "I16": 2, "BOOL": 1}


def _blob(header, data, pad=0):
    text = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


@st.composite
def files(draw):
    """A valid safetensors file, then maybe one mutation of its header or its data."""
    count = draw(st.integers(0, 4))
    header, offset = {}, 0
    for i in range(count):
        dtype = draw(st.sampled_from(sorted(DTYPES)))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        size = int(np.prod(shape)) * DTYPES[dtype]
        header[f"t{i}"] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if draw(st.booleans()):
        header["__metadata__"] = {"k": "v"}
    data = bytes(draw(st.binary(min_size=offset, max_size=offset)))
    mutation = draw(st.sampled_from(["none", "trailing", "short", "gap", "overlap", "shift", "shape", "offsets-order", "pad"]))
    names = [k for k in header if k != "__metadata__"]
    if mutation == "trailing":
        data += b"\0" * draw(st.integers(1, 9))
    elif mutation == "short" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif mutation == "gap" and names:
        gap = draw(st.integers(1, 8))
        entry = header[draw(st.sampled_from(names))]
        entry["data_offsets"] = [entry["data_offsets"][0] + gap, entry["data_offsets"][1] + gap]
        data += b"\0" * gap
    elif mutation == "overlap" and len(names) > 1:
        entry = header[names[-1]]
        begin, end = entry["data_offsets"]
        back = min(begin, draw(st.integers(1, 4)))
        entry["data_offsets"] = [begin - back, end - back]
    elif mutation == "shift" and names:
        entry = header[draw(st.sampled_from(names))]
        entry["data_offsets"][1] += draw(st.integers(1, 3))
    elif mutation == "shape" and names:
        entry = header[draw(st.sampled_from(names))]
        entry["shape"] = entry["shape"] + [2]
    elif mutation == "offsets-order" and names:
        entry = header[draw(st.sampled_from(names))]
        entry["data_offsets"] = entry["data_offsets"][::-1]
    pad = draw(st.integers(0, 7)) if mutation == "pad" else 0
    return _blob(header, data, pad)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_shendu_accepts_exactly_what_safetensors_accepts(blob):
    try:
        expected = safetensors_numpy.load(blob)
    except Exception:  # noqa: BLE001 - any refusal by the reference library
        expected = None
    try:
        got = load_bytes(blob, as_numpy=True)
    except SerializationError:
        got = None
    assert (got is None) == (expected is None), f"safetensors {'refused' if expected is None else 'accepted'} it, shendu did not"
    if got is not None:
        assert list(got) == [k for k in json.loads(blob[8 : 8 + struct.unpack("<Q", blob[:8])[0]]) if k != "__metadata__"]
        for name, array in expected.items():
            assert got[name].dtype == array.dtype and got[name].shape == array.shape
            assert np.array_equal(got[name], array, equal_nan=True)


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "bytes after its last tensor"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "covered by no tensor"),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
         b"\0" * 8, "overlaps"),
    ],
    ids=["trailing-bytes", "gap", "overlap"],
)
def test_gaps_overlaps_and_trailing_bytes_are_refused(header, data, message):
    with pytest.raises(SerializationError, match=message):
        load_bytes(_blob(header, data))


def test_files_of_other_formats_are_named():
    with pytest.raises(SerializationError, match="zip archive .*PyTorch"):
        load_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(SerializationError, match="HDF5"):
        load_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
