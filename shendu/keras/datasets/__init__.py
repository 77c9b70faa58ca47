"""``keras.datasets``: MNIST and Fashion-MNIST as NumPy arrays, read from files on this machine (never downloaded)."""

from . import fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist"]
