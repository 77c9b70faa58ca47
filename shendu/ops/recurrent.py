"""Recurrent layers as fused ops: one Function runs a whole sequence of RNN, LSTM or GRU steps.

Built from elementwise ops, an LSTM costs a dozen graph nodes per time step. Here one
Function covers one layer in one direction (fused, as the style guide asks for LSTM gates):

- forward projects the inputs of every time step at once (``x @ W_ihᵀ``, one matmul), then
  runs one matmul per step for the hidden projection of all gates together, writing into
  buffers allocated once;
- backward runs back-propagation through time by hand, one matmul per step, and then gets
  dW_ih, dW_hh, the biases and dx from one matmul each over all the steps stacked.

Sigmoids are computed as σ(a) = (1 + tanh(a/2)) / 2 so that one ``tanh`` covers every gate
of a step; the halving is folded into copies of the weights (exact in binary floating point).

Sequences may be time-major (T, N, ·) or batch-major (N, T, ·, ``batch_first``): buffers are
allocated in the input's layout and the loops walk them through a time-major view.
"""

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor
from .embedding import embedding

__all__ = ["rnn_sequence", "lstm_sequence", "gru_sequence", "embedding"]

# The LSTM runs its gates internally in the order (o, i, f, g) rather than PyTorch's
# (i, f, g, o): the three sigmoid gates are then contiguous in forward, and the three gates
# driven by ∂L/∂c (i, f, g) are contiguous in backward.
_LSTM_TO_INTERNAL = [3, 0, 1, 2]  # internal block k holds PyTorch's gate _LSTM_TO_INTERNAL[k]
_LSTM_TO_TORCH = [1, 2, 3, 0]  # PyTorch's gate j sits in internal block _LSTM_TO_TORCH[j]


def _reorder(array, order):
    """Permute the gate blocks of a (gates·H, ...) weight or a (gates·H,) bias."""
    return array.reshape((len(order), -1) + array.shape[1:])[order].reshape(array.shape)


def _gate_scale(halves, H, dtype):
    """Per-row factors: 0.5 for the sigmoid gates (σ(a) = (1 + tanh(a/2)) / 2), 1 for tanh gates."""
    return xp.repeat(xp.asarray(halves, dtype=dtype), H)


