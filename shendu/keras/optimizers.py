"""Keras optimisers — Keras' argument names and defaults over ``shendu.optim``.

A Keras optimiser is created before the model's weights exist (``compile`` may come before the
first batch builds the layers), so each object here holds its settings and creates the
``shendu.optim`` optimiser over the trainable weights when training starts; after that it
passes ``step`` / ``zero_grad`` / ``param_groups`` / ``state_dict`` through, so the core training
loop and its callbacks drive it like any optimiser.

Keras → shendu.optim: ``learning_rate`` → ``lr``, ``beta_1, beta_2`` → ``betas``, ``epsilon`` →
``eps``, ``rho`` → RMSprop's ``alpha``; Keras' defaults are kept (Adam's epsilon 1e-7, SGD's
learning rate 0.01, Adagrad's initial accumulator 0.1, ...). ``clipnorm`` clips each weight's
gradient norm, ``clipvalue`` each element, ``global_clipnorm`` the norm of all gradients together.

Example:
    >>> model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
"""

import math

import numpy as np

from .. import optim
from . import schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "OPTIMIZERS", "schedules"]


def _number(owner, name, value, low=0.0, high=None, high_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{owner}: {name} must be a number. Received: {name}={value!r}")
    value = float(value)
    if value < low or (high is not None and (value >= high if high_open else value > high)):
        raise ValueError(f"{owner}: {name} is out of range. Received: {name}={value!r}")
    return value


class _NothingToUpdate:
    """The optimiser of a model without trainable weights: every step leaves everything as it is."""

    def __init__(self, lr):
        self.param_groups = [{"lr": lr, "params": []}]
        self.state = {}

    def zero_grad(self, set_to_none=True):
        pass

    def step(self, closure=None):
        return None if closure is None else closure()

    def state_dict(self):
        return {"state": {}, "param_groups": [{"lr": self.param_groups[0]["lr"], "params": []}]}

    def load_state_dict(self, state):
        pass


class Optimizer:
    """Base class of the Keras optimisers.

    Args:
        learning_rate: a number or a ``keras.optimizers.schedules`` schedule (a function of the step).
        weight_decay: decoupled weight decay (AdamW style for Adam). Defaults to None.
        clipnorm: clip each weight's gradient to this norm. Defaults to None.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue]. Defaults to None.
        global_clipnorm: clip all gradients together to this norm. Defaults to None.
        name: Defaults to the class name in lower case.
    """

    _optim_class: str | None = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):  # fmt: skip
        owner = type(self).__name__
        if "lr" in kwargs:  # Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)  # Keras 2: lr / (1 + decay · iterations)
        if kwargs:
            raise TypeError(f"{owner}: unexpected argument(s) {sorted(kwargs)}")
        if use_ema or loss_scale_factor or gradient_accumulation_steps:
            raise ValueError(f"{owner}: use_ema, loss_scale_factor and gradient_accumulation_steps are not supported")
        if decay:
            learning_rate = schedules.InverseTimeDecay(_number(owner, "learning_rate", learning_rate), 1,
                                                       _number(owner, "decay", decay))  # fmt: skip
        self._schedule = learning_rate if callable(learning_rate) else None
        self._learning_rate = None if self._schedule else _number(owner, "learning_rate", learning_rate)
        self.weight_decay = None if weight_decay is None else _number(owner, "weight_decay", weight_decay)
        if sum(c is not None for c in (clipnorm, global_clipnorm)) > 1:
            raise ValueError(f"{owner}: only one of clipnorm and global_clipnorm can be set")
        self.clipnorm = None if clipnorm is None else _number(owner, "clipnorm", clipnorm)
        self.clipvalue = None if clipvalue is None else _number(owner, "clipvalue", clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else _number(owner, "global_clipnorm", global_clipnorm)
        self.name = name or type(self).__name__.lower()
        self._optimizer = None
        self.iterations = 0

    # ----- building ----------------------------------------------------------------------------
    def _optim_kwargs(self):
        return {}

    def _initial_lr(self):
        return float(self._schedule(0)) if self._schedule is not None else self._learning_rate

    def build(self, params):
        """Create the ``shendu.optim`` optimiser over ``params`` (the trainable weights)."""
        params = [p for p in params if p.requires_grad]
        if not params:  # as Keras: a model with nothing trainable trains nothing
            self._optimizer = _NothingToUpdate(self._initial_lr())
            return self
        self._optimizer = getattr(optim, self._optim_class)(params, lr=self._initial_lr(), **self._optim_kwargs())
        return self

    @property
    def built(self):
        return self._optimizer is not None

    def _require(self):
        if self._optimizer is None:
            raise RuntimeError(f"{type(self).__name__} is not built yet: it is built over the model's weights by fit()")
        return self._optimizer

    # ----- what the training loop uses -------------------------------------------------------------
    @property
    def param_groups(self):
        return self._require().param_groups

    def zero_grad(self, set_to_none=True):
        self._require().zero_grad(set_to_none)

    def step(self, closure=None):
        optimizer = self._require()
        if self._schedule is not None:
            lr = float(self._schedule(self.iterations))
            for group in optimizer.param_groups:
                group["lr"] = lr
        self._clip([p for group in optimizer.param_groups for p in group["params"]])
        result = optimizer.step(closure)
        self.iterations += 1
        return result

    def _clip(self, params):
        grads = [p._grad._array for p in params if p._grad is not None]
        if not grads:
            return
        if self.clipvalue is not None:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            for g in grads:
                norm = float(np.sqrt(np.vdot(g, g)))
                if norm > self.clipnorm:
                    g *= self.clipnorm / norm
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            if norm > self.global_clipnorm:
                for g in grads:
                    g *= self.global_clipnorm / norm

    def state_dict(self):
        state = self._require().state_dict()
        return {"optimizer": state, "iterations": self.iterations}

    def load_state_dict(self, state):
        self._require().load_state_dict(state["optimizer"])
        self.iterations = int(state.get("iterations", 0))

    # ----- Keras attributes ----------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (settable, e.g. by ReduceLROnPlateau)."""
        if self._optimizer is not None:
            return float(self._optimizer.param_groups[0]["lr"])
        return self._initial_lr()

    @learning_rate.setter
    def learning_rate(self, value):
        value = _number(type(self).__name__, "learning_rate", value)
        self._schedule, self._learning_rate = None, value
        if self._optimizer is not None:
            for group in self._optimizer.param_groups:
                group["lr"] = value

    lr = learning_rate

    def get_config(self):
        config = {"name": self.name, "learning_rate": self.learning_rate if self._schedule is None else None}
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if v is not None})

    def __repr__(self):
        return f"<keras.optimizers.{type(self).__name__} learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Args:
        learning_rate: Defaults to 0.01.
        momentum: Defaults to 0.
        nesterov: Defaults to False.
    """

    _optim_class = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _number("SGD", "momentum", momentum, 0.0)
        self.nesterov = bool(nesterov)

    def _optim_kwargs(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay or 0.0}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015).

    Args:
        learning_rate: Defaults to 0.001.
        beta_1: decay of the first moment. Defaults to 0.9.
        beta_2: decay of the second moment. Defaults to 0.999.
        epsilon: Defaults to 1e-7.
        amsgrad: Defaults to False.
        weight_decay: decoupled, as AdamW. Defaults to None.
    """

    _optim_class = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = _number(owner, "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _number(owner, "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _number(owner, "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def _optim_kwargs(self):
        kwargs = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad}
        if self.weight_decay:
            kwargs.update(weight_decay=self.weight_decay, decoupled_weight_decay=True)
        return kwargs

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019). ``weight_decay`` defaults to 0.004."""

    _optim_class = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):  # fmt: skip
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)

    def _optim_kwargs(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad,
                "weight_decay": self.weight_decay or 0.0}  # fmt: skip


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    Args:
        learning_rate: Defaults to 0.001.
        rho: decay of the mean square. Defaults to 0.9.
        momentum: Defaults to 0.
        epsilon: Defaults to 1e-7.
        centered: normalise by the variance instead of the second moment. Defaults to False.
    """

    _optim_class = "RMSprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _number("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = _number("RMSprop", "momentum", momentum)
        self.epsilon = _number("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

    def _optim_kwargs(self):
        return {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum, "centered": self.centered,
                "weight_decay": self.weight_decay or 0.0}  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}  # fmt: skip


