"""``keras.datasets.fashion_mnist.load_data()``: Zalando's Fashion-MNIST (60,000 + 10,000 clothing images).

Read from ``~/.keras/datasets/fashion-mnist/`` (Keras' cache, ``$KERAS_HOME`` honoured) or from
the files of Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist/``).
Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot.
"""

import os

from ...vision.datasets.mnist import FashionMNIST
from ._files import idx_folder, keras_datasets_dir, read_idx_folder

__all__ = ["load_data"]


def load_data(path=None):
    """Load Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8 (N, 28, 28) images and uint8 labels.

    Args:
        path: a folder holding the four IDX files. Defaults to Keras' cache, then Debian's package.

    Raises:
        FileNotFoundError: no copy of the files was found (the message says how to get them).
    """
    root = keras_datasets_dir()
    candidates = ([os.fspath(path)] if path is not None else []) + [os.path.join(root, "fashion-mnist")]
    candidates += list(FashionMNIST.system_folders)
    folder = idx_folder(candidates)
    if folder is None:
        raise FileNotFoundError(
            "Fashion-MNIST not found in " + ", ".join(candidates) + ". Install it with "
            "`apt-get install dataset-fashion-mnist`, or put the four IDX files in ~/.keras/datasets/fashion-mnist/"
        )
    return read_idx_folder(folder)