class _Recurrence(Function):
    """Shared layout bookkeeping for the fused sequence ops.

    The hidden states live in one buffer of T + 1 slots (input's layout): in forward
    direction slot 0 holds h0 and step t writes slot t + 1; reversed, slot T holds h0 and
    step t writes slot t. So the output sequence is a contiguous slice of that buffer.
    """

    def __init__(self, reverse=False, batch_first=False):
        self.reverse, self.batch_first = reverse, batch_first

    def _time_major(self, array):
        return array.swapaxes(0, 1) if self.batch_first else array

    def _sizes(self, x, w_hh):
        T, N = (x.shape[1], x.shape[0]) if self.batch_first else (x.shape[0], x.shape[1])
        return T, N, w_hh.shape[1]

    def _steps(self, T):
        """Time steps in processing order, with the slots read (previous h) and written."""
        if self.reverse:
            return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
        return [(t, t, t + 1) for t in range(T)]

    def _state_buffer(self, T, N, H, dtype, initial):
        buffer = xp.empty((N, T + 1, H) if self.batch_first else (T + 1, N, H), dtype)
        self._time_major(buffer)[T if self.reverse else 0] = initial
        return buffer

    def _outputs_of(self, buffer, T):
        """(all new states in the input's layout, previous states time-major, the final state)."""
        new = slice(0, T) if self.reverse else slice(1, T + 1)
        prev = slice(1, T + 1) if self.reverse else slice(0, T)
        tm = self._time_major(buffer)
        seq = buffer[:, new] if self.batch_first else buffer[new]
        return seq, tm[prev], tm[0 if self.reverse else T]

    def _parameter_grads(self, dpre, dpre_hh, x, w_ih, hs, T, has_bias, to_torch=None):
        """dx, dW_ih, dW_hh, db_ih, db_hh from the stacked pre-activation gradients (one matmul each).

        ``dpre`` is ∂L/∂(x W_ihᵀ + b_ih) and ``dpre_hh`` ∂L/∂(h W_hhᵀ + b_hh) for every step,
        both (T·N, gates·H) in the input's layout.
        """
        need = self.needs_input_grad
        fix = (lambda a: _reorder(a, to_torch)) if to_torch is not None else (lambda a: a)
        index = 2 if len(need) in (4, 6) else 3  # where w_ih sits: after x, h0 (and c0)
        gx = gw_ih = gw_hh = gb_ih = gb_hh = None
        if need[0]:
            w = _reorder(w_ih, _LSTM_TO_INTERNAL) if to_torch is not None else w_ih
            gx = (dpre @ w).reshape(x.shape)
        if need[index]:
            gw_ih = fix(dpre.T @ x.reshape(-1, x.shape[-1]))
        if need[index + 1]:
            _, h_prev, _ = self._outputs_of(hs, T)
            h_prev = h_prev.swapaxes(0, 1) if self.batch_first else h_prev
            gw_hh = fix(dpre_hh.T @ h_prev.reshape(-1, h_prev.shape[-1]))
        if has_bias:
            ones = xp.ones(dpre.shape[0], dpre.dtype)  # NOTE: a ones-vector matmul beats sum(axis=0)
            if need[index + 2]:
                gb_ih = fix(ones @ dpre)
            if need[index + 3]:
                gb_hh = gb_ih if dpre_hh is dpre and gb_ih is not None else fix(ones @ dpre_hh)
        grads = [gx, gw_ih, gw_hh] + ([gb_ih, gb_hh] if has_bias else [])
        return grads


class RNNSequence(_Recurrence):
    """hₜ = act(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh) over a whole sequence, act = tanh or relu."""

    def __init__(self, nonlinearity="tanh", reverse=False, batch_first=False):
        super().__init__(reverse, batch_first)
        self.nonlinearity = nonlinearity

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        pre = x.reshape(-1, x.shape[-1]) @ w_ih.T  # the inputs' share of every step at once
        if b_ih is not None:
            pre += b_ih + b_hh
        A = self._time_major(pre.reshape(x.shape[:2] + (H,)))
        hs = self._state_buffer(T, N, H, x.dtype, h0)
        Hv = self._time_major(hs)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        hidden = xp.empty((N, H), x.dtype)
        tanh = self.nonlinearity == "tanh"
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                a = A[t]
                xp.matmul(Hv[prev], w_hh_t, out=hidden)
                a += hidden
                if tanh:
                    xp.tanh(a, out=Hv[new])
                else:
                    xp.maximum(a, 0, out=Hv[new])
        self.hs, self.T = hs, T
        seq, _, last = self._outputs_of(hs, T)
        return seq, last.copy()

    def backward(self, gy, gh_n):
        x, _, w_ih, w_hh = self.input_values()[:4]
        T, hs = self.T, self.hs
        H = w_hh.shape[1]
        _, _, _ = self._outputs_of(hs, T)
        Hv = self._time_major(hs)
        h_new = Hv[0:T] if self.reverse else Hv[1 : T + 1]
        with xp.errstate(over="ignore", invalid="ignore"):
            deriv = 1 - h_new * h_new if self.nonlinearity == "tanh" else (h_new > 0).astype(x.dtype)
            dpre = xp.empty(x.shape[:2] + (H,), x.dtype)
            D, gY = self._time_major(dpre), self._time_major(gy)
            dh = xp.empty_like(gh_n)
            dh_rec = gh_n.copy()  # ∂L/∂h reaching a step from the step after it
            for t, _, _ in reversed(self._steps(T)):
                xp.add(gY[t], dh_rec, out=dh)
                xp.multiply(dh, deriv[t], out=D[t])
                xp.matmul(D[t], w_hh, out=dh_rec)
            flat = dpre.reshape(-1, H)
            grads = self._parameter_grads(flat, flat, x, w_ih, hs, T, len(self.needs_input_grad) == 6)
        return (grads[0], dh_rec if self.needs_input_grad[1] else None, *grads[1:])


