"""Keras 3's linear-algebra ops (``keras.ops.linalg``)."""

import shendu

from .numpy import _floating


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras's name
    """The vector norm (the Frobenius norm for ``ord=None`` on 2 axes), as ``numpy.linalg.norm``."""
    x = _floating(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if isinstance(axis, list | tuple) and len(axis) == 2:
        return shendu.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=tuple(axis), keepdim=keepdims)
    return shendu.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims)


def inv(x):
    """The matrix inverse."""
    return shendu.linalg.inv(_floating(x))


def det(x):
    """The determinant."""
    return shendu.linalg.det(_floating(x))


def solve(a, b):
    """x with a · x = b."""
    return shendu.linalg.solve(_floating(a), _floating(b))
