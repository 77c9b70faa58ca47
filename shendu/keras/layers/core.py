"""Core Keras layers over shendu.nn: Dense (nn.Linear), Embedding (nn.Embedding), Dropout, Flatten,
Reshape, Activation."""

import math

import numpy as np

from ... import nn
from ...ops.shape import reshape
from ...tensor import Tensor
from .. import initializers
from .base import Layer

__all__ = ["KernelBiasMixin", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Embedding"]


def _positive_int(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _initializer_config(value):
    return value if isinstance(value, str) else initializers.serialize(value)


class KernelBiasMixin:
    """The kernel/bias arguments Dense and the convolutions share: initialisers, regularisers, their config."""

    def _setup_kernel_and_bias(self, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                               bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint):  # fmt: skip
        from ..regularizers import get as get_regularizer

        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._kernel_initializer_config = _initializer_config(kernel_initializer)
        self._bias_initializer_config = _initializer_config(bias_initializer)
        self.kernel_regularizer = get_regularizer(kernel_regularizer)
        self.bias_regularizer = get_regularizer(bias_regularizer)
        _unsupported(self, activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                     bias_constraint=bias_constraint)  # fmt: skip

    def _initialize_kernel_and_bias(self):
        weight, bias = self._weight_and_bias()
        self.kernel_initializer(weight)
        if bias is not None:
            self.bias_initializer(bias)

    def _regularization(self):
        weight, bias = self._weight_and_bias()
        penalties = []
        if self.kernel_regularizer is not None:
            penalties.append(self.kernel_regularizer(weight))
        if self.bias_regularizer is not None and bias is not None:
            penalties.append(self.bias_regularizer(bias))
        return penalties

    def _kernel_and_bias_config(self):
        from ..regularizers import serialize as serialize_regularizer

        return {
            "use_bias": self.use_bias, "kernel_initializer": self._kernel_initializer_config,
            "bias_initializer": self._bias_initializer_config,
            "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
            "bias_regularizer": serialize_regularizer(self.bias_regularizer),
        }  # fmt: skip


class Dense(KernelBiasMixin, Layer):
    """Densely connected layer: ``output = activation(inputs @ kernel + bias)`` — an ``nn.Linear`` inside.

    Args:
        units: the output width.
        activation: a name (``"relu"``, ``"softmax"``, ...), a function, or None (linear). Defaults to None.
        use_bias: learn a bias. Defaults to True.
        kernel_initializer: Defaults to "glorot_uniform".
        bias_initializer: Defaults to "zeros".
        **kwargs: ``input_shape``, ``name``, ``trainable``, ``dtype``, ... (see :class:`Layer`).

    Shape:
        (batch, ..., input_dim) → (batch, ..., units).

    Weights (Keras' layout): ``kernel`` (input_dim, units) — the transpose of nn.Linear's weight — and ``bias``.

    Example:
        >>> Dense(10, activation="softmax", input_shape=(784,))
    """

    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.units = _positive_int("Dense", "units", units)
        self._set_activation(activation)
        self._setup_kernel_and_bias(use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                    bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)  # fmt: skip

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: expected min_ndim=2, '
                             f"found ndim={len(input_shape)}. Full shape received: {input_shape}")  # fmt: skip
        if input_shape[-1] is None:
            raise ValueError(f"The last dimension of the inputs to a Dense layer should be defined. Found None. "
                             f"Full input shape received: {input_shape}")  # fmt: skip

    def build(self, input_shape):
        self.linear = nn.Linear(int(input_shape[-1]), self.units, bias=self.use_bias, dtype=self._numpy_dtype)
        self._initialize_kernel_and_bias()
        self._input_spec = {"min_ndim": 2, "axes": {-1: int(input_shape[-1])}}

    def call(self, inputs):
        return self._activate(self.linear(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    @property
    def kernel(self):
        """The kernel in Keras' layout (input_dim, units): nn.Linear's weight transposed."""
        return self.linear.weight.t()

    @property
    def bias(self):
        return self.linear.bias if self.use_bias else None

    def _keras_weights(self):
        entries = [(self.linear.weight, lambda w: w._array.T, _assign_transposed)]
        if self.use_bias:
            entries.append((self.linear.bias, None, None))
        return entries

    def _weight_and_bias(self):
        return self.linear.weight, self.linear.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self._activation_name,
                **self._kernel_and_bias_config()}  # fmt: skip


def _assign_transposed(tensor, value):
    tensor._array[...] = np.asarray(value).T.astype(tensor._array.dtype, copy=False)


def _unsupported(layer, **arguments):
    for name, value in arguments.items():
        if value is not None:
            raise ValueError(f"{type(layer).__name__}: {name} is not supported by shendu. Received: {name}={value!r}")


class Activation(Layer):
    """Applies an activation function: ``Activation("relu")``.

    Args:
        activation: a name (see :mod:`shendu.keras.activations`) or a function.
    """

    supports_masking = True

    def __init__(self, activation, **kwargs) -> None:
        super().__init__(**kwargs)
        self._set_activation(activation)

    def call(self, inputs):
        return self._activate(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": self._activation_name}


class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 during training (others scaled by 1/(1 - rate)); an ``nn.Dropout``.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: not supported (must be None).
        seed: accepted; shendu's generator (``shendu.manual_seed``) drives the masks.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate!r}")  # fmt: skip
        _unsupported(self, noise_shape=noise_shape)
        self.rate, self.seed = float(rate), seed
        self.dropout = nn.Dropout(self.rate)
        self.dropout.eval()
        self.built = True

    def call(self, inputs):
        return self.dropout(inputs)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """Flattens every axis but the batch axis (in channels-last order, as Keras): (N, H, W, C) → (N, H·W·C)."""

    def __init__(self, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or 'channels_first'. Received: {data_format!r}")
        self.data_format = data_format or "channels_last"

    def build(self, input_shape):
        self._input_spec = {"min_ndim": 1}

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (no batch axis; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs) -> None:
        super().__init__(**kwargs)
        shape = tuple(target_shape)
        if sum(d == -1 for d in shape) > 1 or any(not isinstance(d, (int, np.integer)) or (d < 1 and d != -1) for d in shape):
            raise ValueError(f"Reshape: target_shape must hold positive ints and at most one -1. Received: {target_shape!r}")
        self.target_shape = tuple(int(d) for d in shape)

    def _resolved(self, input_shape):
        size = None if any(d is None for d in input_shape[1:]) else math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 not in self.target_shape:
            if size is not None and size != known:
                raise ValueError(f"Reshape ({self.name}): total size of the new array must be unchanged, "
                                 f"input_shape = {list(input_shape[1:])}, output_shape = {list(self.target_shape)}")  # fmt: skip
            return self.target_shape
        if size is None:
            return tuple(None if d == -1 else d for d in self.target_shape)
        if size % known:
            raise ValueError(f"Reshape ({self.name}): cannot reshape {list(input_shape[1:])} into {list(self.target_shape)}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def build(self, input_shape):
        self._resolved(input_shape)

    def call(self, inputs):
        shape = self._resolved((None,) + tuple(inputs.shape[1:]))
        return reshape(inputs, (inputs.shape[0],) + shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolved(input_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Embedding(Layer):
    """Turns token ids into dense vectors: ``output[..., :] = embeddings[ids]`` — an ``nn.Embedding`` inside.

    Args:
        input_dim: the vocabulary size (largest id + 1), e.g. ``len(tokenizer.word_index) + 1``.
        output_dim: the vector size.
        embeddings_initializer: Defaults to "uniform" (U(-0.05, 0.05)).
        mask_zero: id 0 is padding: the output carries a mask (ids != 0) that recurrent layers, masked
            pooling, the loss and the metrics honour. Defaults to False.
        weights: ``[matrix]`` of shape (input_dim, output_dim): pre-trained vectors.
        input_length: the sequence length (Keras 2); sets the input shape. Defaults to None.
        trainable: False keeps pre-trained vectors fixed. Defaults to True.

    Shape:
        (batch, length) integer ids → (batch, length, output_dim).

    Example:
        >>> Embedding(len(word_index) + 1, 100, weights=[matrix], input_length=100, trainable=False)
    """

    _accepts_integers = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero: bool = False, weights=None,
                 input_length=None, **kwargs) -> None:  # fmt: skip
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = _positive_int("Embedding", "input_dim", input_dim)
        self.output_dim = _positive_int("Embedding", "output_dim", output_dim)
        self.input_length = input_length
        self.mask_zero = bool(mask_zero)
        self._initializer_config = _initializer_config(embeddings_initializer)
        init = (initializers.RandomUniform() if embeddings_initializer == "uniform"
                else initializers.get(embeddings_initializer))  # fmt: skip
        from ..regularizers import get as get_regularizer

        self.embeddings_regularizer = get_regularizer(embeddings_regularizer)
        _unsupported(self, activity_regularizer=activity_regularizer, embeddings_constraint=embeddings_constraint)
        # The table does not depend on the input shape, so it is built at once (weights visible immediately).
        self.embedding = nn.Embedding(self.input_dim, self.output_dim, dtype=self._numpy_dtype)
        init(self.embedding.weight)
        self.built = True
        self._build_input_shape = self._batch_input_shape
        if weights is not None:
            weights = list(weights)
            if len(weights) != 1:
                raise ValueError(f"Embedding {self.name!r} expects weights=[matrix]; got a list of {len(weights)} arrays")
            matrix = weights[0]._array if isinstance(weights[0], Tensor) else np.asarray(weights[0])
            if matrix.shape != (self.input_dim, self.output_dim):
                raise ValueError(
                    f"Embedding {self.name!r}: weights[0] has shape {matrix.shape}; expected "
                    f"(input_dim, output_dim) = ({self.input_dim}, {self.output_dim})"
                )
            self.set_weights([matrix])
        self._apply_trainable()

    def build(self, input_shape):
        pass

    def call(self, inputs):
        array = inputs._array
        if array.dtype.kind == "f":
            if not np.all(np.mod(array, 1) == 0):
                raise ValueError(f'Layer "{self.name}" (Embedding) expects integer token ids; got non-integer values')
            inputs = Tensor(array.astype(np.int64))
        elif array.dtype.kind == "b":
            inputs = Tensor(array.astype(np.int64))
        return self.embedding(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    @property
    def _creates_mask(self):
        return self.mask_zero

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        return Tensor(inputs._array != 0)

    @property
    def embeddings(self):
        return self.embedding.weight

    def _regularization(self):
        if self.embeddings_regularizer is None:
            return []
        return [self.embeddings_regularizer(self.embedding.weight)]

    def get_config(self):
        from ..regularizers import serialize as serialize_regularizer

        config = {
            **super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": self._initializer_config, "mask_zero": self.mask_zero,
            "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
        }  # fmt: skip
        if self.input_length is not None:
            config["input_length"] = self.input_length
            config.pop("batch_input_shape", None)
        return config

    def get_build_config(self):
        return None