class LSTMSequence(_Recurrence):
    """The LSTM recurrence over a whole sequence, PyTorch's gate order (i, f, g, o) at its boundary.

    iₜ = σ(·), fₜ = σ(·), gₜ = tanh(·), oₜ = σ(·) of xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh;
    cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ; hₜ = oₜ ⊙ tanh(cₜ).
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        dtype = x.dtype
        scale = _gate_scale([0.5, 0.5, 0.5, 1.0], H, dtype)  # internal order o, i, f, g
        w_ih_s = _reorder(w_ih, _LSTM_TO_INTERNAL) * scale[:, None]
        w_hh_st = xp.ascontiguousarray((_reorder(w_hh, _LSTM_TO_INTERNAL) * scale[:, None]).T)
        acts = x.reshape(-1, x.shape[-1]) @ w_ih_s.T  # becomes the gate activations, in place
        if b_ih is not None:
            acts += _reorder(b_ih + b_hh, _LSTM_TO_INTERNAL) * scale
        acts = acts.reshape(x.shape[:2] + (4 * H,))
        A = self._time_major(acts)
        sig, o, i, f, g = A[..., : 3 * H], A[..., :H], A[..., H : 2 * H], A[..., 2 * H : 3 * H], A[..., 3 * H :]
        hs = self._state_buffer(T, N, H, dtype, h0)
        cs = self._state_buffer(T, N, H, dtype, c0)
        tanh_c = xp.empty(x.shape[:2] + (H,), dtype)
        Hv, Cv, TC = self._time_major(hs), self._time_major(cs), self._time_major(tanh_c)
        hidden = xp.empty((N, 4 * H), dtype)
        ig = xp.empty((N, H), dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                a = A[t]
                xp.matmul(Hv[prev], w_hh_st, out=hidden)
                a += hidden
                xp.tanh(a, out=a)
                s = sig[t]
                s *= 0.5
                s += 0.5
                c = Cv[new]
                xp.multiply(f[t], Cv[prev], out=c)
                xp.multiply(i[t], g[t], out=ig)
                c += ig
                xp.tanh(c, out=TC[t])
                xp.multiply(o[t], TC[t], out=Hv[new])
        self.acts, self.hs, self.cs, self.tanh_c, self.T = acts, hs, cs, tanh_c, T
        seq, _, h_last = self._outputs_of(hs, T)
        _, _, c_last = self._outputs_of(cs, T)
        return seq, h_last.copy(), c_last.copy()

    def backward(self, gy, gh_n, gc_n):
        x, _, _, w_ih, w_hh = self.input_values()[:5]
        T, H = self.T, w_hh.shape[1]
        A = self._time_major(self.acts)
        o, i, f, g = A[..., :H], A[..., H : 2 * H], A[..., 2 * H : 3 * H], A[..., 3 * H :]
        TC = self._time_major(self.tanh_c)
        _, c_prev, _ = self._outputs_of(self.cs, T)
        with xp.errstate(over="ignore", invalid="ignore"):
            # Factors, for all steps at once, that turn ∂L/∂hₜ and ∂L/∂cₜ into gate gradients.
            d_o = TC * o * (1 - o)  # ∂h/∂a_o
            d_c = o * (1 - TC * TC)  # ∂h/∂c
            d_ifg = xp.empty((T,) + i.shape[1:2] + (3, H), x.dtype)  # ∂c/∂a_i, ∂c/∂a_f, ∂c/∂a_g
            xp.multiply(g * i, 1 - i, out=d_ifg[:, :, 0])
            xp.multiply(c_prev * f, 1 - f, out=d_ifg[:, :, 1])
            xp.multiply(i, 1 - g * g, out=d_ifg[:, :, 2])
            dpre = xp.empty(x.shape[:2] + (4, H), x.dtype)  # internal order o, i, f, g
            D4 = self._time_major(dpre)
            D_o, D_ifg = D4[:, :, 0], D4[:, :, 1:]
            D = self._time_major(dpre.reshape(x.shape[:2] + (4 * H,)))
            gY = self._time_major(gy)
            w_hh_i = _reorder(w_hh, _LSTM_TO_INTERNAL)
            dh, tmp = xp.empty_like(gh_n), xp.empty_like(gh_n)
            dh_rec = gh_n.copy()  # ∂L/∂h reaching a step from the step after it
            dc = gc_n.copy()
            dc3 = dc[:, None, :]
            for t, _, _ in reversed(self._steps(T)):
                xp.add(gY[t], dh_rec, out=dh)
                xp.multiply(dh, d_o[t], out=D_o[t])
                xp.multiply(dh, d_c[t], out=tmp)
                dc += tmp
                xp.multiply(dc3, d_ifg[t], out=D_ifg[t])
                dc *= f[t]
                xp.matmul(D[t], w_hh_i, out=dh_rec)
            flat = dpre.reshape(-1, 4 * H)
            grads = self._parameter_grads(flat, flat, x, w_ih, self.hs, T, len(self.needs_input_grad) == 7, _LSTM_TO_TORCH)
        need = self.needs_input_grad
        return (grads[0], dh_rec if need[1] else None, dc if need[2] else None, *grads[1:])


class GRUSequence(_Recurrence):
    """The GRU recurrence over a whole sequence, PyTorch's gate order (r, z, n).

    rₜ = σ(xW_irᵀ + b_ir + hW_hrᵀ + b_hr), zₜ = σ(xW_izᵀ + b_iz + hW_hzᵀ + b_hz),
    nₜ = tanh(xW_inᵀ + b_in + rₜ ⊙ (hW_hnᵀ + b_hn)), hₜ = (1 - zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁.
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        dtype = x.dtype
        scale = _gate_scale([0.5, 0.5, 1.0], H, dtype)
        w_hh_st = xp.ascontiguousarray((w_hh * scale[:, None]).T)
        acts = x.reshape(-1, x.shape[-1]) @ (w_ih * scale[:, None]).T
        b_hn = None
        if b_ih is not None:
            bias = b_ih.copy()
            bias[: 2 * H] += b_hh[: 2 * H]  # b_hn stays inside r ⊙ (·)
            acts += bias * scale
            b_hn = b_hh[2 * H :]
        acts = acts.reshape(x.shape[:2] + (3 * H,))
        A = self._time_major(acts)
        rz, r, z, n = A[..., : 2 * H], A[..., :H], A[..., H : 2 * H], A[..., 2 * H :]
        hn_all = xp.empty(x.shape[:2] + (H,), dtype)  # hW_hnᵀ + b_hn, kept for backward
        HN = self._time_major(hn_all)
        hs = self._state_buffer(T, N, H, dtype, h0)
        Hv = self._time_major(hs)
        hidden = xp.empty((N, 3 * H), dtype)
        hidden_rz, hidden_n = hidden[:, : 2 * H], hidden[:, 2 * H :]
        tmp = xp.empty((N, H), dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                xp.matmul(Hv[prev], w_hh_st, out=hidden)
                s = rz[t]
                s += hidden_rz
                xp.tanh(s, out=s)
                s *= 0.5
                s += 0.5
                hn = HN[t]
                if b_hn is None:
                    hn[...] = hidden_n
                else:
                    xp.add(hidden_n, b_hn, out=hn)
                nt = n[t]
                xp.multiply(r[t], hn, out=tmp)
                nt += tmp
                xp.tanh(nt, out=nt)
                h = Hv[new]
                xp.subtract(Hv[prev], nt, out=h)
                h *= z[t]
                h += nt
        self.acts, self.hn, self.hs, self.T = acts, hn_all, hs, T
        seq, _, last = self._outputs_of(hs, T)
        return seq, last.copy()

    def backward(self, gy, gh_n):
        x, _, w_ih, w_hh = self.input_values()[:4]
        T, H = self.T, w_hh.shape[1]
        A = self._time_major(self.acts)
        r, z, n = A[..., :H], A[..., H : 2 * H], A[..., 2 * H :]
        HN = self._time_major(self.hn)
        _, h_prev, _ = self._outputs_of(self.hs, T)
        lead = x.shape[:2]
        with xp.errstate(over="ignore", invalid="ignore"):
            # ∂L/∂hₜ times these factors gives every gate gradient of step t.
            d_n = (1 - z) * (1 - n * n)  # ∂h/∂a_n
            d_r = d_n * HN * r * (1 - r)  # ∂h/∂a_r
            d_z = (h_prev - n) * z * (1 - z)  # ∂h/∂a_z
            factors_h = xp.empty((T,) + z.shape[1:2] + (3, H), x.dtype)  # for the hidden projection
            factors_h[:, :, 0] = d_r
            factors_h[:, :, 1] = d_z
            xp.multiply(d_n, r, out=factors_h[:, :, 2])
            dh_all = xp.empty(lead + (H,), x.dtype)
            dpre_hh = xp.empty(lead + (3, H), x.dtype)
            DH, DP = self._time_major(dh_all), self._time_major(dpre_hh)
            DP2 = self._time_major(dpre_hh.reshape(lead + (3 * H,)))
            gY = self._time_major(gy)
            tmp = xp.empty_like(gh_n)
            dh_rec = gh_n.copy()
            for t, _, _ in reversed(self._steps(T)):
                dh = DH[t]
                xp.add(gY[t], dh_rec, out=dh)
                xp.multiply(dh[:, None, :], factors_h[t], out=DP[t])
                xp.matmul(DP2[t], w_hh, out=dh_rec)
                xp.multiply(dh, z[t], out=tmp)
                dh_rec += tmp
            # The input projection's gradient equals the hidden one's except in the n gate.
            dpre = dpre_hh.copy()
            dpre_n = self._time_major(dpre)[:, :, 2]
            xp.multiply(self._time_major(dh_all), d_n, out=dpre_n)
            grads = self._parameter_grads(
                dpre.reshape(-1, 3 * H), dpre_hh.reshape(-1, 3 * H), x, w_ih, self.hs, T, len(self.needs_input_grad) == 6
            )
        return (grads[0], dh_rec if self.needs_input_grad[1] else None, *grads[1:])


def _check_sequence(name, gates, input, states, weight_ih, weight_hh, bias_ih, bias_hh, batch_first):
    for label, value in (("input", input), ("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {label} must be a Tensor; got {type(value).__name__}")
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError(f"{name}: give both bias_ih and bias_hh, or neither")
    H = weight_hh.shape[-1]
    if weight_hh.ndim != 2 or weight_hh.shape[0] != gates * H:
        raise ValueError(f"{name}: weight_hh has shape {tuple(weight_hh.shape)}; expected ({gates}·H, H)")
    if input.ndim != 3:
        layout = "(N, L, H_in)" if batch_first else "(L, N, H_in)"
        raise ValueError(f"{name}: input has shape {tuple(input.shape)}; expected 3 dimensions {layout}")
    if weight_ih.ndim != 2 or weight_ih.shape != (gates * H, input.shape[-1]):
        raise ValueError(
            f"{name}: weight_ih has shape {tuple(weight_ih.shape)}; expected ({gates * H}, {input.shape[-1]}) "
            f"for input of shape {tuple(input.shape)}"
        )
    N = input.shape[0] if batch_first else input.shape[1]
    for label, state in states:
        if not isinstance(state, Tensor) or tuple(state.shape) != (N, H):
            shape = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
            raise ValueError(f"{name}: {label} has shape {shape}; expected ({N}, {H})")
    dtype = weight_hh.dtype
    tensors = [input, weight_ih] + [s for _, s in states] + ([bias_ih, bias_hh] if bias_ih is not None else [])
    for t in tensors:
        if t.dtype != dtype:
            raise TypeError(f"{name}: every tensor must have the weights' dtype {dtype}; got {t.dtype}")
    return [bias_ih, bias_hh] if bias_ih is not None else []


def rnn_sequence(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh", reverse=False, batch_first=False):
    """One Elman RNN layer over a whole sequence: hₜ = act(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh).

    Args:
        input: (L, N, H_in), or (N, L, H_in) with ``batch_first``.
        hx: the initial hidden state (N, H).
        weight_ih, weight_hh: (H, H_in) and (H, H).
        bias_ih, bias_hh: (H,) each, or both None. Defaults to None.
        nonlinearity: ``'tanh'`` or ``'relu'``. Defaults to ``'tanh'``.
        reverse: run from the last step to the first. Defaults to False.
        batch_first: input and output are (N, L, ·). Defaults to False.

    Returns:
        (output, h_n): every step's hidden state (input's layout, H features) and the last one (N, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_sequence: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    biases = _check_sequence("rnn_sequence", 1, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, batch_first)
    return RNNSequence(nonlinearity, reverse, batch_first)(input, hx, weight_ih, weight_hh, *biases)


def lstm_sequence(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False, batch_first=False):
    """One LSTM layer over a whole sequence (gates i, f, g, o as PyTorch), fused into one op.

    iₜ, fₜ, gₜ, oₜ = σ, σ, tanh, σ of (xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh) split in four;
    cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ; hₜ = oₜ ⊙ tanh(cₜ).

    Args:
        input: (L, N, H_in), or (N, L, H_in) with ``batch_first``.
        hx, cx: the initial hidden and cell states, (N, H) each.
        weight_ih, weight_hh: (4H, H_in) and (4H, H).
        bias_ih, bias_hh: (4H,) each, or both None. Defaults to None.
        reverse: run from the last step to the first. Defaults to False.
        batch_first: input and output are (N, L, ·). Defaults to False.

    Returns:
        (output, h_n, c_n).

    Example:
        >>> out, h, c = lstm_sequence(x, h0, c0, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)
    """
    states = [("hx", hx), ("cx", cx)]
    biases = _check_sequence("lstm_sequence", 4, input, states, weight_ih, weight_hh, bias_ih, bias_hh, batch_first)
    return LSTMSequence(reverse, batch_first)(input, hx, cx, weight_ih, weight_hh, *biases)


def gru_sequence(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False, batch_first=False):
    """One GRU layer over a whole sequence (gates r, z, n as PyTorch), fused into one op.

    rₜ = σ(xW_irᵀ + b_ir + hW_hrᵀ + b_hr), zₜ = σ(xW_izᵀ + b_iz + hW_hzᵀ + b_hz),
    nₜ = tanh(xW_inᵀ + b_in + rₜ ⊙ (hW_hnᵀ + b_hn)), hₜ = (1 - zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁.

    Args:
        input: (L, N, H_in), or (N, L, H_in) with ``batch_first``.
        hx: the initial hidden state (N, H).
        weight_ih, weight_hh: (3H, H_in) and (3H, H).
        bias_ih, bias_hh: (3H,) each, or both None. Defaults to None.
        reverse: run from the last step to the first. Defaults to False.
        batch_first: input and output are (N, L, ·). Defaults to False.

    Returns:
        (output, h_n).
    """
    biases = _check_sequence("gru_sequence", 3, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, batch_first)
    return GRUSequence(reverse, batch_first)(input, hx, weight_ih, weight_hh, *biases)
