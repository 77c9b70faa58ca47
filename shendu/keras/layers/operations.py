"""Operations on symbolic tensors in functional models: ``x + y``, ``x * 0.5``, ``-x``, ``x @ w``, ``x[:, -1]``.

Each becomes a :class:`TensorOperation` node of the graph, so the model runs, trains and saves it like
any layer; constants are stored in its config as plain numbers (no code is stored).
"""

import numpy as np

from ...tensor import Tensor
from .base import KerasTensor, Layer

__all__ = ["TensorOperation"]

_BINARY = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b, "matmul": lambda a, b: a @ b, "power": lambda a, b: a**b,
}  # fmt: skip
_UNKNOWN = 7919  # a size no real axis has: stands for an unknown (None) axis when shapes are worked out


def _encode_key(key):
    """An index (ints, slices, None, Ellipsis, tuples of them) as plain data."""
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k) for k in key]}
    if isinstance(key, slice):
        return {"slice": [key.start, key.stop, key.step]}
    if key is Ellipsis:
        return {"ellipsis": True}
    if key is None or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    raise TypeError(f"symbolic indexing supports ints, slices, None and ... (got {type(key).__name__})")


def _decode_key(spec):
    if isinstance(spec, dict):
        if "tuple" in spec:
            return tuple(_decode_key(k) for k in spec["tuple"])
        if "slice" in spec:
            return slice(*spec["slice"])
        if "ellipsis" in spec:
            return Ellipsis
    return spec


class TensorOperation(Layer):
    """One arithmetic or indexing operation on the values of a functional model.

    Args:
        op: "add", "subtract", "multiply", "divide", "matmul", "power", "negative" or "getitem".
        constant: the other operand when it is a number or an array (as nested lists). Defaults to None.
        reverse: the constant comes first (``2 - x``). Defaults to False.
        key: the index of "getitem", as plain data. Defaults to None.
    """

    def __init__(self, op, constant=None, reverse: bool = False, key=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if op not in _BINARY and op not in ("negative", "getitem"):
            raise ValueError(f"TensorOperation: unknown op {op!r}")
        self.op, self.constant, self.reverse, self.key = op, constant, bool(reverse), key
        self._constant_array = None if constant is None else np.asarray(constant, np.float32)
        self.built = True

    @classmethod
    def record(cls, op, tensor, other, reverse):
        if op == "getitem":
            return cls(op, key=_encode_key(other))(tensor)
        if op == "negative":
            return cls(op)(tensor)
        if isinstance(other, KerasTensor):
            return cls(op)([other, tensor] if reverse else [tensor, other])
        constant = other._array if isinstance(other, Tensor) else np.asarray(other)
        if constant.dtype.kind not in "fiub":
            raise TypeError(f"cannot combine a KerasTensor with {type(other).__name__}")
        return cls(op, constant=constant.tolist(), reverse=reverse)(tensor)

    def call(self, inputs):
        if self.op == "getitem":
            return inputs[_decode_key(self.key)]
        if self.op == "negative":
            return -inputs
        if isinstance(inputs, (list, tuple)):
            return _BINARY[self.op](inputs[0], inputs[1])
        constant = Tensor(self._constant_array.astype(inputs._array.dtype, copy=False))
        a, b = (constant, inputs) if self.reverse else (inputs, constant)
        return _BINARY[self.op](a, b)

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [np.ones([_UNKNOWN if d is None else d for d in shape], np.float32) for shape in shapes]
        if self.op == "getitem":
            result = probes[0][_decode_key(self.key)]
        elif self.op == "negative":
            result = probes[0]
        elif len(probes) == 2:
            result = _BINARY[self.op](probes[0], probes[1])
        else:
            constant = np.ones(np.shape(self._constant_array), np.float32)
            result = _BINARY[self.op](*((constant, probes[0]) if self.reverse else (probes[0], constant)))
        return tuple(None if d == _UNKNOWN else int(d) for d in np.shape(result))

    def get_config(self):
        return {**super().get_config(), "op": self.op, "constant": self.constant, "reverse": self.reverse,
                "key": self.key}  # fmt: skip
