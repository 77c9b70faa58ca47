"""shendu.keras — the Keras dialect: Keras' names and conventions over shendu's one engine and one set of layers.

Programs written for ``tensorflow.keras`` run with only their import lines changed::

    from shendu.keras.datasets import mnist          # was: from tensorflow.keras.datasets import mnist
    from shendu.keras.models import Sequential       # was: from tensorflow.keras.models import Sequential
    from shendu.keras.layers import Conv2D, Dense    # ...
    import shendu as tf                              # then tf.keras.layers.Input, tf.keras.Model, ...

Every layer wraps the PyTorch-dialect layer that does the work (Dense → nn.Linear, Conv2D →
nn.Conv2d, LSTM → nn.LSTM, ...); ``fit`` runs :class:`shendu.train.Trainer`; models save in
shendu's format (:mod:`shendu.io`).
"""

from . import (
    activations, backend, callbacks, datasets, initializers, layers, losses, metrics, models, ops, optimizers,
    preprocessing, random, regularizers, saving, utils,
)  # fmt: skip
from .layers import Input
from .models import Model, Sequential
from .variables import Variable

__all__ = [
    "Input", "Model", "Sequential", "Variable", "activations", "backend", "callbacks", "datasets", "initializers", "layers",
    "losses", "metrics", "models", "ops", "optimizers", "preprocessing", "random", "regularizers", "saving", "utils", "wrappers",
]  # fmt: skip


def _register():
    from ..io import register_layer

    register_layer(Model, name="keras.Model")
    register_layer(Sequential, name="keras.Sequential")


_register()


def __getattr__(name):
    if name == "wrappers":  # needs scikit-learn, so it is imported on first use
        import importlib

        return importlib.import_module(".wrappers", __name__)
    raise AttributeError(f"module 'shendu.keras' has no attribute {name!r}")
