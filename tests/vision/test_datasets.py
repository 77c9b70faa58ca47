"""CIFAR-10/100 from small synthetic files in torchvision's real layout (read by torchvision too), their
restricted unpickler, checked downloads from a server on 127.0.0.1; FakeData; KMNIST."""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from shendu.vision import datasets, transforms

from .reference import torchvision


def _write_cifar(root, hundred=False, n=6, seed=0):
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-100-python" if hundred else "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    label_key = "fine_labels" if hundred else "labels"
    names = ["train", "test"] if hundred else [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {"batch_label": name, label_key: [int(v) for v in rng.integers(0, 100 if hundred else 10, n)],
                 "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "filenames": [f"{name}_{i}.png" for i in range(n)]}  # fmt: skip
        if hundred:
            entry["coarse_labels"] = [0] * n
        with open(os.path.join(folder, name), "wb") as handle:
            pickle.dump(entry, handle, protocol=2)
    meta_name, meta_key = ("meta", "fine_label_names") if hundred else ("batches.meta", "label_names")
    with open(os.path.join(folder, meta_name), "wb") as handle:
        pickle.dump({meta_key: [f"class{i}" for i in range(100 if hundred else 10)]}, handle, protocol=2)
    return folder


@pytest.mark.parametrize("hundred", [False, True], ids=["CIFAR10", "CIFAR100"])
@pytest.mark.parametrize("train", [True, False])
def test_cifar_reads_torchvisions_layout_as_torchvision_does(tmp_path, hundred, train):
    tv = torchvision()
    _write_cifar(tmp_path, hundred)
    name = "CIFAR100" if hundred else "CIFAR10"
    ours = getattr(datasets, name)(tmp_path, train=train)
    theirs = _with_checksums_of(getattr(tv.datasets, name), tmp_path)(tmp_path, train=train)
    assert len(ours) == len(theirs) and ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
    np.testing.assert_array_equal(ours.data, theirs.data)
    assert ours.targets == theirs.targets
    for index in (0, len(ours) - 1):
        (image, label), (expected, expected_label) = ours[index], theirs[index]
        np.testing.assert_array_equal(np.asarray(image), np.asarray(expected))
        assert label == expected_label
    tensor, _ = getattr(datasets, name)(tmp_path, train=train, transform=transforms.ToTensor())[0]
    assert tuple(tensor.shape) == (3, 32, 32) and str(tensor.dtype) == "shendu.float32"


@pytest.mark.parametrize(
    "payload",
    [b"cos\nsystem\n(S'touch {marker}'\ntR.", b"cbuiltins\neval\n(S'1'\ntR.", b"csubprocess\ncall\n(S'true'\ntR."],
    ids=["os.system", "eval", "subprocess"],
)
def test_a_pickle_naming_anything_but_numpy_arrays_is_refused_and_runs_nothing(tmp_path, payload):
    folder = _write_cifar(tmp_path)
    marker = tmp_path / "ran"
    with open(os.path.join(folder, "test_batch"), "wb") as handle:
        handle.write(payload.replace(b"{marker}", str(marker).encode()))
    with pytest.raises(datasets.CIFARFormatError, match="which shendu will not import"):
        datasets.CIFAR10(tmp_path, train=False)
    assert not marker.exists()


def test_missing_and_malformed_batches_are_named(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted.*You can use download=True"):
        datasets.CIFAR10(tmp_path)
    folder = _write_cifar(tmp_path)
    with open(os.path.join(folder, "test_batch"), "wb") as handle:
        pickle.dump({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}, handle, protocol=2)
    with pytest.raises(datasets.CIFARFormatError, match=r"'data' must be a uint8 array of shape \(N, 3072\)"):
        datasets.CIFAR10(tmp_path, train=False)


def _with_checksums_of(reference, root):
    """torchvision's class, with the MD5 checksums of the synthetic files in place of the real ones."""

    def md5(name):
        return hashlib.md5((root / reference.base_folder / name).read_bytes()).hexdigest()

    return type(reference.__name__, (reference,), {
        "train_list": [[name, md5(name)] for name, _ in reference.train_list],
        "test_list": [[name, md5(name)] for name, _ in reference.test_list],
        "meta": {**reference.meta, "md5": md5(reference.meta["filename"])},
    })  # fmt: skip


def _archive(tmp_path, hostile=False):
    source = tmp_path / "source"
    _write_cifar(source)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        if hostile:
            info = tarfile.TarInfo("../escaped.txt")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
    return buffer.getvalue()


def test_download_fetches_checks_and_extracts(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    data = _archive(tmp_path)
    (served / "cifar-10-python.tar.gz").write_bytes(data)
    with _serve(served) as url:
        monkeypatch.setattr(datasets.CIFAR10, "mirrors", ["http://127.0.0.1:1/unreachable/", url])
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(data).hexdigest())
        train = datasets.CIFAR10(tmp_path / "root", train=True, download=True)
    assert len(train) == 30 and len(train.classes) == 10
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    with _serve(served) as url, pytest.raises(datasets.ChecksumError):
        monkeypatch.setattr(datasets.CIFAR10, "mirrors", [url])
        datasets.CIFAR10(tmp_path / "other", download=True)
    assert not (tmp_path / "other" / "cifar-10-python.tar.gz").exists()


def test_an_archive_member_escaping_the_folder_is_refused(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    data = _archive(tmp_path, hostile=True)
    (served / "cifar-10-python.tar.gz").write_bytes(data)
    with _serve(served) as url:
        monkeypatch.setattr(datasets.CIFAR10, "mirrors", [url])
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(data).hexdigest())
        with pytest.raises(tarfile.FilterError):
            datasets.CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "escaped.txt").exists()


class _serve:
    """A local HTTP server on 127.0.0.1 for one folder."""

    def __init__(self, folder):
        self.folder = folder

    def __enter__(self):
        import functools
        import http.server
        import threading

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(self.folder)))
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_fake_data_is_repeatable_and_shaped_as_asked():
    data = datasets.FakeData(size=7, image_size=(3, 12, 10), num_classes=4, transform=transforms.ToTensor())
    image, label = data[3]
    assert tuple(image.shape) == (3, 12, 10) and 0 <= label < 4 and len(data) == 7
    again, label_again = data[3]
    np.testing.assert_array_equal(image.numpy(), again.numpy())
    assert label == label_again
    assert not np.array_equal(data[4][0].numpy(), image.numpy())
    with pytest.raises(IndexError):
        data[7]
    tv = torchvision()
    assert tv.datasets.FakeData(size=7, image_size=(3, 12, 10))[0][0].size == datasets.FakeData(size=7, image_size=(3, 12, 10))[0][0].size


