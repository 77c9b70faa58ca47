"""Parameter: a tensor that a Module registers as learnable."""

from ..tensor import Tensor, as_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered when assigned to a Module attribute.

    Args:
        data: the initial values (a Tensor or array; shares its storage). Defaults to an empty tensor.
        requires_grad: defaults to True.

    Example:
        >>> w = Parameter(zeros(3, 2))
        >>> w.requires_grad
        True
    """

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        array = as_array([] if data is None else data)
        if array.dtype.kind != "f" and requires_grad:
            raise TypeError(f"only floating-point tensors can require gradients; got dtype {array.dtype}")
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """An independent copy (data and gradient), so ``copy.deepcopy(model)`` works."""
        if id(self) in memo:
            return memo[id(self)]
        clone = Parameter(self._array.copy(), self._requires_grad)
        if self._grad is not None:
            clone._grad = Tensor._from_op(self._grad._array.copy(), False)
        memo[id(self)] = clone
        return clone

    def __reduce_ex__(self, protocol):
        raise TypeError("shendu never pickles tensors: use shendu.save / state_dict (safetensors)")
