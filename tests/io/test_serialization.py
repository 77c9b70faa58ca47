"""shendu.save / shendu.load: safetensors round trips, compatibility, atomic writes and bad files."""

import json
import math
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn as nn
from shendu.io import SerializationError, atomic_write, load, load_bytes, save, save_bytes


def _arrays_equal(a, b):
    a = a._array if isinstance(a, shendu.Tensor) else a
    b = b._array if isinstance(b, shendu.Tensor) else b
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.linspace(-1, 1, 7),
        np.array(3.5, dtype=np.float64),  # 0-d
        np.zeros((0, 3), dtype=np.float32),  # empty
        np.array([1, -2, 3], dtype=np.int64),
        np.array([True, False]),
        np.array([1.5, -0.25], dtype=np.float16),
        np.arange(6, dtype=np.uint8).reshape(2, 3),
        np.arange(6, dtype=np.float32).reshape(2, 3).T,  # not contiguous
    ],
    ids=["f32", "f64", "scalar", "empty", "i64", "bool", "f16", "u8", "transposed"],
)
def test_state_dict_round_trip_keeps_dtype_shape_and_values(tmp_path, array):
    path = tmp_path / "t.safetensors"
    save({"w": shendu.tensor(array)}, path)
    loaded = load(path)
    assert list(loaded) == ["w"]
    assert isinstance(loaded["w"], shendu.Tensor)
    assert _arrays_equal(loaded["w"], array)


def test_model_state_dict_round_trip_and_load_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    save(model.state_dict(), tmp_path / "m.safetensors")
    other = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    other.load_state_dict(shendu.load(tmp_path / "m.safetensors"))
    for (k, v), (k2, v2) in zip(model.state_dict().items(), other.state_dict().items()):
        assert k == k2 and _arrays_equal(v, v2)


def test_plain_state_dict_files_are_readable_by_the_reference_safetensors_readers(tmp_path):
    import safetensors.numpy
    import safetensors.torch

    state = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64)}
    save({k: shendu.tensor(v) for k, v in state.items()}, tmp_path / "x.safetensors")
    by_numpy = safetensors.numpy.load_file(str(tmp_path / "x.safetensors"))
    by_torch = safetensors.torch.load_file(str(tmp_path / "x.safetensors"))
    for key, value in state.items():
        assert np.array_equal(by_numpy[key], value)
        assert np.array_equal(by_torch[key].numpy(), value)


def test_files_written_by_the_reference_writer_load(tmp_path):
    import safetensors.numpy

    state = {"x": np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32), "n": np.array(7, np.int32)}
    safetensors.numpy.save_file(state, str(tmp_path / "ref.safetensors"), metadata={"k": "v"})
    loaded = load(tmp_path / "ref.safetensors")
    assert all(_arrays_equal(loaded[k], v) for k, v in state.items())


