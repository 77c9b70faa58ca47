"""Module: the base of every layer and model, with parameters, buffers and sub-modules.

Assigning a :class:`Parameter`, a :class:`Module` or (through :meth:`Module.register_buffer`)
a buffer as an attribute registers it, so ``parameters()``, ``state_dict()``, ``train()`` and
``to()`` reach everything, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from .._backend import xp
from .._floating_point import enter_quiet, leave_quiet
from ..tensor import Tensor
from .parameter import Parameter

M = TypeVar("M", bound="Module")  # methods that return the module itself

__all__ = [
    "Module",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Identity",
    "Flatten",
    "Unflatten",
    "StateDictKeyError",
    "StateDictShapeError",
]


class StateDictKeyError(RuntimeError, KeyError):
    """``load_state_dict`` found missing or unexpected keys (a RuntimeError, as PyTorch, and a KeyError)."""

    __str__ = RuntimeError.__str__


class StateDictShapeError(RuntimeError, ValueError):
    """``load_state_dict`` found a value whose shape differs from the model's (RuntimeError and ValueError)."""


class _IncompatibleKeys:
    """What ``load_state_dict(strict=False)`` returns: ``missing_keys`` and ``unexpected_keys``."""

    def __init__(self, missing_keys, unexpected_keys) -> None:
        self.missing_keys, self.unexpected_keys = missing_keys, unexpected_keys

    def __repr__(self):
        if not (self.missing_keys or self.unexpected_keys):
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    def __iter__(self):
        return iter((self.missing_keys, self.unexpected_keys))


def _as_state_array(key, value):
    """A state_dict value (shendu Tensor, NumPy array, torch tensor, nested lists) as an array."""
    if isinstance(value, Tensor):
        return value._array
    if not isinstance(value, xp.ndarray) and hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().cpu().numpy()  # a torch tensor
    try:
        array = xp.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"state_dict value for '{key}' is a {type(value).__name__}, not an array: {error}") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(f"state_dict value for '{key}' has dtype {array.dtype}; expected a numeric array")
    return array


_LIMITS = threading.local()


class AllocationBudgetError(MemoryError):
    """Building a module registered more parameter and buffer bytes than a budget allowed."""


@contextlib.contextmanager
def allocation_budget(max_bytes, what="the model"):
    """Within this block, registering parameters and buffers totalling over ``max_bytes`` raises.

    Used when a model is rebuilt from a file: its weights file says how many bytes the model
    holds, so a config declaring a far larger layer is refused as soon as that layer registers
    its first (not yet touched, lazily allocated) array, before anything fills it.
    """
    previous = getattr(_LIMITS, "budget", None)
    _LIMITS.budget = [int(max_bytes), 0, what]
    try:
        yield
    finally:
        _LIMITS.budget = previous


def _account(value):
    budget = getattr(_LIMITS, "budget", None)
    if budget is None or value is None:
        return
    budget[1] += value._array.nbytes
    if budget[1] > budget[0]:
        raise AllocationBudgetError(
            f"{budget[2]} declares parameters and buffers of more than {budget[0]:,} bytes "
            f"(at least {budget[1]:,}), more than its weights file holds"
        )


