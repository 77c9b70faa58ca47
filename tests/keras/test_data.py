"""keras.datasets (files on this machine, embedded fallback), keras.utils and keras.preprocessing."""

import os

import numpy as np
import pytest

import shendu.text
from shendu.keras.datasets import fashion_mnist, mnist
from shendu.keras.preprocessing import sequence, text
from shendu.keras.utils import to_categorical
from shendu.vision.datasets.mnist import MNIST, FashionMNIST
from shendu.vision.idx import write_idx
from tests.data.test_mnist import _fake_mnist, _point_mnist_at, mirror  # noqa: F401,F811 - mirror is a fixture


def _write_idx_set(folder, n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(os.path.join(folder, name), array)
    return arrays


def test_mnist_falls_back_to_the_embedded_digits_with_a_one_line_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:1/unreachable/"])  # the download fails at once
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1  # one line, not one per mirror tried
    assert err.startswith("shendu.keras.datasets.mnist: MNIST is not in") and "cannot be downloaded" in err
    assert "embedded in shendu" in err


def test_mnist_downloads_into_the_keras_cache_when_a_mirror_answers(tmp_path, mirror, monkeypatch):  # noqa: F811
    """As Keras does: missing files are fetched (checksums verified) into ~/.keras/datasets, then read."""
    served, url = mirror
    files = _fake_mnist(served)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    _point_mnist_at(monkeypatch, files, [url])
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, files["train-images-idx3-ubyte.gz"][2])
    np.testing.assert_array_equal(x_test, files["t10k-images-idx3-ubyte.gz"][2])
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert (tmp_path / "keras" / "datasets" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()


def test_mnist_reads_idx_files_from_the_keras_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    arrays = _write_idx_set(tmp_path / "datasets" / "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert y_train.dtype == np.uint8 and capsys.readouterr().err == ""


def test_mnist_reads_keras_npz_without_pickle(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(tmp_path / "datasets")
    x = np.zeros((3, 28, 28), np.uint8)
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x, y_train=np.arange(3, dtype=np.uint8), x_test=x[:1],
             y_test=np.zeros(1, np.uint8))  # fmt: skip
    (x_train, y_train), (x_test, _) = mnist.load_data()
    assert x_train.shape == (3, 28, 28) and list(y_train) == [0, 1, 2] and len(x_test) == 1


def test_fashion_mnist_reads_the_keras_cache_and_explains_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(FashionMNIST, "system_folders", [str(tmp_path / "nowhere")])
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_data()
    arrays = _write_idx_set(tmp_path / "datasets" / "fashion-mnist", seed=1)
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_text_preprocessing_is_shendu_text_with_keras_semantics():
    assert text.Tokenizer is shendu.text.Tokenizer and sequence.pad_sequences is shendu.text.pad_sequences
    tokenizer = text.Tokenizer(num_words=3)
    tokenizer.fit_on_texts(["the cat", "the dog", "the cat sat"])
    sequences = tokenizer.texts_to_sequences(["the cat sat on the mat"])
    assert sequences == [[1, 2, 1]]  # only the num_words - 1 most frequent words
    padded = sequence.pad_sequences([[1, 2, 3], [4]], maxlen=2)
    np.testing.assert_array_equal(padded, [[2, 3], [0, 4]])  # pre-truncating and pre-padding, as Keras


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical(np.array([[2], [0]]), 3), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical([1, 0]).dtype == np.float32
