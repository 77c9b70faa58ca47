"""SimpleRNN, LSTM and GRU with Keras' arguments, over shendu.nn's fused RNN/LSTM/GRU (``batch_first=True``).

Keras and PyTorch describe the same cells; only the bookkeeping differs, and it is translated
here:

- Keras' LSTM and SimpleRNN have one bias; nn.LSTM has two (``bias_ih`` and ``bias_hh``). The
  second is kept at zero and never trained, so parameter counts match Keras' (LSTM(32) over 100
  features: 4·32·(100 + 32 + 1) = 17,024).
- Keras' GRU (``reset_after=True``, its default) is PyTorch's GRU with the gates in the order
  (z, r, h) instead of (r, z, n), and a (2, 3·units) bias holding both biases.
- Kernels are stored transposed: Keras' ``kernel`` is (input_dim, gates·units).
"""

import numpy as np

from ... import nn
from ...nn import functional as F
from ...ops.shape import cat, flip
from ...ops.arithmetic import where
from ...tensor import Tensor
from .. import initializers
from .base import Layer
from .core import _initializer_config, _positive_int

__all__ = ["SimpleRNN", "LSTM", "GRU"]


def _gru_order(array, axis=0):
    """PyTorch's (r, z, n) blocks ↔ Keras' (z, r, h) blocks: swapping the first two (its own inverse)."""
    r, z, n = np.split(np.asarray(array), 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


class _RNN(Layer):
    mode = "LSTM"
    _gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout=0.0, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, reset_after: bool = True, seed=None, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        name = type(self).__name__
        self.units = _positive_int(name, "units", units)
        allowed = ("tanh", "relu") if self.mode == "RNN" else ("tanh",)
        act = activation if activation is not None else "linear"
        if not isinstance(act, str) or act.lower() not in allowed:
            raise ValueError(f"{name}: activation must be one of {allowed} (the fused recurrent op). "
                             f"Received: activation={activation!r}")  # fmt: skip
        self.activation_name = act.lower()
        if self.mode != "RNN" and recurrent_activation != "sigmoid":
            raise ValueError(f"{name}: recurrent_activation must be 'sigmoid'. Received: "
                             f"recurrent_activation={recurrent_activation!r}")  # fmt: skip
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1). Received: dropout={dropout!r}")
        if recurrent_dropout:
            raise ValueError(f"{name}: recurrent_dropout is not supported by shendu's fused recurrent op. "
                             f"Received: recurrent_dropout={recurrent_dropout!r}; use dropout= (on the inputs)")  # fmt: skip
        if stateful:
            raise ValueError(f"{name}: stateful=True is not supported; pass initial_state= instead")
        if self.mode == "GRU" and not reset_after:
            raise ValueError("GRU: reset_after=False is not supported; shendu's GRU is the reset_after=True "
                             "(PyTorch/CuDNN) form, Keras' default")  # fmt: skip
        for arg, value in (("kernel_regularizer", kernel_regularizer), ("recurrent_regularizer", recurrent_regularizer),
                           ("bias_regularizer", bias_regularizer), ("activity_regularizer", activity_regularizer),
                           ("kernel_constraint", kernel_constraint), ("recurrent_constraint", recurrent_constraint),
                           ("bias_constraint", bias_constraint)):  # fmt: skip
            if value is not None:
                raise ValueError(f"{name}: {arg} is not supported by shendu. Received: {arg}={value!r}")
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.dropout = float(dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll, self.seed = bool(go_backwards), bool(unroll), seed
        self._init_configs = {
            "kernel_initializer": _initializer_config(kernel_initializer),
            "recurrent_initializer": _initializer_config(recurrent_initializer),
            "bias_initializer": _initializer_config(bias_initializer),
        }
        self._inits = {k: initializers.get(v) for k, v in
                       (("kernel", kernel_initializer), ("recurrent", recurrent_initializer),
                        ("bias", bias_initializer))}  # fmt: skip

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim=3, found '
                f"ndim={len(input_shape) if isinstance(input_shape, tuple) else '?'}. Full shape received: {input_shape}"
            )
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} ({self.name}): the feature axis of {input_shape} is undefined")

    def build(self, input_shape):
        features = int(input_shape[-1])
        if self.mode == "RNN":
            self.rnn = nn.RNN(features, self.units, nonlinearity=self.activation_name, bias=self.use_bias,
                              batch_first=True, dtype=self._numpy_dtype)  # fmt: skip
        else:
            klass = nn.LSTM if self.mode == "LSTM" else nn.GRU
            self.rnn = klass(features, self.units, bias=self.use_bias, batch_first=True, dtype=self._numpy_dtype)
        self._inits["kernel"](self.rnn.weight_ih_l0)
        self._inits["recurrent"](self.rnn.weight_hh_l0)
        if self.use_bias:
            self._inits["bias"](self.rnn.bias_ih_l0)
            if self.mode == "GRU":
                self._inits["bias"](self.rnn.bias_hh_l0)
            else:
                self.rnn.bias_hh_l0._array[...] = 0
                self._fixed.add("rnn.bias_hh_l0")  # Keras has one bias: the second stays 0
            if self.mode == "LSTM" and self.unit_forget_bias:
                self.rnn.bias_ih_l0._array[self.units : 2 * self.units] = 1.0
        self._input_spec = {"ndim": 3, "axes": {-1: features}}

    supports_masking = True
    zero_output_for_mask = False  # masked steps repeat the previous output (Bidirectional: zeros)

    def compute_mask(self, inputs, previous_mask=None):
        output_mask = previous_mask if self.return_sequences else None
        if self.return_state:
            return None  # the state tensors carry no mask; the sequence keeps its own below
        return output_mask

    def call(self, inputs, initial_state=None, mask=None):
        x = inputs
        keep = None if mask is None else np.asarray(mask._array if isinstance(mask, Tensor) else mask, dtype=bool)
        if keep is not None and (keep.ndim != 2 or keep.shape != tuple(x.shape[:2])):
            raise ValueError(f"{type(self).__name__} ({self.name}): the mask must have shape (batch, steps) = "
                             f"{tuple(x.shape[:2])}; got {keep.shape}")  # fmt: skip
        if keep is not None and keep.all():
            keep = None
        if self.go_backwards:
            x = flip(x, [1])
            keep = None if keep is None else keep[:, ::-1]
        if self.dropout and self.training:
            # The same input mask at every time step, as Keras.
            ones = Tensor(np.ones((x.shape[0], 1, x.shape[2]), x._array.dtype))
            x = x * F.dropout(ones, self.dropout, True)
        hx = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            states = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, x._array.dtype)) for s in states]
            expected = 2 if self.mode == "LSTM" else 1
            if len(states) != expected:
                raise ValueError(f"{type(self).__name__} ({self.name}) expects {expected} initial state tensor(s); "
                                 f"got {len(states)}")  # fmt: skip
            states = [s.unsqueeze(0) for s in states]
            hx = tuple(states) if self.mode == "LSTM" else states[0]
        output, state = self.rnn(x, hx) if keep is None else self._masked_run(x, keep, hx)
        if self.mode == "LSTM":
            h, c = state[0][0], state[1][0]
            finals = [h, c]
        else:
            h = state[0]
            finals = [h]
        result = output if self.return_sequences else h
        if self.return_state:
            return [result, *finals]
        return result

    def _masked_run(self, x, keep, hx):
        """The recurrence over the kept steps only: state (and output) carried unchanged over masked steps.

        Each sequence's kept steps are moved to the front (in order) and run as a packed batch — the
        same as stepping with the state frozen at masked steps, in one fused call — then every step's
        output is put back at its place; a masked step gets the last output before it (or zeros).
        """
        from ...nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        n, steps = keep.shape
        rows = np.arange(n)[:, None]
        order = np.argsort(~keep, axis=1, kind="stable")
        lengths = keep.sum(axis=1)
        packed = pack_padded_sequence(x[rows, order], np.maximum(lengths, 1), batch_first=True, enforce_sorted=False)
        packed_output, state = self.rnn(packed, hx)
        compact, _ = pad_packed_sequence(packed_output, batch_first=True, total_length=steps)
        empty = lengths == 0
        if empty.any():  # a fully masked sequence keeps its initial state
            initial = [s._array for s in (hx if isinstance(hx, tuple) else (hx,))] if hx is not None else None
            state = state if isinstance(state, tuple) else (state,)
            fixed = []
            for i, s in enumerate(state):
                start = Tensor(initial[i]) if initial is not None else Tensor(np.zeros(s.shape, s._array.dtype))
                fixed.append(where(Tensor(empty[None, :, None]), start, s))
            state = tuple(fixed) if self.mode == "LSTM" else fixed[0]
        rank = np.cumsum(keep, axis=1) - 1  # where each step's latest kept output sits in `compact`
        rank[empty] = -1
        if self.zero_output_for_mask:
            rank = np.where(keep, rank, -1)
        padded = cat([Tensor(np.zeros((n, 1, compact.shape[2]), compact._array.dtype)), compact], dim=1)
        return padded[rows, rank + 1], state

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * (2 if self.mode == "LSTM" else 1)
        return output

    def _keras_weights(self):
        rnn = self.rnn
        if self.mode == "GRU":
            entries = [
                (rnn.weight_ih_l0, lambda w: _gru_order(w._array).T, lambda w, v: _set(w, _gru_order(np.asarray(v).T))),
                (rnn.weight_hh_l0, lambda w: _gru_order(w._array).T, lambda w, v: _set(w, _gru_order(np.asarray(v).T))),
            ]
            if self.use_bias:
                entries.append((rnn.bias_ih_l0, lambda w: np.stack([_gru_order(rnn.bias_ih_l0._array),
                                                                    _gru_order(rnn.bias_hh_l0._array)]),
                                lambda w, v: (_set(rnn.bias_ih_l0, _gru_order(np.asarray(v)[0])),
                                              _set(rnn.bias_hh_l0, _gru_order(np.asarray(v)[1])))))  # fmt: skip
            return entries
        entries = [
            (rnn.weight_ih_l0, lambda w: w._array.T, lambda w, v: _set(w, np.asarray(v).T)),
            (rnn.weight_hh_l0, lambda w: w._array.T, lambda w, v: _set(w, np.asarray(v).T)),
        ]
        if self.use_bias:
            entries.append((rnn.bias_ih_l0, lambda w: rnn.bias_ih_l0._array + rnn.bias_hh_l0._array,
                            lambda w, v: (_set(rnn.bias_ih_l0, v), _set(rnn.bias_hh_l0, 0.0))))  # fmt: skip
        return entries

    def get_config(self):
        config = {
            **super().get_config(), "units": self.units, "activation": self.activation_name, "use_bias": self.use_bias,
            **self._init_configs, "dropout": self.dropout, "return_sequences": self.return_sequences,
            "return_state": self.return_state, "go_backwards": self.go_backwards, "unroll": self.unroll,
        }  # fmt: skip
        if self.mode == "LSTM":
            config["unit_forget_bias"] = self.unit_forget_bias
        return config


