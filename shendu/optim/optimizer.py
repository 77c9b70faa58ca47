"""Optimizer: the base of every update rule (the ``torch.optim.Optimizer`` dialect).

An optimiser holds *parameter groups* — lists of parameters that share options such as the
learning rate — and per-parameter *state* (momentum buffers, running averages, step counts).
``step()`` changes the parameters in place from their ``.grad``; ``zero_grad()`` clears the
gradients; ``state_dict()`` / ``load_state_dict()`` save and resume it as plain data (numbers,
lists and NumPy arrays: JSON + safetensors, never pickle).

The built-in optimisers keep their state in flat buffers (see :class:`_FlatOptimizer`) so one
step is a handful of vectorised passes over memory, whatever the number of parameters.
"""

import functools
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .._backend import xp
from ..autograd import enable_grad, quiet_numpy
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]

#: what an optimiser takes: an iterable of tensors, or of dicts (parameter groups) with a "params" entry
ParamsT = Iterable[Any]


class _RequiredParameter:
    """Marks a default that every parameter group must give (``torch.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

# Keys a learning-rate scheduler (or a named-parameter list) may add to a group.
_SCHEDULER_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "base_momentum", "max_momentum", "param_names"})


def _mark_step_called(step):
    """Wrap an optimiser's ``step`` so schedulers can tell whether it ran before them (and so that an
    inf or NaN gradient updates silently, as in PyTorch, with NumPy's floating-point warnings off)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        with quiet_numpy():
            return step(self, *args, **kwargs)

    wrapper._marks_step = True
    return wrapper


def _plain(value):
    """A copy of ``value`` as plain data: arrays copied, Tensors turned into arrays, numbers kept."""
    if isinstance(value, Tensor):
        return value._array.copy()
    if isinstance(value, xp.ndarray):
        return value.copy()
    if isinstance(value, xp.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _as_number(value):
    """A step count or other scalar state from a saved dict (a number, a 0-d array, a Tensor)."""
    if isinstance(value, Tensor):
        value = value._array
    if isinstance(value, xp.ndarray):
        value = value.reshape(()).item() if value.size == 1 else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _reject_set(params):
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the ordering of "
            "tensors in sets will change between runs. Please use a list instead."
        )


