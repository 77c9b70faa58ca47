"""Keras layers (``keras.layers``), each a thin wrapper over the shendu.nn layer that does the work.

Dense → nn.Linear, Conv2D/Conv1D → nn.Conv2d/Conv1d (channels-last at the boundary), pooling →
nn.functional pooling, BatchNormalization → nn.BatchNorm, LayerNormalization → nn.LayerNorm,
Embedding → nn.Embedding, SimpleRNN/LSTM/GRU → nn.RNN/LSTM/GRU(batch_first=True), Dropout →
nn.Dropout; the merge layers use the engine's cat/add/multiply.
"""

from .activation_layers import ELU, LeakyReLU, ReLU, Softmax
from .base import InputLayer, KerasTensor, Layer, Input
from .convolutional import (
    AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D,
)  # fmt: skip
from .core import Activation, Dense, Dropout, Embedding, Flatten, Reshape
from .masking import Masking
from .merging import Add, Average, Concatenate, Multiply, Subtract, add, average, concatenate, multiply, subtract
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import GRU, LSTM, SimpleRNN
from .reshaping import Identity, Lambda, Permute, RepeatVector, Rescaling
from .wrappers import Bidirectional

MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

__all__ = [
    "Layer", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Dropout", "Flatten", "Reshape",
    "Embedding", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "BatchNormalization", "LayerNormalization", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Concatenate", "Add",
    "Subtract", "Multiply", "Average", "concatenate", "add", "subtract", "multiply", "average",
    "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity", "Rescaling", "RepeatVector", "Permute", "Lambda",
    "Masking",
]  # fmt: skip


def _register():
    """Make every Keras layer savable by shendu.io under the name ``keras.<Class>``."""
    from ...io import register_layer

    for name in __all__:
        value = globals()[name]
        if isinstance(value, type) and issubclass(value, Layer) and value is not Lambda:  # no code from files
            register_layer(value, name=f"keras.{value.__name__}")


_register()
