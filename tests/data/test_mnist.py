"""MNIST-style datasets: the embedded digits, torchvision's folder layout, checked downloads, Fashion-MNIST."""

import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import shendu
from shendu.utils.data import DataLoader
from shendu.vision import datasets, transforms
from shendu.vision.datasets import ChecksumError, DownloadError
from shendu.vision.idx import IDXError, write_idx

MNIST_10K_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]  # from the data's README


def test_load_digits_matches_keras_mnist_load_data_layout():
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64 and y_test.shape == (2000,)
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    assert counts.tolist() == MNIST_10K_COUNTS
    assert 0 < x_train.mean() < 255 and x_train.max() == 255  # real grey-level digits, not blank


def test_load_digits_returns_fresh_arrays():
    (x_train, _), _ = datasets.load_digits()
    x_train[:] = 0
    (again, _), _ = datasets.load_digits()
    assert again.max() == 255


def test_embedded_digits_dataset_is_the_same_split_with_torchvision_attributes():
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    train, test = datasets.EmbeddedDigits(train=True), datasets.EmbeddedDigits(train=False)
    assert len(train) == 8000 and len(test) == 2000
    assert train.data.dtype == shendu.uint8 and tuple(train.data.shape) == (8000, 28, 28)
    assert train.targets.dtype == shendu.int64
    image, label = test[5]
    assert isinstance(image, shendu.Tensor) and tuple(image.shape) == (28, 28) and image.dtype == shendu.uint8
    assert isinstance(label, int) and label == y_test[5]
    np.testing.assert_array_equal(image.numpy(), x_test[5])
    np.testing.assert_array_equal(train.data.numpy(), x_train)
    assert train.class_to_idx["3 - three"] == 3


def test_random_transforms_take_the_per_sample_path():
    ds = datasets.EmbeddedDigits(
        train=False, transform=transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.ToTensor()])
    )
    assert ds._batch_fetcher() is None
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28)


def test_embedded_digits_with_transforms_feed_a_loader_of_float_images():
    ds = datasets.EmbeddedDigits(train=False, transform=transforms.ToTensor(), target_transform=lambda t: t % 2)
    x, y = next(iter(DataLoader(ds, batch_size=16)))
    assert tuple(x.shape) == (16, 1, 28, 28) and x.dtype == shendu.float32
    assert float(x.max()) <= 1.0 and float(x.min()) >= 0.0
    np.testing.assert_array_equal(y.numpy(), datasets.EmbeddedDigits(train=False).targets.numpy()[:16] % 2)


@pytest.mark.parametrize(
    "transform, dtype",
    [
        (None, shendu.uint8),
        (transforms.ToTensor(), shendu.float32),
        (transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]), shendu.float32),
    ],
)
def test_fast_path_batches_equal_per_sample_batches(transform, dtype):
    ds = datasets.EmbeddedDigits(train=False, transform=transform)
    assert ds._batch_fetcher() is not None  # deterministic transforms keep the one-gather path
    fast = list(DataLoader(ds, batch_size=64, shuffle=True, generator=3))
    slow = list(DataLoader(ds, batch_size=64, shuffle=True, generator=3, collate_fn=shendu.utils.data.default_collate))
    assert len(fast) == len(slow) == 32
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.dtype == xs.dtype == dtype and yf.dtype == ys.dtype == shendu.int64
        assert xf.shape == xs.shape
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