def test_kmnist_has_mnists_layout_and_its_own_classes(tmp_path):
    from tests.data.test_mnist import _fake_mnist

    _fake_mnist(tmp_path / "KMNIST" / "raw")
    train = datasets.KMNIST(tmp_path)
    assert train.classes[:3] == ["o", "ki", "su"] and len(train) == 12



def test_emnist_downloads_nists_zip_and_reads_a_split_as_torchvision(tmp_path, monkeypatch):
    import gzip
    import zipfile

    from shendu.vision.idx import write_idx

    rng = np.random.default_rng(0)
    written = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for split, n_classes in (("letters", 27), ("balanced", 47)):
            for part, n in (("train", 9), ("test", 4)):
                images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(1, n_classes, n, dtype=np.uint8)
                for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
                    raw = tmp_path / "idx"
                    write_idx(str(raw), array)
                    archive.writestr(f"gzip/emnist-{split}-{part}-{kind}.gz", gzip.compress(raw.read_bytes()))
                written[(split, part)] = (images, labels)
        archive.writestr("gzip/../../escaped-ubyte.gz", b"bad")
    served = tmp_path / "served"
    served.mkdir()
    (served / "gzip.zip").write_bytes(buffer.getvalue())
    with _serve(served) as url:
        monkeypatch.setattr(datasets.EMNIST, "url", url + "gzip.zip")
        monkeypatch.setattr(datasets.EMNIST, "md5", hashlib.md5(buffer.getvalue()).hexdigest())
        train = datasets.EMNIST(tmp_path / "root", split="letters", download=True)
    test = datasets.EMNIST(tmp_path / "root", split="letters", train=False)
    balanced = datasets.EMNIST(tmp_path / "root", split="balanced", train=True)
    assert (len(train), len(test), len(balanced)) == (9, 4, 9)
    images, labels = written[("letters", "train")]
    np.testing.assert_array_equal(train.data.numpy(), images)
    assert [train[i][1] for i in range(9)] == labels.tolist()
    assert not list(tmp_path.glob("**/escaped*")) and not (tmp_path / "root" / "EMNIST" / "raw" / "gzip.zip").exists()
    tv = torchvision()
    for split in datasets.EMNIST.splits:
        assert datasets.EMNIST.classes_split_dict[split] == tv.datasets.EMNIST.classes_split_dict[split], split
    assert train.classes[:3] == ["N/A", "a", "b"] and len(balanced.classes) == 47
    with pytest.raises(ValueError, match="EMNIST: unknown split 'byletter'; expected one of byclass"):
        datasets.EMNIST(tmp_path, split="byletter")

def test_image_folder_follows_torchvisions_semantics(tmp_path):
    tv = torchvision()
    from PIL import Image

    for name in ("cat", "dog", ".hidden", "empty"):
        (tmp_path / name).mkdir()
    for name in ("cat", "dog", ".hidden"):
        for i in range(2):
            Image.fromarray(np.full((4, 4, 3), i * 50, np.uint8)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    for kwargs in ({"allow_empty": True}, {"allow_empty": True, "is_valid_file": lambda p: p.endswith("1.png")}):
        ours, theirs = datasets.ImageFolder(tmp_path, **kwargs), tv.datasets.ImageFolder(tmp_path, **kwargs)
        assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
        assert ours.samples == theirs.samples and ours.targets == theirs.targets
        np.testing.assert_array_equal(np.asarray(ours[0][0]), np.asarray(theirs[0][0]))