class Optimizer:
    """Base class of all optimisers.

    Args:
        params: an iterable of parameters (Tensors), of ``(name, parameter)`` pairs, or of dicts
            defining parameter groups (each with a ``"params"`` list and optional options that
            override the defaults).
        defaults: the default options of every group.

    Subclasses implement ``step(closure=None)``; ``self.state[p]`` is a dict for each parameter.

    Example:
        >>> opt = SGD([{"params": model.base.parameters()},
        ...            {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_step", False):
            cls.step = _mark_step_called(step)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._validate_group(self.defaults)
        self._state: defaultdict[Any, dict] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__} (wrap a single tensor in a list: [param])"
            )
        _reject_set(params)
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- state ---------------------------------------------------------------
    @property
    def state(self):
        """Per-parameter state: a dict for each parameter that has been stepped."""
        return self._state

    @state.setter
    def state(self, value):
        self._state = defaultdict(dict, value)

    # ----- groups ----------------------------------------------------------------
    def _validate_group(self, group):
        """Check a group's options (subclasses raise ValueError like torch: 'Invalid learning rate: -1')."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``"params"`` and optional per-group options).

        Useful when fine-tuning: frozen layers can be made trainable and added as training goes.
        Raises ValueError for an unknown option, a missing required one, an invalid value, or a
        parameter already in this or another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (a list of parameters)")
        group = dict(param_group)
        params = group["params"]
        _reject_set(params)
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = names
            params = [p[1] for p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if p._creator is not None and not p._retains_grad:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params

        known = set(self.defaults) | _SCHEDULER_KEYS | {"params"}
        unknown = sorted(k for k in group if k not in known)
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown option(s) {', '.join(map(repr, unknown))} in a parameter "
                f"group; the options are {', '.join(map(repr, self.defaults))}"
            )
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._validate_group(group)

        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError("all optimizer param groups should be with/without names")
        self.param_groups.append(group)

    # ----- the update ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient.

        Args:
            set_to_none: set ``.grad`` to None (the default, as torch) instead of filling it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad._creator is not None or grad._requires_grad:
                        grad = grad.detach()
                        p._grad = grad
                    grad._array.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once. ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__}.step")

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----- saving and resuming ------------------------------------------------------
    def _export_state(self, p):
        """One parameter's state as plain data (numbers and array copies)."""
        return {k: _plain(v) for k, v in self._state[p].items()} if p in self._state else None

    def _import_state(self, p, group, saved):
        """Set one parameter's state from plain data (arrays cast to the parameter's dtype)."""
        state = {}
        for key, value in saved.items():
            if key == "step":
                state[key] = _as_number(value)
            elif isinstance(value, (Tensor, xp.ndarray)):
                array = value._array if isinstance(value, Tensor) else value
                array = xp.array(array, dtype=p._array.dtype if array.dtype.kind == "f" else None, copy=True)
                state[key] = array.reshape(p._array.shape) if array.size == p._array.size else array
            else:
                state[key] = value
        self._state[p] = state

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as plain data: ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are named by their index over all groups, in order (as torch). Array state is
        copied, so the dict is a snapshot that later steps do not change.
        """
        groups, state, index = [], {}, 0
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for p in group["params"]:
                exported = self._export_state(p)
                if exported:
                    state[index] = exported
                index += 1
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict` (also accepts one that went through JSON: string keys, lists)."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) than the "
                f"optimizer ({len(self.param_groups)})"
            )
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group "
                    f"({len(saved['params'])} vs {len(group['params'])} parameters)"
                )
        by_id = {}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            for old, p in zip(saved["params"], group["params"]):
                by_id[int(old)] = (p, group)
            # Options this optimiser does not have (torch's foreach, fused, ...) are ignored; missing
            # ones keep their current values.
            restored = {k: v for k, v in group.items() if k != "params"}
            for key, value in saved.items():
                if key == "params" or (key not in self.defaults and key not in _SCHEDULER_KEYS):
                    continue
                if isinstance(value, list) and isinstance(group.get(key, self.defaults.get(key)), tuple):
                    value = tuple(value)
                restored[key] = value
            restored["params"] = group["params"]
            new_groups.append(restored)
        for group in new_groups:
            self._validate_group(group)
        self.param_groups[:] = new_groups
        self._reset_state()
        for key, saved in state_dict["state"].items():
            if int(key) not in by_id:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no group contains")
            p, group = by_id[int(key)]
            if saved is not None:
                self._import_state(p, group, saved)

    def _reset_state(self):
        self._state = defaultdict(dict)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


_MESSAGES = {  # torch's words for an out-of-range option
    "lr": "Invalid learning rate: {}",
    "eps": "Invalid epsilon value: {}",
    "momentum": "Invalid momentum value: {}",
    "weight_decay": "Invalid weight_decay value: {}",
    "alpha": "Invalid alpha value: {}",
    "lr_decay": "Invalid lr_decay value: {}",
    "initial_accumulator_value": "Invalid initial_accumulator_value value: {}",
}


def _check_non_negative(group, *names):
    """Raise ValueError in torch's words unless each named option of ``group`` is a number >= 0."""
    for name in names:
        _check_number(name, group[name], low=0.0, message=_MESSAGES[name].format(group[name]))


def _reject_differentiable(optimizer, differentiable):
    if differentiable:
        raise ValueError(
            f"{type(optimizer).__name__}(differentiable=True) is not supported: shendu updates parameters "
            "outside the autograd graph"
        )


def _check_number(name, value, low=None, high=None, low_open=False, high_open=False, message=None):
    """Raise ValueError ``message`` (torch's words) unless ``low <= value <= high`` (open ends as asked)."""
    if isinstance(value, Tensor):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    bad = (
        (low is not None and (value <= low if low_open else value < low))
        or (high is not None and (value >= high if high_open else value > high))
        or value != value
    )
    if bad:
        raise ValueError(message or f"Invalid {name} value: {value}")
