"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their single-step cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so state_dicts copy
across. Each layer and direction runs as one fused op (``shendu.ops.recurrent``) with its own
back-propagation through time.
"""

import math
import numbers
import warnings

from .. import _dtype
from .._backend import xp
from ..ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from ..ops.indexing import index_select
from ..ops.shape import cat, reshape, stack
from ..random import default_generator
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_size(layer, name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer. Received: {name}={value!r}")


def _numpy_dtype(dtype):
    return _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)


def _sequence_op(mode, reverse, batch_first):
    if mode == "LSTM":
        return LSTMSequence(reverse, batch_first)
    if mode == "GRU":
        return GRUSequence(reverse, batch_first)
    return RNNSequence("tanh" if mode == "RNN_TANH" else "relu", reverse, batch_first)


def _float_input(layer, input, dtype):
    """``input`` as a floating Tensor of the layer's dtype (a different float dtype is cast)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer} expects a Tensor input; got {type(input).__name__}")
    if input.dtype.is_floating_point:
        if input._array.dtype != dtype:  # PyTorch's words (a ValueError there too)
            wanted = _dtype.from_numpy_dtype(dtype)
            raise ValueError(
                f"{layer.split('(')[0]} input dtype ({input.dtype}) does not match weight dtype ({wanted}). "
                f"Convert input: input.to({wanted}), or convert model: model.to({input.dtype})"
            )
        return input
    raise TypeError(
        f"{layer} expects a floating-point input; got dtype {input.dtype} (integer token ids go through an Embedding first)"
    )