def _indent(text, spaces=2):
    """Indent every line but the first (PyTorch's ``_addindent``)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for all neural-network modules.

    Subclasses create parameters and sub-modules in ``__init__`` and compute in ``forward``;
    call the module itself (``model(x)``), not ``forward``.

    Example:
        >>> class Net(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x)
    """

    training = True

    def __new__(cls, *args, **kwargs):
        # NOTE: the constructor arguments are recorded so that a model of registered layers can be
        # saved as plain data (shendu.io.save_model) without every layer writing its own get_config.
        self = super().__new__(cls)
        object.__setattr__(self, "_init_args", (args, kwargs))
        return self

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            given = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            raise TypeError(f"Module.__init__() takes no arguments; got {given}")
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ----- registration ----------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Parameter):
            _account(value)
            self._forget(name, self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, self._modules)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' (Parameter or None expected)"
                )
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' (Module or None expected)"
                )
            self._modules[name] = None
        elif name in self._buffers:
            self._buffers[name] = self._buffer_value(name, value)
            _account(self._buffers[name])
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _buffer_value(name, value):
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, xp.ndarray):
            return Tensor(value)
        raise TypeError(
            f"cannot assign {type(value).__name__} as buffer '{name}' (Tensor, NumPy array or None expected)"
        )

    def _forget(self, name, keep=None):
        """Drop ``name`` from every store but ``keep`` (which is then updated in place, keeping its order)."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._modules, self._buffers):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, kind, name, store):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string; got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name must not contain "."; got {name!r}')
        if name == "":
            raise KeyError(f"{kind} name must not be empty")
        # NOTE: a plain attribute holding None may be promoted (``self.bias = None`` then
        # ``register_parameter("bias", None)``); PyTorch would refuse.
        taken = self.__dict__.get(name) is not None or hasattr(type(self), name)
        if name not in store and taken:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, a declared-but-absent parameter such as a disabled bias)."""
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter '{name}' (Parameter or None expected)")
        _account(param)
        self._forget(name, self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is not a parameter (e.g. running means).

        Args:
            name: attribute name.
            tensor: a Tensor, a NumPy array, or None (declared but absent, left out of ``state_dict``).
            persistent: include it in ``state_dict``. Defaults to True.
        """
        self._check_name("buffer", name, self._buffers)
        tensor = self._buffer_value(name, tensor)
        _account(tensor)
        self._forget(name, self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module, reachable as an attribute called ``name``."""
        self._check_name("module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass (adding '{name}')")
        self._forget(name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as ``'encoder.0'`` (``''`` is self)."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module '{part}' (looking up '{target}')")
            module = module._modules[part]
        return module

    def _get_member(self, target, store, kind):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        members = getattr(module, store)
        if name not in members:
            raise AttributeError(f"{type(module).__name__} has no {kind} '{name}' (looking up '{target}')")
        return members[name]

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as ``'0.weight'``."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as ``'bn.running_mean'``."""
        return self._get_member(target, "_buffers", "buffer")

    # ----- calling -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = enter_quiet()  # NumPy's floating-point warnings off (see shendu._floating_point)
        try:
            if self._forward_pre_hooks:
                for hook in list(self._forward_pre_hooks.values()):
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            out = self.forward(*args, **kwargs)
            if self._forward_hooks:
                for hook in list(self._forward_hooks.values()):
                    result = hook(self, args, out)
                    if result is not None:
                        out = result
            return out
        finally:
            leave_quiet(token)

    def register_forward_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args, output)`` after every forward; a non-None result replaces the output."""
        return _RemovableHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args)`` before every forward; a non-None result replaces the arguments."""
        return _RemovableHandle(self._forward_pre_hooks, hook)

    # ----- traversal -------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for self (name ``''``) and every sub-module, depth first."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted name, parameter)``; a parameter shared by two modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ----- modes and conversions ------------------------------------------------------
    def train(self: M, mode: bool = True) -> M:
        """Set training mode (dropout active, batch-norm uses batch statistics) here and in every child."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool; got {type(mode).__name__}")
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self: M) -> M:
        """Set evaluation mode (same as ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        """Set ``requires_grad`` on every parameter (False freezes the module)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad._array[...] = 0

    def apply(self: M, fn: Callable[[Module], Any]) -> M:
        """Call ``fn`` on every sub-module (children first) and on self; returns self.

        Example:
            >>> def init_weights(m):
            ...     if isinstance(m, Linear):
            ...         init.xavier_uniform_(m.weight)
            >>> model.apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert):
        """Replace the array of every parameter, gradient and buffer in place (objects keep their identity)."""
        done = set()
        for module in self.modules():
            for tensor in itertools.chain(module._parameters.values(), module._buffers.values()):
                if tensor is None or id(tensor) in done:
                    continue
                done.add(id(tensor))
                tensor._array = convert(tensor._array)
                if tensor.grad is not None:
                    tensor.grad._array = convert(tensor.grad._array)
        return self

    def to(self: M, *args: Any, **kwargs: Any) -> M:
        """Convert floating-point parameters and buffers to a dtype, in place; returns self.

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` and the keywords
        ``dtype=``/``device=``. Only the CPU exists; integer buffers keep their dtype.
        """
        from .. import _dtype
        from ..tensor import device

        target = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        places = list(args) + [kwargs.pop("device", None)]
        if kwargs:
            raise TypeError(f"Module.to got unexpected keyword arguments {sorted(kwargs)}")
        for arg in places:
            if arg is None:
                continue
            if isinstance(arg, Tensor):
                target = arg.dtype
            elif isinstance(arg, device) or (isinstance(arg, str) and arg not in _dtype._BY_NAME):
                device(arg)
            else:
                target = arg
        if target is None:
            return self
        numpy_dtype = _dtype.to_numpy_dtype(target)
        if numpy_dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating-point dtypes; got {target}")
        return self._apply_to_tensors(lambda a: a.astype(numpy_dtype) if a.dtype.kind == "f" else a)

    def double(self: M) -> M:
        """Cast floating-point parameters and buffers to float64."""
        return self.to("float64")

    def float(self: M) -> M:
        """Cast floating-point parameters and buffers to float32."""
        return self.to("float32")

    def half(self: M) -> M:
        return self.to("float16")

    def cpu(self: M) -> M:
        return self

    def cuda(self: M, *args: Any) -> M:
        return self.to("cuda")

    # ----- state ------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
                   ) -> dict[str, Any]:
        """An ordered mapping from dotted names (``fc1.weight``) to parameters and persistent buffers.

        The values are detached tensors sharing memory with the model (``keep_vars=True``: the
        parameters themselves); turn them into NumPy arrays with ``.numpy()``.
        """
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Copy parameters and buffers from ``state_dict`` (shendu tensors, NumPy arrays or torch tensors).

        Nothing is copied unless everything fits. Missing or unexpected keys raise
        :class:`StateDictKeyError` (with ``strict=True``; with ``strict=False`` they are only
        reported in the result); a shape mismatch always raises :class:`StateDictShapeError`.
        Both are RuntimeErrors, as in PyTorch, and list every problem.

        Args:
            state_dict: a mapping from dotted names to values.
            strict: require the keys to match exactly. Defaults to True.
            assign: replace each tensor's storage instead of copying into it. Defaults to False.

        Returns:
            ``(missing_keys, unexpected_keys)`` as a named object.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a mapping for state_dict; got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        arrays, mismatched = {}, []
        for key, target in own.items():
            if key not in state_dict:
                continue
            array = _as_state_array(key, state_dict[key])
            if tuple(array.shape) != tuple(target._array.shape):
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from checkpoint, "
                    f"the shape in current model is {tuple(target._array.shape)}."
                )
            arrays[key] = array
        problems = []
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        problems += mismatched
        if problems:
            error = StateDictShapeError if not (strict and (missing or unexpected)) else StateDictKeyError
            raise error(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems))
        for key, array in arrays.items():
            target = own[key]
            if assign:
                target._array = array.astype(target._array.dtype, copy=True)
            else:
                target._array[...] = array
        for module in self.modules():
            hook = getattr(module, "_on_load_state_dict", None)
            if hook is not None:
                hook()
        return _IncompatibleKeys(missing, unexpected)

    # ----- description ---------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside ``Name(...)`` in ``print(model)``; override to show a layer's settings."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module)) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements (only those that require grad with ``trainable_only``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


