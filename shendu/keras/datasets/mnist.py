"""``keras.datasets.mnist.load_data()``: the MNIST digits as NumPy arrays.

Full MNIST (60,000 + 10,000) is read when its files are on this machine: Keras' own cache
``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME`` is honoured), or the four IDX files
(``train-images-idx3-ubyte[.gz]``, ...) in ``~/.keras/datasets/``, ``~/.keras/datasets/mnist/`` or the
folder/file given as ``path``. Otherwise the 10,000 real MNIST digits embedded in shendu are
downloaded, as Keras does, into ``~/.keras/datasets/MNIST/raw`` (via
``shendu.vision.datasets.MNIST(root, download=True)``: public mirrors, MD5 checksums, atomic writes).
When that fails too (no network), the 10,000 real MNIST digits embedded in shendu are returned
(8,000 train, 2,000 test), with a one-line notice on stderr.
"""

import contextlib
import io
import os
import sys

from ...vision.datasets.mnist import MNIST, load_digits
from ...vision.datasets.utils import DownloadError
from ._files import idx_folder, keras_datasets_dir, read_idx_folder, read_npz

__all__ = ["load_data"]


def load_data(path="mnist.npz"):
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``.

    Args:
        path: ``mnist.npz`` inside ``~/.keras/datasets`` (Keras' default), or a path to an ``.npz``
            file or to a folder of MNIST IDX files. Defaults to "mnist.npz".

    Returns:
        uint8 images (N, 28, 28) and uint8 labels (N,).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
        >>> x_train = x_train.astype("float32") / 255
    """
    root = keras_datasets_dir()
    path = os.fspath(path)
    candidates = [path, os.path.join(root, path)] if not os.path.isabs(path) else [path]
    for candidate in candidates:
        if os.path.isfile(candidate) and candidate.endswith(".npz"):
            return read_npz(candidate)
    folder = idx_folder([p for p in candidates if os.path.isdir(p)] + [root, os.path.join(root, "mnist"),
                                                                      os.path.join(root, "MNIST", "raw")])  # fmt: skip
    if folder is not None:
        return read_idx_folder(folder)
    attempts = io.StringIO()  # the per-mirror "Downloading ..." lines: shown only if the download succeeds
    try:
        with contextlib.redirect_stderr(attempts):
            downloaded = MNIST(root, train=True, download=True)
        sys.stderr.write(attempts.getvalue())
        return read_idx_folder(downloaded.raw_folder)
    except (DownloadError, OSError):
        pass
    print(f"shendu.keras.datasets.mnist: MNIST is not in {root} and cannot be downloaded (offline?); using the "
          "10,000 MNIST digits embedded in shendu (8,000 train / 2,000 test)", file=sys.stderr)  # fmt: skip
    (x_train, y_train), (x_test, y_test) = load_digits()
    return (x_train, y_train.astype("uint8")), (x_test, y_test.astype("uint8"))
