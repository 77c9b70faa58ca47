"""The IDX format: round trips (raw and gzip) and clear errors for bad files."""

import gzip

import numpy as np
import pytest

from shendu.vision.idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_then_read_gives_the_same_array(tmp_path, name, dtype):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_gzip_is_recognised_by_content_and_bytes_follow_the_mnist_layout(tmp_path):
    write_idx(tmp_path / "labels.gz", np.array([5, 0, 4], np.uint8))
    raw = gzip.decompress((tmp_path / "labels.gz").read_bytes())
    assert raw == bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4])  # magic 2049, count 3, the labels
    (tmp_path / "labels-no-suffix").write_bytes((tmp_path / "labels.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-no-suffix", expected_magic=LABELS_MAGIC), [5, 0, 4])


def test_multibyte_values_are_big_endian_on_disk(tmp_path):
    write_idx(tmp_path / "x", np.array([1], np.int32))
    assert (tmp_path / "x").read_bytes()[-4:] == b"\x00\x00\x00\x01"


def test_write_leaves_no_temporary_files(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((2, 2), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["a.gz"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "truncated"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated: its header needs 16 bytes"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "needs 4 bytes of data, found 2"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "1 bytes after the data"),
        (bytes([1, 2, 8, 1, 0, 0, 0, 1, 1]), "not an IDX file"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 1]), "not an IDX file"),
    ],
)
def test_bad_files_raise_errors_naming_the_file_and_the_expectation(tmp_path, content, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_reported_as_corrupted(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(1000, dtype=np.int32))
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(IDXError, match="corrupted or truncated gzip") as info:
        read_idx(tmp_path / "x.gz")
    assert "x.gz" in str(info.value)


def test_wrong_magic_number_names_both(tmp_path):
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    with pytest.raises(IDXError, match=r"wrong magic number 2049 \(uint8, 1 dims\); expected 2051 \(uint8, 3 dims\)"):
        read_idx(tmp_path / "labels", expected_magic=IMAGES_MAGIC)


def test_unsupported_dtype_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    assert not list(tmp_path.iterdir())