class _RemovableHandle:
    """Returned by hook registration; ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, store, hook) -> None:
        self.store, self.key = store, next(self._ids)
        store[self.key] = hook

    def remove(self):
        self.store.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _check_index(container, index):
    """Turn an int index (negative allowed) into 0..len-1, or raise IndexError."""
    index = operator.index(index)
    n = len(container)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of range for {type(container).__name__} of length {n}")
    return index % n


class Sequential(Module):
    """Modules applied one after another, "like building blocks": the output of each is the input of the next.

    Args:
        *modules: the modules in order (named ``'0'``, ``'1'``, ...), or one ``OrderedDict`` of named modules.

    Example:
        >>> model = Sequential(Linear(784, 500), ReLU(), Linear(500, 10))
        >>> model = Sequential(OrderedDict([("fc1", Linear(784, 500)), ("relu", ReLU())]))
        >>> model[0], model[-1], model[:2], len(model)
    """

    def __init__(self, *modules) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self._add_checked(name, module)
        else:
            for index, module in enumerate(modules):
                self._add_checked(str(index), module)

    def _add_checked(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: entry '{name}' is a {type(module).__name__}, not a Module")
        self.add_module(name, module)

    def _renumber(self, modules):
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def forward(self, input: Tensor) -> Tensor:
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_check_index(self, index)][1]

    def __setitem__(self, index, module):
        name = list(self._modules)[_check_index(self, index)]
        self._add_checked(name, module)

    def __delitem__(self, index):
        names = list(self._modules)
        doomed = names[index] if isinstance(index, slice) else [names[_check_index(self, index)]]
        for name in doomed:
            del self._modules[name]
        self._renumber(list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self._add_checked(str(len(self._modules)), module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (the rest are renumbered); returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert: expected a Module; got {type(module).__name__}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range for Sequential of length {n}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def pop(self, index=-1):
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (it has no ``forward``).

    Example:
        >>> layers = ModuleList([Linear(10, 10) for _ in range(3)])
        >>> for layer in layers:
        ...     x = layer(x)
    """

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(modules[index])
        return modules[_check_index(self, index)]

    def __setitem__(self, index, module):
        self.add_module(str(_check_index(self, index)), module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_check_index(self, index)]
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(
                f"ModuleList.extend should be called with an iterable of modules; got {type(modules).__name__}"
            )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert: expected a Module; got {type(module).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def __repr__(self):
        """Like PyTorch: runs of identical children print once, as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return f"{self._get_name()}()"
        lines = []
        start = 0
        for i in range(1, len(reprs) + 1):
            if i < len(reprs) and reprs[i] == reprs[start]:
                continue
            if i - 1 == start:
                lines.append(_indent(f"({start}): {reprs[start]}"))
            else:
                lines.append(_indent(f"({start}-{i - 1}): {i - start} x {reprs[start]}"))
            start = i
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class MemberDict:
    """The read and delete side of a dict over one of a module's member tables (``_table``: ``"_modules"`` for
    ModuleDict, ``"_parameters"`` for ParameterDict); ``__setitem__`` and ``update`` are each container's own."""

    _table = "_modules"

    def _members(self):
        return getattr(self, self._table)

    def __getitem__(self, key):
        return self._members()[key]

    def __delitem__(self, key):
        del self._members()[key]

    def __contains__(self, key):
        return key in self._members()

    def __len__(self):
        return len(self._members())

    def __iter__(self):
        return iter(self._members())

    def keys(self):
        return self._members().keys()

    def values(self):
        return self._members().values()

    def items(self):
        return self._members().items()

    def pop(self, key):
        """Remove ``key`` and return its entry."""
        return self._members().pop(key)

    def clear(self):
        self._members().clear()