def test_nested_state_keeps_its_structure_and_types(tmp_path):
    state = {
        "state": {0: {"step": 3, "exp_avg": shendu.ones(2)}, 1: {"buffer": np.zeros(3), "scale": np.float32(2.5)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": None}],
        "floats": [math.inf, -math.inf, 0.1],
        "$odd key": "kept",
        "rng": shendu.random.get_rng_state(),
    }
    save(state, tmp_path / "opt.safetensors")
    loaded = load(tmp_path / "opt.safetensors")
    assert set(loaded["state"]) == {0, 1}  # integer keys survive
    assert loaded["state"][0]["step"] == 3
    assert _arrays_equal(loaded["state"][0]["exp_avg"], shendu.ones(2))
    assert isinstance(loaded["state"][1]["buffer"], np.ndarray)  # arrays stay arrays, tensors stay tensors
    assert loaded["state"][1]["scale"] == np.float32(2.5) and isinstance(loaded["state"][1]["scale"], np.float32)
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["param_groups"][0]["name"] is None and loaded["param_groups"][0]["nesterov"] is False
    assert loaded["floats"] == [math.inf, -math.inf, 0.1]
    assert loaded["$odd key"] == "kept"
    assert loaded["rng"] == state["rng"]


def test_nan_in_nested_state_round_trips(tmp_path):
    save({"best": math.nan, "w": shendu.zeros(1)}, tmp_path / "n.safetensors")
    assert math.isnan(load(tmp_path / "n.safetensors")["best"])


def test_restored_rng_state_reproduces_the_random_stream(tmp_path):
    shendu.manual_seed(123)
    save({"rng": shendu.random.get_rng_state()}, tmp_path / "rng.safetensors")
    expected = shendu.rand(5).numpy().copy()
    shendu.manual_seed(999)
    shendu.random.set_rng_state(load(tmp_path / "rng.safetensors")["rng"])
    assert np.array_equal(shendu.rand(5).numpy(), expected)


def test_a_single_tensor_can_be_saved(tmp_path):
    save(shendu.arange(4), tmp_path / "one.safetensors")
    assert _arrays_equal(load(tmp_path / "one.safetensors")["tensor"], shendu.arange(4))


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="never pickle"):
        save({"fn": lambda x: x}, tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="object"):
        save({"arr": np.array([object()], dtype=object)}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_metadata_is_stored_in_the_header(tmp_path):
    save({"w": shendu.zeros(1)}, tmp_path / "m.safetensors", metadata={"author": "me"})
    assert shendu.io.read_metadata(tmp_path / "m.safetensors")["author"] == "me"
    with pytest.raises(TypeError, match="str to str"):
        save({"w": shendu.zeros(1)}, tmp_path / "m.safetensors", metadata={"n": 1})


def test_as_numpy_returns_arrays(tmp_path):
    save({"w": shendu.ones(2)}, tmp_path / "w.safetensors")
    assert isinstance(load(tmp_path / "w.safetensors", as_numpy=True)["w"], np.ndarray)


# ----- atomic writes ------------------------------------------------------------------------
def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save({"w": shendu.zeros(3)}, path)

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save({"w": shendu.ones(3)}, path)
    monkeypatch.undo()
    assert _arrays_equal(load(path)["w"], shendu.zeros(3))
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


def test_atomic_write_replaces_content_and_keeps_normal_permissions(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(path, "one")
    atomic_write(path, b"two")
    assert path.read_text() == "two"
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


# ----- bad files ------------------------------------------------------------------------------
def _valid_bytes():
    return save_bytes({"a": shendu.arange(6).float().reshape(2, 3), "b": shendu.tensor([1, 2, 3])})


def _with_header(header, data=b""):
    blob = json.dumps(header).encode()
    return struct.pack("<Q", len(blob)) + blob + data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "truncated"),
        (b"\x01\x02\x03", "truncated"),
        (struct.pack("<Q", 1 << 60) + b"{}", "over the limit"),
        (struct.pack("<Q", 100) + b"{}", "truncated"),
        (struct.pack("<Q", 4) + b"nope", "does not start with"),
        (_with_header([1, 2]), "does not start with"),
        (_with_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), "truncated"),
        (_with_header({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "span"),
        (_with_header({"a": {"dtype": "PICKLE", "shape": [1], "data_offsets": [0, 1]}}, b"\0"), "dtype"),
        (_with_header({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape"),
        (_with_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}, b"\0" * 4), "exactly"),
        (
            _with_header({
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            }, b"\0" * 12),
            "overlap",
        ),
        (_with_header({"__metadata__": {"shendu.structure": "{\"$eval\": 1}"}}), "unknown tag"),
        (_with_header({"__metadata__": {"shendu.structure": "{\"x\": {\"$tensor\": \"zz\"}}"}}), "missing tensor"),
        (_with_header({"__metadata__": {"n": 5}}), "strings"),
    ],
    ids=["empty", "short", "huge-header", "header-past-end", "not-json", "not-object", "truncated-data",
         "size-mismatch", "unknown-dtype", "negative-shape", "extra-field", "overlap", "unknown-tag",
         "dangling-ref", "bad-metadata"],  # fmt: skip
)
def test_bad_files_raise_a_clear_serialization_error(tmp_path, content, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match=message):
        load(path)


def test_the_header_limit_is_configurable(tmp_path):
    path = tmp_path / "w.safetensors"
    save({"w": shendu.zeros(2)}, path)
    with pytest.raises(SerializationError, match="over the limit"):
        load(path, max_header_bytes=16)
    assert "w" in load(path)


def test_every_truncation_of_a_valid_file_is_detected():
    data = _valid_bytes()
    for cut in range(len(data)):
        with pytest.raises(SerializationError):
            load_bytes(data[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_bytes_load_or_fail_with_serialization_error_only(data):
    blob = bytearray(save_bytes({"state": {0: {"m": shendu.ones(3)}}, "lr": 0.1, "groups": [(1, 2)]}))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        load_bytes(bytes(blob))
    except SerializationError:
        pass
