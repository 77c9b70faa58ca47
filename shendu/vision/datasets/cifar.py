"""CIFAR-10 and CIFAR-100 in torchvision's on-disk layout (``cifar-10-batches-py``, ``cifar-100-python``).

The batches are Python pickles of dicts holding NumPy arrays. They are read by a restricted
unpickler that admits only NumPy array reconstruction (``numpy.ndarray``, ``numpy.dtype``,
``_reconstruct``, ``_frombuffer``, ``_codecs.encode`` for Python 2 byte strings) and built-in
containers: a pickle naming any other global (``os.system``, ...) is refused with
:class:`CIFARFormatError` before anything is called. Downloads fetch the archive with its MD5
checked, written atomically, and extract it refusing members outside the folder.

Samples are ``(image, label)``: a PIL image (H, W, 3) when Pillow is installed (as torchvision;
``transforms.ToTensor()`` makes it a float tensor), else a uint8 array (32, 32, 3).

Example:
    >>> train = CIFAR10("data", train=True, download=True, transform=transforms.ToTensor())
"""

import functools
import importlib
import io
import os
import pickle
import tarfile
from collections.abc import Callable
from typing import Any

import numpy as np

from ...io.files import brief, read_regular_file
from .utils import VisionDataset, download_from_mirrors, md5sum

__all__ = ["CIFAR10", "CIFAR100", "CIFARFormatError", "restricted_pickle_load"]

#: The largest batch file read, in bytes (a real one is 31 MB; CIFAR-100's train file 155 MB).
MAX_BATCH_BYTES = 512 * 1024 * 1024


class CIFARFormatError(ValueError):
    """A CIFAR batch file that is not what torchvision's layout holds (or names code to run)."""


def _numpy_module(name):
    """``numpy._core.x`` (NumPy 2) or ``numpy.core.x`` (NumPy 1), whichever this NumPy has."""
    for candidate in (name.replace("numpy.core", "numpy._core"), name.replace("numpy._core", "numpy.core")):
        try:
            return importlib.import_module(candidate)
        except ImportError:
            continue
    raise ImportError(name)


def _numpy_attribute(module, name):
    return getattr(_numpy_module(module), name)


_ALLOWED: dict[tuple[str, str], Callable[[], Any]] = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: __import__("codecs").encode,
    **{(module, name): functools.partial(_numpy_attribute, module, name)
       for module in ("numpy.core.multiarray", "numpy._core.multiarray") for name in ("_reconstruct", "scalar")},
    **{(module, "_frombuffer"): functools.partial(_numpy_attribute, module, "_frombuffer")
       for module in ("numpy.core.numeric", "numpy._core.numeric")},
}  # fmt: skip


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file, where):
        super().__init__(file, encoding="latin1")
        self.where = where

    def find_class(self, module, name):
        make = _ALLOWED.get((module, name))
        if make is None:
            raise CIFARFormatError(
                f"{self.where}: the pickle names {str(module)[:80]}.{str(name)[:80]}, which shendu will not import: "
                "a CIFAR batch holds only NumPy arrays, lists and dicts"
            )
        return make()

    def persistent_load(self, pid):
        raise CIFARFormatError(f"{self.where}: the pickle uses persistent references, which a CIFAR batch does not")


def restricted_pickle_load(path, limit=MAX_BATCH_BYTES):
    """The object pickled in ``path``, admitting only NumPy arrays and built-in containers."""
    raw = read_regular_file(path, limit, "CIFAR batch", error=CIFARFormatError)
    try:
        return _ArrayUnpickler(io.BytesIO(raw), path).load()
    except CIFARFormatError:
        raise
    except RecursionError:
        raise CIFARFormatError(f"{path}: the pickle is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError) as error:
        raise CIFARFormatError(f"{path}: not a CIFAR batch ({type(error).__name__}: {brief(str(error), 200)})") from None


class CIFAR10(VisionDataset):
    """CIFAR-10: 60,000 colour images of 32×32 in 10 classes (50,000 train, 10,000 test), as torchvision.

    Args:
        root: the folder holding ``cifar-10-batches-py/``.
        train: the training batches (1-5) or the test batch. Defaults to True.
        transform, target_transform: applied to the image and the label. Defaults to None.
        download: fetch and extract the archive if the batches are missing. Defaults to False.
    """

    base_folder = "cifar-10-batches-py"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"], ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"], ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]  # fmt: skip
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key = "labels"
    check_md5 = True

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        if download:
            self.download()
        folder = os.path.join(self.root, self.base_folder)
        files = self.train_list if self.train else self.test_list
        missing = [name for name, _ in files + [[self.meta["filename"], None]] if not os.path.isfile(os.path.join(folder, name))]
        if missing:
            raise RuntimeError(f"Dataset not found or corrupted: {folder} lacks {', '.join(missing)}. You can use download=True to download it")
        images, labels = [], []
        for name, _ in files:
            entry = restricted_pickle_load(os.path.join(folder, name))
            data, targets = self._entry_arrays(entry, name)
            images.append(data)
            labels.extend(targets)
        self.data = np.vstack(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # HWC, as torchvision
        self.targets = [int(t) for t in labels]
        meta = restricted_pickle_load(os.path.join(folder, self.meta["filename"]))
        if not (isinstance(meta, dict) and isinstance(meta.get(self.meta["key"]), list)):
            raise CIFARFormatError(f"{folder}/{self.meta['filename']}: expected a dict with {self.meta['key']!r}")
        self.classes = [str(c) for c in meta[self.meta["key"]]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _entry_arrays(self, entry, name):
        where = f"{os.path.join(self.root, self.base_folder, name)}"
        if not (isinstance(entry, dict) and "data" in entry and self.label_key in entry):
            raise CIFARFormatError(f"{where}: expected a dict with 'data' and {self.label_key!r}")
        data, labels = entry["data"], entry[self.label_key]
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072):
            raise CIFARFormatError(f"{where}: 'data' must be a uint8 array of shape (N, 3072); got {brief(getattr(data, 'shape', data))}")
        if not (isinstance(labels, list) and len(labels) == len(data) and all(isinstance(v, int) for v in labels)):
            raise CIFARFormatError(f"{where}: {self.label_key!r} must be a list of {len(data)} integers")
        return data, labels

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        try:
            from PIL import Image

            image = Image.fromarray(image)
        except ImportError:
            image = image.copy()
        return self._apply_transforms(image, target)

    def _check_integrity(self):
        folder = os.path.join(self.root, self.base_folder)
        for name, md5 in self.train_list + self.test_list:
            path = os.path.join(folder, name)
            if not os.path.isfile(path) or (self.check_md5 and md5sum(path) != md5):
                return False
        return True

    def download(self):
        """Fetch the archive (MD5 checked) into ``root`` and extract it, unless the batches are there."""
        if self._check_integrity():
            return
        archive = download_from_mirrors(self.mirrors, self.filename, self.root, md5=self.tgz_md5)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root, filter="data")  # refuses absolute paths, "..", links out of the folder

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: 100 classes (``fine_labels``) of 600 images each, same layout."""

    base_folder = "cifar-100-python"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd5e7a01d5e0"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    label_key = "fine_labels"