class Adagrad(Optimizer):
    """Adagrad: per-weight rates that shrink with the sum of squared gradients.

    Args:
        learning_rate: Defaults to 0.001.
        initial_accumulator_value: Defaults to 0.1.
        epsilon: Defaults to 1e-7.
    """

    _optim_class = "Adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _number("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _number("Adagrad", "epsilon", epsilon)

    def _optim_kwargs(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.epsilon,
                "weight_decay": self.weight_decay or 0.0}  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}  # fmt: skip


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """A Keras optimiser from a name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"``) or an instance.

    Raises:
        ValueError: an unknown name; the message lists the accepted ones.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        klass = OPTIMIZERS.get(identifier.lower())
        if klass is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Accepted names: {', '.join(sorted(OPTIMIZERS))} "
                             "(or a keras.optimizers.Optimizer instance)")  # fmt: skip
        return klass()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier["class_name"].lower()].from_config(identifier.get("config", {}))
    if isinstance(identifier, optim.Optimizer):
        raise ValueError("compile() takes a Keras optimizer (a name or keras.optimizers.Adam(...)), which is built "
                         "over the model's weights when training starts; a shendu.optim optimizer is already "
                         "bound to parameters")  # fmt: skip
    raise ValueError(f"Unknown optimizer: {identifier!r}. Accepted names: {', '.join(sorted(OPTIMIZERS))}")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
