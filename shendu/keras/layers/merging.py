"""Merge layers for functional models: Concatenate, Add, Subtract, Multiply, Average (engine ops)."""

import numpy as np

from ...ops.shape import cat
from ...tensor import Tensor
from .base import Layer

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "concatenate", "add", "subtract", "multiply",
           "average"]  # fmt: skip


class _Merge(Layer):
    def compute_mask(self, inputs, previous_mask=None):
        """The steps every input keeps (Keras: the masks combined with AND)."""
        if previous_mask is None:
            return None
        masks = [m._array for m in previous_mask if m is not None]
        return Tensor(np.logical_and.reduce(masks)) if masks else None

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"A {type(self).__name__} layer should be called on a list of at least 2 inputs. "
                             f"Received: input_shape={input_shape}")  # fmt: skip

    def compute_output_shape(self, input_shape):
        shapes = input_shape
        first = shapes[0]
        for shape in shapes[1:]:
            if len(shape) != len(first) or any(a is not None and b is not None and a != b
                                               for a, b in zip(first[1:], shape[1:])):  # fmt: skip
                raise ValueError(f"{type(self).__name__} ({self.name}): inputs must have the same shape; got {shapes}")
        return first


class Add(_Merge):
    """The elementwise sum of a list of inputs of the same shape."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``."""

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"A Subtract layer should be called on exactly 2 inputs. Received: input_shape={input_shape}")

    def call(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """The elementwise product of a list of inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """The elementwise mean of a list of inputs."""

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Concatenate(_Merge):
    """Joins a list of inputs along ``axis``. Defaults to the last axis."""

    def __init__(self, axis=-1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        first = list(input_shape[0])
        axis = self.axis % len(first)
        for shape in input_shape[1:]:
            if len(shape) != len(first) or any(i != axis and i > 0 and a is not None and b is not None and a != b
                                               for i, (a, b) in enumerate(zip(first, shape))):  # fmt: skip
                raise ValueError(f"A Concatenate layer requires inputs with matching shapes except for the "
                                 f"concatenation axis. Received: input_shape={input_shape}")  # fmt: skip
        sizes = [s[axis] for s in input_shape]
        first[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(first)

    def call(self, inputs):
        return cat(list(inputs), dim=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)
