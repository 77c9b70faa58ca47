"""``keras.Variable``: a weight with Keras' interface — ``assign``, ``assign_add``, ``numpy()``, ``name``, ``path``.

A Variable *is* a shendu :class:`~shendu.nn.Parameter` (so optimisers, autograd and ``state_dict``
see an ordinary parameter); what it adds is Keras' vocabulary. ``add_weight`` in a custom layer and
``add_variable`` in a custom metric return Variables.

Example:
    >>> v = keras.Variable(np.zeros((2, 3)), name="acc")
    >>> v.assign_add(np.ones((2, 3)))
    >>> v.numpy().sum()
    6.0
"""

import numpy as np

from ..autograd import no_grad
from ..nn.parameter import Parameter
from ..tensor import Tensor

__all__ = ["Variable"]


def _array(value):
    return value._array if isinstance(value, Tensor) else np.asarray(value)


class Variable(Parameter):
    """A mutable tensor with a name, in Keras' style.

    Args:
        initializer: the initial value (an array or tensor), or an initialiser (a name or a callable
            taking ``shape`` and ``dtype``) used with ``shape``.
        shape: needed with an initialiser.
        dtype: defaults to the value's dtype, or float32 for an initialiser.
        trainable: whether gradients flow to it (``fit`` updates it). Defaults to True.
        name: defaults to "variable".
    """

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True, aggregation="none",
                 synchronization="auto", name=None):  # fmt: skip
        if isinstance(initializer, (Tensor, np.ndarray, list, tuple, int, float, np.number)):
            array = np.array(_array(initializer), dtype=dtype, copy=True)
            if array.dtype == np.float64 and dtype is None:
                array = array.astype(np.float32)
            if shape is not None and tuple(shape) != array.shape:
                raise ValueError(f"Variable: the initial value has shape {array.shape}, not shape={tuple(shape)}")
        else:
            from . import initializers

            if shape is None:
                raise ValueError("Variable: an initializer needs a shape, e.g. keras.Variable('zeros', shape=(3,))")
            array = np.zeros(tuple(int(d) for d in shape), np.dtype(dtype or "float32"))
            initializers.get(initializer)(array)
        super().__init__(array, requires_grad=bool(trainable) and array.dtype.kind == "f")
        self._keras_trainable = bool(trainable)
        self.name = name or "variable"
        self.path = self.name
        self.aggregation = aggregation

    # ----- Keras' interface -------------------------------------------------------------------
    @property
    def value(self):
        """The variable itself (a tensor; ``v.value.grad`` is its gradient, as with Keras' torch backend)."""
        return self

    @property
    def trainable(self):
        return self._keras_trainable and self.requires_grad

    @trainable.setter
    def trainable(self, flag):
        self._keras_trainable = bool(flag)
        self.requires_grad_(bool(flag) and self._array.dtype.kind == "f")

    def numpy(self, force=True):
        """A copy of the values as a NumPy array."""
        return np.array(self._array, copy=True)

    def _update(self, array):
        array = np.asarray(array)
        if array.shape != self._array.shape and np.broadcast_shapes(array.shape, self._array.shape) != self._array.shape:
            raise ValueError(f"Variable {self.path!r}: cannot assign a value of shape {array.shape} to a variable of "
                             f"shape {self._array.shape}")  # fmt: skip
        with no_grad():
            self._array[...] = array.astype(self._array.dtype, copy=False)
        return self

    def assign(self, value):
        """Set the values (same shape, or broadcastable to it)."""
        return self._update(_array(value))

    def assign_add(self, delta):
        return self._update(self._array + _array(delta))

    def assign_sub(self, delta):
        return self._update(self._array - _array(delta))

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self._array.dtype}, value={self._array}>"

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        clone = Variable(self._array, trainable=self._keras_trainable, name=self.name, aggregation=self.aggregation)
        clone.path = self.path
        memo[id(self)] = clone
        return clone
