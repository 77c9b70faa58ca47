"""``ParameterList`` and ``ParameterDict``: parameters held in a list or dict, registered on the module.

As PyTorch's: a plain tensor put in is made a :class:`Parameter`; the entries are named ``"0"``, ``"1"``, ... (or
by their keys), so they appear in ``parameters()`` and in ``state_dict()`` as ``<attribute>.<name>``.

Example:
    >>> self.scales = ParameterList([Parameter(shendu.ones(n)) for n in sizes])
    >>> self.heads = ParameterDict({"mean": Parameter(shendu.zeros(4)), "log_std": Parameter(shendu.zeros(4))})
"""

from collections import OrderedDict

from ..tensor import Tensor
from .module import MemberDict, Module
from .parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(value, where):
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"{where}: expected a Parameter or a Tensor, got {type(value).__name__}")


class ParameterList(Module):
    """A list of parameters (it has no ``forward``)."""

    _rebuilt_from_config = False  # its constructor takes tensors: save_model asks for the state_dict instead

    def __init__(self, values=None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, index):
        count = len(self._parameters)
        if not -count <= index < count:
            raise IndexError(f"index {index} is out of range")
        return index % count

    def __getitem__(self, index):
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return type(self)(values[index])
        return values[self._index(index)]

    def __setitem__(self, index, value):
        self.register_parameter(str(self._index(index)), _as_parameter(value, "ParameterList"))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        """Add ``value`` (a Parameter, or a tensor made one) at the end; returns self."""
        self.register_parameter(str(len(self._parameters)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values):
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable of parameters, got a Tensor")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for i, p in enumerate(self))  # fmt: skip


class ParameterDict(MemberDict, Module):
    """A dict of parameters keyed by name, in insertion order (it has no ``forward``)."""

    _table = "_parameters"
    _rebuilt_from_config = False

    def __init__(self, parameters=None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters):
        """Add the entries of a mapping, or of an iterable of (key, parameter) pairs.

        As PyTorch: an OrderedDict, a ParameterDict or pairs keep their order; a plain dict's keys are sorted.
        """
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            items = list(parameters.items())
        elif hasattr(parameters, "items"):
            items = sorted(parameters.items())
        else:
            items = list(parameters)
        for key, value in items:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self.items())  # fmt: skip
