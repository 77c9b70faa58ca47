"""Keras layers (``keras.layers``), each a thin wrapper over the shendu.nn layer that does the work.

Dense → nn.Linear, Conv2D/Conv1D → nn.Conv2d/Conv1d (channels-last at the boundary), pooling →
nn.functional pooling, BatchNormalization → nn.BatchNorm, LayerNormalization → nn.LayerNorm,
Embedding → nn.Embedding, SimpleRNN/LSTM/GRU → nn.RNN/LSTM/GRU(batch_first=True), Dropout →
nn.Dropout; the merge layers use the engine's cat/add/multiply.
"""

from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .attention import Attention, MultiHeadAttention
from .augmentation import (
    RandomBrightness, RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
)  # fmt: skip
from .base import InputLayer, KerasTensor, Layer, Input
from .convolutional import (
    AveragePooling1D, AveragePooling2D, Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Cropping1D, Cropping2D,
    DepthwiseConv2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    MaxPooling1D, MaxPooling2D, SeparableConv2D, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D,
)  # fmt: skip
from .core import Activation, Dense, Dropout, Embedding, Flatten, Reshape
from .masking import Masking
from .merging import Add, Average, Concatenate, Multiply, Subtract, add, average, concatenate, multiply, subtract
from .operations import TensorOperation
from .noise import ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D
from .normalization import BatchNormalization, LayerNormalization
from .preprocessing import CenterCrop, Normalization, Resizing
from .recurrent import GRU, LSTM, SimpleRNN
from .reshaping import Identity, Lambda, Permute, RepeatVector, Rescaling
from .wrappers import Bidirectional, TimeDistributed

MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

__all__ = [
    "Layer", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Dropout", "Flatten", "Reshape",
    "Embedding", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "BatchNormalization", "LayerNormalization", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Concatenate", "Add",
    "Subtract", "Multiply", "Average", "concatenate", "add", "subtract", "multiply", "average",
    "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity", "Rescaling", "RepeatVector", "Permute", "Lambda",
    "Masking", "PReLU", "Conv1DTranspose", "Conv2DTranspose", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
    "ZeroPadding2D", "Cropping1D", "Cropping2D", "DepthwiseConv2D", "SeparableConv2D", "SpatialDropout1D",
    "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization", "TimeDistributed",
    "Normalization", "Resizing", "CenterCrop", "MultiHeadAttention", "Attention",
    "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
    "RandomCrop",
]
_INTERNAL = [TensorOperation]  # graph nodes for arithmetic on KerasTensors: savable, not part of the public list  # fmt: skip


def serialize(layer):
    """Plain data describing a layer (see :func:`shendu.keras.saving.serialize_keras_object`)."""
    from ..saving import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer :func:`serialize` described."""
    from ..saving import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects)


def _register():
    """Make every Keras layer savable by shendu.io under the name ``keras.<Class>``."""
    from ...io import register_layer

    for value in _INTERNAL:
        register_layer(value, name=f"keras.{value.__name__}")
    for name in __all__:
        value = globals()[name]
        if isinstance(value, type) and issubclass(value, Layer) and value is not Lambda:  # no code from files
            register_layer(value, name=f"keras.{value.__name__}")


_register()