# ----- files in torchvision's layout -----------------------------------------------------------
def _fake_mnist(folder, n_train=12, n_test=5, gz=True, seed=0):
    """Small valid MNIST files; returns {filename: (bytes, md5)} of what was written."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    suffix = ".gz" if gz else ""
    written = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, array in (
            ("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
            ("labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8)),
        ):
            path = os.path.join(folder, f"{prefix}-{kind}{suffix}")
            write_idx(path, array)
            with open(path, "rb") as f:
                content = f.read()
            written[os.path.basename(path)] = (content, hashlib.md5(content).hexdigest(), array)
    return written


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_torchvision_layout_gzipped_or_raw(tmp_path, gz):
    files = _fake_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    suffix = ".gz" if gz else ""
    train = datasets.MNIST(tmp_path, train=True)
    test = datasets.MNIST(str(tmp_path), train=False)
    assert len(train) == 12 and len(test) == 5
    np.testing.assert_array_equal(train.data.numpy(), files[f"train-images-idx3-ubyte{suffix}"][2])
    np.testing.assert_array_equal(test.targets.numpy(), files[f"t10k-labels-idx1-ubyte{suffix}"][2])
    assert test.targets.dtype == shendu.int64
    assert "Split: Test" in repr(test)


def test_mnist_missing_files_say_where_and_how(tmp_path):
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte\[\.gz\].*download=True"):
        datasets.MNIST(tmp_path)


def test_image_label_count_mismatch_names_both_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    _fake_mnist(raw)
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(IDXError, match="has 12 images but .*train-labels-idx1-ubyte.gz has 11 labels"):
        datasets.MNIST(tmp_path)


def test_swapped_files_are_caught_by_the_magic_number(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    _fake_mnist(raw)
    os.replace(raw / "t10k-labels-idx1-ubyte.gz", raw / "t10k-images-idx3-ubyte.gz")
    _fake_mnist(tmp_path / "other")
    os.replace(tmp_path / "other" / "t10k-labels-idx1-ubyte.gz", raw / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(IDXError, match="t10k-images-idx3-ubyte.gz: wrong magic number 2049"):
        datasets.MNIST(tmp_path, train=False)


# ----- downloads from a local HTTP server -------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/short/"):  # promises 100,000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            return
        super().do_GET()


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving the folder ``tmp_path / 'served'``."""
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def _point_mnist_at(monkeypatch, files, mirrors):
    monkeypatch.setattr(datasets.MNIST, "mirrors", mirrors)
    monkeypatch.setattr(datasets.MNIST, "resources", [(name, md5) for name, (_, md5, _) in files.items()])


def test_download_fetches_verifies_and_loads(tmp_path, mirror, monkeypatch):
    served, url = mirror
    files = _fake_mnist(served)
    _point_mnist_at(monkeypatch, files, ["http://127.0.0.1:1/unreachable/", url])  # first mirror fails, second works
    train = datasets.MNIST(tmp_path / "root", train=True, download=True)
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(files)
    for name, (content, _, _) in files.items():
        assert (raw / name).read_bytes() == content
    np.testing.assert_array_equal(train.data.numpy(), files["train-images-idx3-ubyte.gz"][2])
    datasets.MNIST(tmp_path / "root", train=False, download=True)  # already there: no second download
    assert sorted(p.name for p in raw.iterdir()) == sorted(files)


def test_corrupted_download_is_a_checksum_error_and_leaves_nothing(tmp_path, mirror, monkeypatch):
    served, url = mirror
    files = _fake_mnist(served)
    good = (served / "train-labels-idx1-ubyte.gz").read_bytes()
    (served / "train-labels-idx1-ubyte.gz").write_bytes(good[:-3] + b"xyz")  # same size, wrong bytes
    _point_mnist_at(monkeypatch, files, [url])
    with pytest.raises(ChecksumError) as info:
        datasets.MNIST(tmp_path / "root", download=True)
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in message and files["train-labels-idx1-ubyte.gz"][1] in message
    assert "checksum mismatch" in message
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == ["train-images-idx3-ubyte.gz"]  # no partial or temp file


def test_missing_file_on_every_mirror_is_a_download_error(tmp_path, mirror, monkeypatch):
    served, url = mirror
    files = _fake_mnist(served)
    os.remove(served / "t10k-images-idx3-ubyte.gz")
    _point_mnist_at(monkeypatch, files, [url])
    with pytest.raises(DownloadError, match="(?s)could not download t10k-images-idx3-ubyte.gz.*404.*EmbeddedDigits"):
        datasets.MNIST(tmp_path / "root", download=True)
    assert not any(p.name.startswith(".") for p in (tmp_path / "root" / "MNIST" / "raw").iterdir())


def test_interrupted_transfer_leaves_nothing_behind(tmp_path, mirror):
    _, url = mirror
    with pytest.raises(DownloadError, match="could not download labels.gz") as info:
        datasets.download_from_mirrors([url + "short/"], "labels.gz", tmp_path / "raw", md5="0" * 32)
    assert "ChecksumError" not in type(info.value).__name__
    assert list((tmp_path / "raw").iterdir()) == []


def test_fashion_mnist_uses_its_own_folder_and_classes(tmp_path):
    _fake_mnist(tmp_path / "FashionMNIST" / "raw", gz=False)
    ds = datasets.FashionMNIST(tmp_path, train=False)
    assert len(ds) == 5 and ds.classes[9] == "Ankle boot"
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path)


def test_fashion_mnist_without_root_reports_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.FashionMNIST, "system_folders", [str(tmp_path / "nowhere")])
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST()


@pytest.mark.skipif(
    not os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_fashion_mnist_reads_the_debian_package_files():
    test = datasets.FashionMNIST(train=False)
    assert len(test) == 10000 and tuple(test.data.shape) == (10000, 28, 28)
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
        assert f.read()[8:18] == bytes(test.targets.numpy()[:10].astype(np.uint8))