def _set(tensor, value):
    tensor._array[...] = np.asarray(value, dtype=tensor._array.dtype)


class SimpleRNN(_RNN):
    """Fully connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)`` — an ``nn.RNN`` inside.

    Args:
        units: the state size.
        activation: ``"tanh"`` or ``"relu"``. Defaults to "tanh".
        use_bias: Defaults to True.
        kernel_initializer / recurrent_initializer / bias_initializer: Defaults to "glorot_uniform",
            "orthogonal", "zeros".
        dropout: fraction of the inputs dropped in training (one mask for all steps). Defaults to 0.
        return_sequences: return every step's output (batch, steps, units) instead of the last. Defaults to False.
        return_state: also return the final state: ``[output, h]``. Defaults to False.
        go_backwards: read the sequence backwards. Defaults to False.

    Shape:
        (batch, steps, features) → (batch, units), or (batch, steps, units) with return_sequences.
    """

    mode, _gates = "RNN", 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", **kwargs) -> None:  # fmt: skip
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer, **kwargs)  # fmt: skip


class LSTM(_RNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber 1997) — an ``nn.LSTM(batch_first=True)`` inside.

    Gates i, f, c, o; ``c_t = f·c_{t-1} + i·tanh(...)``, ``h_t = o·tanh(c_t)``.

    Args:
        units: the state size.
        activation: only "tanh". recurrent_activation: only "sigmoid".
        use_bias: Defaults to True.
        unit_forget_bias: start the forget gate's bias at 1. Defaults to True.
        kernel_initializer / recurrent_initializer / bias_initializer: Defaults to "glorot_uniform",
            "orthogonal", "zeros".
        dropout: fraction of the inputs dropped in training. Defaults to 0.
        return_sequences: Defaults to False.
        return_state: also return the final states: ``[output, h, c]``. Defaults to False.
        go_backwards: Defaults to False.

    Call arguments:
        initial_state: ``[h0, c0]``, each (batch, units). Defaults to zeros.

    Weights (Keras' layout): kernel (features, 4·units), recurrent_kernel (units, 4·units), bias (4·units,).

    Example:
        >>> LSTM(32)(embedded)   # (batch, steps, dim) -> (batch, 32)
    """

    mode, _gates = "LSTM", 4


class GRU(_RNN):
    """Gated recurrent unit (Cho et al. 2014), Keras' ``reset_after=True`` form — an ``nn.GRU`` inside.

    Arguments as :class:`LSTM` (no ``unit_forget_bias``); ``return_state`` gives ``[output, h]``.
    Weights (Keras' layout, gates z, r, h): kernel (features, 3·units), recurrent_kernel
    (units, 3·units), bias (2, 3·units) — input and recurrent biases.
    """

    mode, _gates = "GRU", 3
