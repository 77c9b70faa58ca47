"""Vision datasets (the ``torchvision.datasets`` dialect) and the embedded MNIST digits.

- :class:`MNIST`, :class:`FashionMNIST`: IDX files in torchvision's layout, gzipped or raw, with
  checked downloads; FashionMNIST also reads Debian's ``dataset-fashion-mnist`` package.
- :class:`EmbeddedDigits` and :func:`load_digits`: 10,000 real MNIST digits shipped inside shendu,
  for work with no files and no network.
- :class:`KMNIST`: Kuzushiji-MNIST, the same layout; :class:`EMNIST`: letters and digits in six splits.
- :class:`CIFAR10`, :class:`CIFAR100`: torchvision's ``cifar-*-python`` folders, read with a
  restricted unpickler (NumPy arrays and containers only), with checked downloads.
- :class:`FakeData`: random images, repeatable per index.
- :class:`ImageFolder`: ``root/<class>/<image>`` (needs Pillow).
"""

from .cifar import CIFAR10, CIFAR100, CIFARFormatError
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import EMNIST, KMNIST, MNIST, EmbeddedDigits, FashionMNIST, load_digits, load_fashion_mnist, read_image_label_pair
from .utils import ChecksumError, DownloadError, VisionDataset, download_from_mirrors, download_url, md5sum

__all__ = [
    "MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "CIFARFormatError", "FakeData", "EmbeddedDigits", "load_digits", "load_fashion_mnist", "ImageFolder", "DatasetFolder",
    "VisionDataset", "IMG_EXTENSIONS", "ChecksumError", "DownloadError", "download_url", "download_from_mirrors",
    "md5sum", "read_image_label_pair", "default_loader", "pil_loader",
]  # fmt: skip