class ModuleDict(MemberDict, Module):
    """A dict of modules, registered so their parameters are found; keeps insertion order.

    Example:
        >>> heads = ModuleDict({"class": Linear(64, 10), "box": Linear(64, 4)})
        >>> heads["class"](features)
    """

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def update(self, modules):
        """Add modules from a mapping or an iterable of ``(name, module)`` pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for entry in pairs:
            if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                raise TypeError(f"ModuleDict.update expects a mapping or (name, module) pairs; got element {entry!r}")
            self[entry[0]] = entry[1]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Flatten dims ``start_dim``..``end_dim`` into one.

    Args:
        start_dim: first dim to flatten. Defaults to 1 (keep the batch dimension).
        end_dim: last dim to flatten. Defaults to -1.

    Shape:
        (N, C, H, W) → (N, C·H·W) with the defaults.
    """

    def __init__(self, start_dim: int = 1, end_dim=-1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.shape import flatten

        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`).

    Example:
        >>> Unflatten(1, (1, 28, 28))(x)   # (N, 784) → (N, 1, 28, 28)
    """

    def __init__(self, dim, unflattened_size) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.shape import unflatten

        size = input.shape[self.dim] if -input.ndim <= self.dim < input.ndim else None
        product, wildcards = 1, 0
        for s in self.unflattened_size:
            if s == -1:
                wildcards += 1
            else:
                product *= s
        fits = size is not None and (
            size == product if wildcards == 0 else (wildcards == 1 and product > 0 and size % product == 0)
        )
        if not fits:
            raise ValueError(
                f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}) got input of shape "
                f"{tuple(input.shape)}; dim {self.dim} must hold {product} elements"
                + (" (or a multiple)" if wildcards else "")
            )
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