def _zeros(shape, dtype):
    return Tensor._from_op(xp.zeros(shape, dtype), False)


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters per layer and direction, the stacked run.

    Parameters are ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` and the
    same with ``_reverse`` for the backward direction, shaped (gates·H, in) and (gates·H, H), with
    gates = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n), all initialised U(-1/√H, 1/√H).
    """

    def __init__(
        self,
        mode,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
        _check_size(name, "input_size", input_size)
        _check_size(name, "hidden_size", hidden_size)
        _check_size(name, "num_layers", num_layers)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1]. Received: dropout={dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied between recurrent layers only, so a non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        numpy_dtype = _numpy_dtype(dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: list[tuple[str, tuple[int, ...]]] = [("weight_ih", (gate_size, layer_input)),
                                                             ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for kind, shape in shapes:
                    setattr(self, kind + suffix, Parameter(xp.empty(shape, numpy_dtype)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: the parameters already sit in usable arrays."""

    @property
    def all_weights(self):
        """Parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        per = 4 if self.bias else 2
        params = [getattr(self, name) for name in self._flat_weights_names]
        return [params[i : i + per] for i in range(0, len(params), per)]

    def _describe(self):
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def _layer_params(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [getattr(self, name + suffix) for name in names]

    def _check_input(self, input):
        dtype = self.weight_hh_l0._array.dtype
        input = _float_input(self._describe(), input, dtype)
        layout = "(N, L, {})" if self.batch_first else "(L, N, {})"
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._describe()} got input of shape {tuple(input.shape)}; expected "
                f"{layout.format(self.input_size)} or unbatched (L, {self.input_size})"
            )
        if input.shape[-2 if input.ndim == 2 else (1 if self.batch_first else 0)] == 0:
            raise ValueError(f"{self._describe()} got an empty sequence: input of shape {tuple(input.shape)}")
        return input

    def _check_state(self, label, state, batch, batched, dtype):
        stacked = self.num_layers * (2 if self.bidirectional else 1)
        expected = (stacked, batch, self.hidden_size) if batched else (stacked, self.hidden_size)
        if not isinstance(state, Tensor):
            raise TypeError(f"{self._describe()} expects {label} to be a Tensor; got {type(state).__name__}")
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{self._describe()} got {label} of shape {tuple(state.shape)}; expected {expected} "
                f"(num_layers * num_directions, {'N, ' if batched else ''}hidden_size)"
            )
        state = _float_input(self._describe(), state, dtype)
        return state if batched else reshape(state, (stacked, 1, self.hidden_size))

    def _given_states(self, hx, batch, batched, dtype):
        """The checked initial states (h0[, c0]) given as ``hx``; a list of None without them."""
        lstm = self.mode == "LSTM"
        labels = ("h0", "c0") if lstm else ("hx",)
        if hx is None:
            return [None] * len(labels)
        if lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._describe()} expects hx as a tuple (h0, c0); got {type(hx).__name__}")
        return [self._check_state(label, s, batch, batched, dtype) for label, s in zip(labels, hx if lstm else (hx,))]

    def forward(self, input: Tensor, hx=None):
        """Run the stack over the sequence; returns (output, h_n), for LSTM (output, (h_n, c_n)).

        A :class:`~shendu.nn.utils.rnn.PackedSequence` input gives a PackedSequence output, and
        each sequence's final state is taken at its own last step.
        """
        from .utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input = self._check_input(input)
        dtype = self.weight_hh_l0._array.dtype
        batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            shape = list(input.shape)
            shape.insert(batch_dim, 1)
            input = reshape(input, shape)
        batch = input.shape[batch_dim]
        lstm = self.mode == "LSTM"
        labels = ("h0", "c0") if lstm else ("hx",)
        states = self._given_states(hx, batch, batched, dtype)
        directions = 2 if self.bidirectional else 1
        zeros = None
        finals: list = [[] for _ in labels]
        x = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                if hx is None:
                    zeros = zeros if zeros is not None else _zeros((batch, self.hidden_size), dtype)
                    initial = [zeros] * len(labels)
                else:
                    initial = [s[k] for s in states]
                op = _sequence_op(self.mode, reverse=direction == 1, batch_first=self.batch_first)
                y, *last = op(x, *initial, *self._layer_params(layer, direction))
                outputs.append(y)
                for store, value in zip(finals, last):
                    store.append(value)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = x * _dropout_mask(x.shape, self.dropout, dtype)
        finals = [stack(store) for store in finals]
        if not batched:
            x = reshape(x, [s for i, s in enumerate(x.shape) if i != batch_dim])
            finals = [reshape(f, (f.shape[0], self.hidden_size)) for f in finals]
        return (x, tuple(finals)) if lstm else (x, finals[0])

    def _forward_packed(self, packed, hx):
        """The stack over a PackedSequence: at step t only the first ``batch_sizes[t]`` (still running) sequences move.

        Each step runs the layer's fused one-step op on that prefix of the batch (as PyTorch's packed
        kernels do); the reverse direction walks the steps backwards, so a shorter sequence starts from
        its initial state at its own last element.
        """
        from .utils.rnn import PackedSequence

        dtype = self.weight_hh_l0._array.dtype
        data = _float_input(self._describe(), packed.data, dtype)
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(f"{self._describe()} got packed data of shape {tuple(data.shape)}; expected (N, {self.input_size})")
        sizes = [int(n) for n in packed.batch_sizes._array]
        offsets = [0, *xp.cumsum(sizes).tolist()]
        batch = sizes[0]
        lstm = self.mode == "LSTM"
        labels = ("h0", "c0") if lstm else ("hx",)
        directions = 2 if self.bidirectional else 1
        states = self._given_states(hx, batch, True, dtype)
        if hx is not None and packed.sorted_indices is not None:  # hx follows the caller's batch order
            states = [index_select(s, 1, packed.sorted_indices) for s in states]
        finals = [[] for _ in labels]
        x = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                state = [s[k] for s in states] if hx is not None else [_zeros((batch, self.hidden_size), dtype)] * len(labels)
                params = self._layer_params(layer, direction)
                steps = range(len(sizes) - 1, -1, -1) if direction else range(len(sizes))
                per_step = [None] * len(sizes)
                for t in steps:
                    n = sizes[t]
                    x_t = reshape(x[offsets[t] : offsets[t + 1]], (1, n, x.shape[1]))
                    step = _sequence_op(self.mode, reverse=False, batch_first=False)  # one graph node per step
                    y, *moved = step(x_t, *[s[:n] for s in state], *params)
                    per_step[t] = reshape(y, (n, self.hidden_size))
                    state = [m if n == batch else cat([m, s[n:]], dim=0) for m, s in zip(moved, state)]
                outputs.append(cat(per_step, dim=0))
                for store, value in zip(finals, state):
                    store.append(value)
            x = outputs[0] if directions == 1 else cat(outputs, dim=1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = x * _dropout_mask(x.shape, self.dropout, dtype)
        finals = [stack(store) for store in finals]
        if packed.unsorted_indices is not None:
            finals = [index_select(f, 1, packed.unsorted_indices) for f in finals]
        output = PackedSequence(x, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return (output, tuple(finals)) if lstm else (output, finals[0])

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


def _dropout_mask(shape, p, dtype):
    """Inverted-dropout mask from the global generator: 0 with probability p, else 1/(1-p)."""
    if p >= 1:
        return _zeros(tuple(shape), dtype)
    keep = default_generator().random(tuple(shape), dtype=xp.float32) >= p
    return Tensor._from_op(keep.astype(dtype) * dtype.type(1.0 / (1.0 - p)), False)


class RNN(RNNBase):
    """Elman RNN over a sequence: hₜ = act(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh), act = tanh or ReLU.

    Layers stack: layer k > 0 reads layer k-1's outputs (both directions concatenated), with
    dropout between layers in training mode.

    Args:
        input_size: features per time step of the input (H_in).
        hidden_size: features of the hidden state (H).
        num_layers: stacked recurrent layers. Defaults to 1.
        nonlinearity: ``'tanh'`` or ``'relu'``. Defaults to ``'tanh'``.
        bias: learn b_ih and b_hh. Defaults to True.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·). Defaults to False.
        dropout: dropout probability on the outputs of every layer but the last. Defaults to 0.0.
        bidirectional: also run each layer from the end to the start. Defaults to False.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in);
        hx (num_layers·D, N, H), D = 2 if bidirectional else 1 (zeros if omitted);
        output (L, N, D·H) (or (N, L, D·H)); h_n (num_layers·D, N, H).

    Attributes:
        weight_ih_l{k}: (H, H_in) for k = 0, else (H, D·H); weight_hh_l{k}: (H, H);
        bias_ih_l{k}, bias_hh_l{k}: (H,); ``_reverse`` variants for the backward direction;
        all initialised U(-1/√H, 1/√H).

    Example:
        >>> rnn = RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (shendu.Size([5, 3, 20]), shendu.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu'. Received: nonlinearity={nonlinearity!r}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )


class LSTM(RNNBase):
    """Long short-term memory over a sequence, PyTorch's gate order (i, f, g, o).

    iₜ = σ(W_ii xₜ + b_ii + W_hi hₜ₋₁ + b_hi)
    fₜ = σ(W_if xₜ + b_if + W_hf hₜ₋₁ + b_hf)
    gₜ = tanh(W_ig xₜ + b_ig + W_hg hₜ₋₁ + b_hg)
    oₜ = σ(W_io xₜ + b_io + W_ho hₜ₋₁ + b_ho)
    cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ
    hₜ = oₜ ⊙ tanh(cₜ)

    Args:
        input_size: features per time step of the input (H_in).
        hidden_size: features of the hidden and cell states (H).
        num_layers: stacked recurrent layers. Defaults to 1.
        bias: learn b_ih and b_hh. Defaults to True.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·). Defaults to False.
        dropout: dropout probability on the outputs of every layer but the last. Defaults to 0.0.
        bidirectional: also run each layer from the end to the start. Defaults to False.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in);
        (h0, c0) each (num_layers·D, N, H), D = 2 if bidirectional else 1 (zeros if omitted);
        output (L, N, D·H) (or (N, L, D·H)); h_n and c_n (num_layers·D, N, H).

    Attributes:
        weight_ih_l{k}: (4H, H_in) for k = 0, else (4H, D·H), the gates stacked i, f, g, o;
        weight_hh_l{k}: (4H, H); bias_ih_l{k}, bias_hh_l{k}: (4H,); ``_reverse`` variants for
        the backward direction; all initialised U(-1/√H, 1/√H).

    Example:
        >>> lstm = LSTM(64, 32, batch_first=True)
        >>> output, (h_n, c_n) = lstm(randn(8, 100, 64))
        >>> output.shape, h_n.shape
        (shendu.Size([8, 100, 32]), shendu.Size([1, 8, 32]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )


class GRU(RNNBase):
    """Gated recurrent unit over a sequence, PyTorch's gate order (r, z, n).

    rₜ = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr)
    zₜ = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)
    nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn))
    hₜ = (1 - zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁

    Args:
        input_size: features per time step of the input (H_in).
        hidden_size: features of the hidden state (H).
        num_layers: stacked recurrent layers. Defaults to 1.
        bias: learn b_ih and b_hh. Defaults to True.
        batch_first: input and output are (N, L, ·) instead of (L, N, ·). Defaults to False.
        dropout: dropout probability on the outputs of every layer but the last. Defaults to 0.0.
        bidirectional: also run each layer from the end to the start. Defaults to False.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in);
        hx (num_layers·D, N, H), D = 2 if bidirectional else 1 (zeros if omitted);
        output (L, N, D·H) (or (N, L, D·H)); h_n (num_layers·D, N, H).

    Attributes:
        weight_ih_l{k}: (3H, H_in) for k = 0, else (3H, D·H), the gates stacked r, z, n;
        weight_hh_l{k}: (3H, H); bias_ih_l{k}, bias_hh_l{k}: (3H,); ``_reverse`` variants for
        the backward direction; all initialised U(-1/√H, 1/√H).

    Example:
        >>> gru = GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (shendu.Size([5, 3, 40]), shendu.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )


class RNNCellBase(Module):
    """One time step of a recurrent layer: parameters weight_ih, weight_hh, bias_ih, bias_hh.

    A step runs as the fused sequence op over a sequence of length 1.
    """

    _mode: str | None = None

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, num_chunks=1, device=None, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        _check_size(name, "input_size", input_size)
        _check_size(name, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        numpy_dtype = _numpy_dtype(dtype)
        self.weight_ih = Parameter(xp.empty((num_chunks * hidden_size, input_size), numpy_dtype))
        self.weight_hh = Parameter(xp.empty((num_chunks * hidden_size, hidden_size), numpy_dtype))
        if bias:
            self.bias_ih = Parameter(xp.empty(num_chunks * hidden_size, numpy_dtype))
            self.bias_hh = Parameter(xp.empty(num_chunks * hidden_size, numpy_dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _describe(self):
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def _step(self, input, states):
        """Check shapes, run one step; returns the new states, unbatched if the input was."""
        dtype = self.weight_hh._array.dtype
        input = _float_input(self._describe(), input, dtype)
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._describe()} got input of shape {tuple(input.shape)}; expected "
                f"(N, {self.input_size}) or unbatched ({self.input_size},)"
            )
        batched = input.ndim == 2
        batch = input.shape[0] if batched else 1
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        checked = []
        for label, state in states:
            if state is None:
                checked.append(_zeros((batch, self.hidden_size), dtype))
                continue
            if not isinstance(state, Tensor):
                raise TypeError(f"{self._describe()} expects {label} to be a Tensor; got {type(state).__name__}")
            if tuple(state.shape) != expected:
                raise ValueError(f"{self._describe()} got {label} of shape {tuple(state.shape)}; expected {expected}")
            state = _float_input(self._describe(), state, dtype)
            checked.append(state if batched else reshape(state, (1, self.hidden_size)))
        x = reshape(input, (1, batch, self.input_size))
        params = [self.weight_ih, self.weight_hh] + ([self.bias_ih, self.bias_hh] if self.bias else [])
        _, *new = _sequence_op(self._mode, False, False)(x, *checked, *params)
        return new if batched else [reshape(s, (self.hidden_size,)) for s in new]

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh or ReLU.

    Args:
        input_size: features of the input (H_in).
        hidden_size: features of the hidden state (H).
        bias: learn b_ih and b_hh. Defaults to True.
        nonlinearity: ``'tanh'`` or ``'relu'``. Defaults to ``'tanh'``.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (N, H_in) or (H_in,); hx (N, H) or (H,) (zeros if omitted) → h' (N, H) or (H,).

    Example:
        >>> cell = RNNCell(10, 20)
        >>> h = cell(randn(3, 10))
        >>> h = cell(randn(3, 10), h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu'. Received: nonlinearity={nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx=None):
        return self._step(input, [("hx", hx)])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step, gates (i, f, g, o) as PyTorch.

    i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) split in four;
    c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').

    Args:
        input_size: features of the input (H_in).
        hidden_size: features of the hidden and cell states (H).
        bias: learn b_ih and b_hh. Defaults to True.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (N, H_in) or (H_in,); hx = (h, c), each (N, H) or (H,) (zeros if omitted)
        → (h', c'), each (N, H) or (H,).

    Example:
        >>> cell = LSTMCell(10, 20)
        >>> h, c = cell(randn(3, 10))
        >>> h, c = cell(randn(3, 10), (h, c))
    """

    _mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._describe()} expects hx as a tuple (h, c); got {type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        return tuple(self._step(input, [("h", h), ("c", c)]))


class GRUCell(RNNCellBase):
    """One GRU step, gates (r, z, n) as PyTorch.

    r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz),
    n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h.

    Args:
        input_size: features of the input (H_in).
        hidden_size: features of the hidden state (H).
        bias: learn b_ih and b_hh. Defaults to True.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (N, H_in) or (H_in,); hx (N, H) or (H,) (zeros if omitted) → h' (N, H) or (H,).

    Example:
        >>> cell = GRUCell(10, 20)
        >>> h = cell(randn(3, 10))
    """

    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx=None):
        return self._step(input, [("hx", hx)])[0]
