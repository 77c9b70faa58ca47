"""Where Keras keeps datasets (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``) and reading them."""

import os

import numpy as np

from ...vision.datasets.mnist import read_image_label_pair

_SPLITS = (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


def keras_datasets_dir():
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(base, "datasets")


def _find(folder, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def idx_folder(candidates):
    """The first folder holding the four IDX files (gzipped or not), or None."""
    for folder in candidates:
        if folder and os.path.isdir(folder) and all(_find(folder, s) for pair in _SPLITS for s in pair):
            return folder
    return None


def read_idx_folder(folder):
    """((x_train, y_train), (x_test, y_test)) from the IDX files in ``folder``; labels as uint8, as Keras."""
    out = []
    for images, labels in _SPLITS:
        x, y = read_image_label_pair(_find(folder, images), _find(folder, labels))
        out.append((x, y.astype(np.uint8)))
    return tuple(out)


def read_npz(path):
    """Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test), read without pickle."""
    with np.load(path, allow_pickle=False) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise ValueError(f"{path}: not a Keras dataset file (missing {sorted(missing)})")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
