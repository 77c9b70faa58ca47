"""Layers that rearrange or rescale values: Identity, Rescaling, RepeatVector, Permute, Lambda (``keras.layers``)."""

import shendu

from .base import Layer


class Identity(Layer):
    """Returns its input unchanged."""

    supports_masking = True

    def call(self, inputs):
        return inputs


class Rescaling(Layer):
    """``x · scale + offset``, e.g. ``Rescaling(1 / 255)`` for pixels; integer inputs become floats."""

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        if not inputs.dtype.is_floating_point:
            inputs = inputs.to(shendu.float32)
        return inputs * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class RepeatVector(Layer):
    """(N, F) → (N, n, F): each sample repeated ``n`` times."""

    def __init__(self, n, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TypeError(f"Expected an integer value for `n`. Received: n={n!r}")
        self.n = n

    def build(self, input_shape):
        self._input_spec = {"ndim": 2}

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(inputs.shape[0], self.n, inputs.shape[1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` counts from 1, e.g. ``Permute((2, 1))`` swaps them."""

    def __init__(self, dims, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. "
                             f"The set of indices in `dims` must be consecutive and start from 1. Received dims={dims}")  # fmt: skip

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x ** 2)``.

    Its output shape is found by running the function on a sample; a Lambda layer cannot be saved
    to a file and loaded (shendu never runs code from a file).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable. Received: {function!r}")
        self.function, self.arguments, self._output_shape = function, dict(arguments or {}), output_shape

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is not None:
            shape = self._output_shape(input_shape) if callable(self._output_shape) else tuple(self._output_shape)
            return shape if len(shape) == len(input_shape) and shape[0] is None else (input_shape[0], *shape)
        sample = shendu.zeros(tuple(1 if d is None else d for d in input_shape))
        out = self.function(sample, **self.arguments)
        return (input_shape[0], *out.shape[1:])
