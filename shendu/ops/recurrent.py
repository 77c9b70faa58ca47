"""Recurrent layers as fused ops: one Function runs a whole sequence of RNN, LSTM or GRU steps.

Built from elementwise ops, an LSTM costs a dozen graph nodes per time step. Here one
Function covers one layer in one direction (fused, as the style guide asks for LSTM gates):

- forward projects the inputs of every time step at once (W_ih xₜ for all t, one matmul), then
  runs one matmul per step for the hidden projection of all gates together, writing into
  buffers allocated once;
- backward runs back-propagation through time by hand, one matmul per step, and then gets
  dW_ih, dW_hh, the biases and dx from one matmul each over all the steps stacked.

Sigmoids are computed as σ(a) = 1 / (1 + e⁻ᵃ), the sign folded into copies of the weights so
that one ``exp`` (a third cheaper than ``tanh`` in NumPy) covers all the sigmoid gates of a step;
overflow to inf gives σ = 0 exactly.

Inside, every step works on feature-major blocks: the gates of step t are one contiguous
(gates·H, N) array and each state one contiguous (H, N) array, so the hidden projection is a
single matmul ``W_hh @ hₜ₋₁`` and every elementwise op runs on contiguous memory (on row
slices of a (N, gates·H) block NumPy is 3× slower). Sequences, time-major (T, N, ·) or
batch-major (N, T, ·), are transposed once on the way in and out.
"""

import threading
from collections import OrderedDict

from .. import _compiled
from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor
from .embedding import embedding

try:
    from . import _lstm_cell  # type: ignore[attr-defined]  # the optional C kernel of an LSTM step (see _lstm_cell.c)
except ImportError:  # not built: no C compiler at install time
    _lstm_cell = None  # type: ignore[assignment]

__all__ = ["rnn_sequence", "lstm_sequence", "gru_sequence", "embedding"]


def _lstm_kernel(dtype):
    """The compiled LSTM step module for float32 arrays, when built and switched on; else None."""
    return _lstm_cell if _lstm_cell is not None and dtype == xp.float32 and _compiled.enabled() else None


# The LSTM runs its gates internally in the order (o, i, f, g) rather than PyTorch's
# (i, f, g, o): the three sigmoid gates are then contiguous in forward, and the three gates
# driven by ∂L/∂c (i, f, g) are contiguous in backward.
_LSTM_TO_INTERNAL = [3, 0, 1, 2]  # internal block k holds PyTorch's gate _LSTM_TO_INTERNAL[k]
_LSTM_TO_TORCH = [1, 2, 3, 0]  # PyTorch's gate j sits in internal block _LSTM_TO_TORCH[j]


def _reorder(array, order):
    """Permute the gate blocks of a (gates·H, ...) weight or a (gates·H,) bias."""
    return array.reshape((len(order), -1) + array.shape[1:])[order].reshape(array.shape)


def _gate_signs(signs, H, dtype):
    """Per-row factors: -1 for the sigmoid gates (so that exp gives e⁻ᵃ), 1 for the tanh gates."""
    return xp.repeat(xp.asarray(signs, dtype=dtype), H)


class _ScratchPool:
    """Buffers kept between calls, by shape and dtype, for arrays that never leave the ops.

    A training step needs the same few megabytes of buffers every time. Freed and allocated
    afresh, they make the C allocator hand pages back to the OS and fault them in again
    (measured: thousands of page faults per step of the seed LSTM, a third of its time).
    At most ``per_shape`` arrays of a shape and ``max_bytes`` in all are kept, least recently
    used shapes going first; arrays larger than ``max_bytes / 4`` are never kept.
    """

    def __init__(self, per_shape=4, max_bytes=64 << 20):
        self.per_shape, self.max_bytes = per_shape, max_bytes
        self._free = OrderedDict()  # (shape, dtype) -> [arrays]
        self._bytes = 0
        self._lock = threading.Lock()

    def take(self, shape, dtype):
        key = (tuple(shape), xp.dtype(dtype).str)
        with self._lock:
            stack = self._free.get(key)
            if stack:
                array = stack.pop()
                self._bytes -= array.nbytes
                return array
        return xp.empty(shape, dtype)

    def give(self, *arrays):
        with self._lock:
            for array in arrays:
                if array is None or array.base is not None or array.nbytes > self.max_bytes // 4:
                    continue
                key = (array.shape, array.dtype.str)
                stack = self._free.setdefault(key, [])
                self._free.move_to_end(key)
                if len(stack) < self.per_shape:
                    stack.append(array)
                    self._bytes += array.nbytes
            while self._bytes > self.max_bytes:
                _, stack = self._free.popitem(last=False)
                self._bytes -= sum(a.nbytes for a in stack)


_scratch = _ScratchPool()


class _Recurrence(Function):
    """Shared bookkeeping of the fused sequence ops: layouts, state slots, parameter gradients.

    The hidden states live in one (T + 1, H, N) buffer: in forward direction slot 0 holds h0 and
    step t writes slot t + 1; reversed, slot T holds h0 and step t writes slot t. Buffers saved
    for backward come from the scratch pool and go back to it when the graph is released.
    """

    _saved: tuple[str, ...] = ()  # names of the pooled buffers kept for backward

    def __init__(self, reverse=False, batch_first=False):
        self.reverse, self.batch_first = reverse, batch_first

    def release(self):
        _scratch.give(*(self.__dict__.get(name) for name in self._saved))
        super().release()

    def _sizes(self, x, w_hh):
        T, N = (x.shape[1], x.shape[0]) if self.batch_first else (x.shape[0], x.shape[1])
        return T, N, w_hh.shape[1]

    def _steps(self, T):
        """Time steps in processing order, with the slots read (previous state) and written."""
        if self.reverse:
            return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
        return [(t, t, t + 1) for t in range(T)]

    def _slots(self, T):
        """(slots of the previous states, slots of the new states) for all steps, in time order."""
        return (slice(1, T + 1), slice(0, T)) if self.reverse else (slice(0, T), slice(1, T + 1))

    def _to_feature_major(self, array, rows=None):
        """(T, N, F) or, batch first, (N, T, F) → a pooled (T, rows ≥ F, N) buffer holding it."""
        T, N, F = (array.shape[1], array.shape[0], array.shape[2]) if self.batch_first else array.shape
        out = _scratch.take((T, rows or F, N), array.dtype)
        out[:, :F] = array.transpose(1, 2, 0) if self.batch_first else array.transpose(0, 2, 1)
        return out

    def _to_sequence_major(self, array, pooled=False):
        """(T, F, N) → (T, N, F), or (N, T, F) batch first: the input's layout, contiguous."""
        T, F, N = array.shape
        shape = (N, T, F) if self.batch_first else (T, N, F)
        out = _scratch.take(shape, array.dtype) if pooled else xp.empty(shape, array.dtype)
        if not self.batch_first:
            out[...] = array.transpose(0, 2, 1)
        elif array.nbytes <= 1 << 19:
            out[...] = array.transpose(2, 0, 1)
        else:  # NOTE: one step at a time keeps the strided reads in cache: 3× faster than in one go
            for t in range(T):
                out[:, t] = array[t].T
        return out

    def _projected(self, x, w_ih, bias):
        """The inputs' share of every gate at every step, (T, gates·H, N), in one batched matmul.

        x is transposed once to (T, H_in, N), with a row of ones when there is a bias so that
        the bias rides along in the matmul instead of costing a pass of its own.
        """
        size = x.shape[-1]
        xt = self._to_feature_major(x, size + (bias is not None))
        if bias is not None:
            xt[:, size] = 1
            w_ih = xp.concatenate([w_ih, bias[:, None]], axis=1)
        out = _scratch.take((xt.shape[0], w_ih.shape[0], xt.shape[2]), x.dtype)
        xp.matmul(w_ih, xt, out=out)
        _scratch.give(xt)
        return out

    def _output_grad(self, gy):
        """∂L/∂output, feature-major, or None when it is all zeros (only the final state is used)."""
        return self._to_feature_major(gy) if gy.any() else None

    def _state_buffer(self, T, H, N, dtype, initial):
        buffer = _scratch.take((T + 1, H, N), dtype)
        buffer[T if self.reverse else 0] = initial.T
        return buffer

    def _results(self, hs, T, *finals):
        """The output sequence in the input's layout, and the final states as (N, H) arrays."""
        seq = self._to_sequence_major(hs[self._slots(T)[1]])
        return (seq,) + tuple(f.T.copy() for f in finals)

    def _parameter_grads(self, dpre, dpre_hh, x, w_ih, hs, T, has_bias, to_torch=None):
        """dx, dW_ih, dW_hh, db_ih, db_hh from the stacked pre-activation gradients (one matmul each).

        ``dpre`` is ∂L/∂(W_ih xₜ + b_ih) and ``dpre_hh`` ∂L/∂(W_hh hₜ₋₁ + b_hh) for every step,
        both (T, gates·H, N).
        """
        need = self.needs_input_grad
        fix = (lambda a: _reorder(a, to_torch)) if to_torch is not None else (lambda a: a)
        index = 2 if len(need) in (4, 6) else 3  # where w_ih sits: after x, h0 (and c0)
        rows = dpre.shape[1]
        seq = self._to_sequence_major(dpre, pooled=True)  # rows ordered as x's
        seq_hh = seq if dpre_hh is dpre else self._to_sequence_major(dpre_hh, pooled=True)
        flat, flat_hh = seq.reshape(-1, rows), seq_hh.reshape(-1, rows)
        gx = gw_ih = gw_hh = gb_ih = gb_hh = None
        if need[0]:
            w = _reorder(w_ih, _LSTM_TO_INTERNAL) if to_torch is not None else w_ih
            gx = (flat @ w).reshape(x.shape)
        if need[index]:
            gw_ih = fix(flat.T @ x.reshape(-1, x.shape[-1]))
        if need[index + 1]:
            h_prev = self._to_sequence_major(hs[self._slots(T)[0]], pooled=True)
            gw_hh = fix(flat_hh.T @ h_prev.reshape(-1, h_prev.shape[-1]))
            _scratch.give(h_prev)
        if has_bias:
            ones = xp.ones(flat.shape[0], flat.dtype)  # NOTE: a ones-vector matmul beats sum(axis=0)
            if need[index + 2]:
                gb_ih = fix(ones @ flat)
            if need[index + 3]:
                gb_hh = gb_ih if flat_hh is flat and gb_ih is not None else fix(ones @ flat_hh)
        _scratch.give(seq, seq_hh if seq_hh is not seq else None)
        return [gx, gw_ih, gw_hh] + ([gb_ih, gb_hh] if has_bias else [])


class RNNSequence(_Recurrence):
    """hₜ = act(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh) over a whole sequence, act = tanh or relu."""

    _saved = ("hs",)

    def __init__(self, nonlinearity="tanh", reverse=False, batch_first=False):
        super().__init__(reverse, batch_first)
        self.nonlinearity = nonlinearity

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        A = self._projected(x, w_ih, None if b_ih is None else b_ih + b_hh)
        hs = self._state_buffer(T, H, N, x.dtype, h0)
        hidden = xp.empty((H, N), x.dtype)
        tanh = self.nonlinearity == "tanh"
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                xp.matmul(w_hh, hs[prev], out=hidden)
                h = hs[new]
                xp.add(A[t], hidden, out=h)
                if tanh:
                    xp.tanh(h, out=h)
                else:
                    xp.maximum(h, 0, out=h)
        _scratch.give(A)
        self.hs, self.T = hs, T
        return self._results(hs, T, hs[0 if self.reverse else T])

    def backward(self, gy, gh_n):
        x, _, w_ih, w_hh = self.input_values()[:4]
        T, hs = self.T, self.hs
        h_new = hs[self._slots(T)[1]]
        D = _scratch.take(h_new.shape, x.dtype)  # ∂act/∂a, then ∂L/∂a in place
        with xp.errstate(over="ignore", invalid="ignore"):
            if self.nonlinearity == "tanh":
                xp.multiply(h_new, h_new, out=D)
                xp.subtract(1, D, out=D)
            else:
                xp.greater(h_new, 0, out=D)
            G = self._output_grad(gy)
            w_hh_t = w_hh.T
            dh_rec = gh_n.T.copy()  # ∂L/∂h reaching a step from the step after it
            dh = dh_rec if G is None else xp.empty_like(dh_rec)
            for t, _, _ in reversed(self._steps(T)):
                if G is not None:
                    xp.add(G[t], dh_rec, out=dh)
                xp.multiply(dh, D[t], out=D[t])
                xp.matmul(w_hh_t, D[t], out=dh_rec)
            grads = self._parameter_grads(D, D, x, w_ih, hs, T, len(self.needs_input_grad) == 6)
        _scratch.give(D, G)
        return (grads[0], dh_rec.T if self.needs_input_grad[1] else None, *grads[1:])


class LSTMSequence(_Recurrence):
    """The LSTM recurrence over a whole sequence, PyTorch's gate order (i, f, g, o) at its boundary.

    iₜ = σ(·), fₜ = σ(·), gₜ = tanh(·), oₜ = σ(·) of W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh;
    cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ; hₜ = oₜ ⊙ tanh(cₜ).
    """

    _saved = ("acts", "hs", "cs", "tanh_c")

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        dtype = x.dtype
        signs = _gate_signs([-1.0, -1.0, -1.0, 1.0], H, dtype)  # internal order o, i, f, g
        bias = None if b_ih is None else _reorder(b_ih + b_hh, _LSTM_TO_INTERNAL) * signs
        # the pre-activations (-a for the sigmoid gates), turned into the activations in place
        A = self._projected(x, _reorder(w_ih, _LSTM_TO_INTERNAL) * signs[:, None], bias)
        w_hh_s = _reorder(w_hh, _LSTM_TO_INTERNAL) * signs[:, None]
        gates = A.reshape(T, 4, H, N)
        sig, o, i, f, g = A[:, : 3 * H], gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]
        hs = self._state_buffer(T, H, N, dtype, h0)
        cs = self._state_buffer(T, H, N, dtype, c0)
        tanh_c = _scratch.take((T, H, N), dtype)
        hidden = xp.empty((4 * H, N), dtype)
        ig = xp.empty((H, N), dtype)
        compiled = _lstm_kernel(dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                a = A[t]
                xp.matmul(w_hh_s, hs[prev], out=hidden)
                a += hidden
                if compiled is not None:  # the rest of the step in one call (eleven NumPy calls below)
                    compiled.forward_step(a, cs[prev], cs[new], tanh_c[t], hs[new])
                    continue
                s = sig[t]
                xp.exp(s, out=s)
                s += 1
                xp.reciprocal(s, out=s)
                gt = g[t]
                xp.tanh(gt, out=gt)
                c = cs[new]
                xp.multiply(f[t], cs[prev], out=c)
                xp.multiply(i[t], gt, out=ig)
                c += ig
                xp.tanh(c, out=tanh_c[t])
                xp.multiply(o[t], tanh_c[t], out=hs[new])
        self.acts, self.hs, self.cs, self.tanh_c, self.T = A, hs, cs, tanh_c, T
        last = 0 if self.reverse else T
        return self._results(hs, T, hs[last], cs[last])

    def backward(self, gy, gh_n, gc_n):
        x, _, _, w_ih, w_hh = self.input_values()[:5]
        T, H = self.T, w_hh.shape[1]
        gates = self.acts.reshape(T, 4, H, -1)
        o, i, f, g = gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]
        TC = self.tanh_c
        c_prev = self.cs[self._slots(T)[0]]
        # Factors, for all steps at once, that turn ∂L/∂hₜ and ∂L/∂cₜ into gate gradients. Per step
        # the rows are [∂h/∂c, ∂h/∂a_o, ∂c/∂a_i, ∂c/∂a_f, ∂c/∂a_g]: the first two scale ∂L/∂hₜ in one
        # multiply, the last three ∂L/∂cₜ in another, and the products overwrite the factors, so
        # rows 1-4 of step t become ∂L/∂a of its gates (o, i, f, g).
        FD = _scratch.take((T, 5, H, TC.shape[2]), x.dtype)
        s = _scratch.take(TC.shape, x.dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            d_c = FD[:, 0]
            xp.multiply(TC, TC, out=d_c)
            xp.subtract(1, d_c, out=d_c)
            d_c *= o  # o (1 - tanh²c)
            xp.subtract(1, o, out=s)
            s *= o
            xp.multiply(s, TC, out=FD[:, 1])  # tanh(c) σ'(a_o)
            xp.subtract(1, i, out=s)
            s *= i
            xp.multiply(s, g, out=FD[:, 2])  # g σ'(a_i)
            xp.subtract(1, f, out=s)
            s *= f
            xp.multiply(s, c_prev, out=FD[:, 3])  # cₜ₋₁ σ'(a_f)
            xp.multiply(g, g, out=s)
            xp.subtract(1, s, out=s)
            xp.multiply(s, i, out=FD[:, 4])  # i (1 - g²)
            G = self._output_grad(gy)
            by_h, by_c, d_c = FD[:, :2], FD[:, 2:], FD[:, 0]
            D = FD[:, 1:].reshape(T, 4 * H, -1)  # ∂L/∂a per step, internal gate order o, i, f, g
            w_hh_t = _reorder(w_hh, _LSTM_TO_INTERNAL).T
            dh_rec = gh_n.T.copy()  # ∂L/∂h reaching a step from the step after it
            dc = gc_n.T.copy()
            compiled = _lstm_kernel(x.dtype)
            dh = dh_rec if G is None or compiled is not None else xp.empty_like(dh_rec)  # (NumPy loop only)
            for t, _, _ in reversed(self._steps(T)):
                if compiled is not None:  # the same operations as the five calls below, in one
                    compiled.backward_step(FD[t], f[t], dc, dh_rec, None if G is None else G[t])
                    xp.matmul(w_hh_t, D[t], out=dh_rec)
                    continue
                if G is not None:
                    xp.add(G[t], dh_rec, out=dh)
                xp.multiply(dh, by_h[t], out=by_h[t])
                dc += d_c[t]
                xp.multiply(dc, by_c[t], out=by_c[t])
                dc *= f[t]
                xp.matmul(w_hh_t, D[t], out=dh_rec)
            grads = self._parameter_grads(D, D, x, w_ih, self.hs, T, len(self.needs_input_grad) == 7, _LSTM_TO_TORCH)
        _scratch.give(FD, s, G)
        need = self.needs_input_grad
        return (grads[0], dh_rec.T if need[1] else None, dc.T if need[2] else None, *grads[1:])


class GRUSequence(_Recurrence):
    """The GRU recurrence over a whole sequence, PyTorch's gate order (r, z, n).

    rₜ = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr), zₜ = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz),
    nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn)), hₜ = (1 - zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁.
    """

    _saved = ("acts", "hn", "hs")

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        T, N, H = self._sizes(x, w_hh)
        dtype = x.dtype
        signs = _gate_signs([-1.0, -1.0, 1.0], H, dtype)
        bias = b_hn = None
        if b_ih is not None:
            bias = b_ih.copy()
            bias[: 2 * H] += b_hh[: 2 * H]  # b_hn stays inside r ⊙ (·)
            bias *= signs
            b_hn = b_hh[2 * H :, None]
        A = self._projected(x, w_ih * signs[:, None], bias)
        w_hh_s = w_hh * signs[:, None]
        gates = A.reshape(T, 3, H, N)
        rz, r, z, n = A[:, : 2 * H], gates[:, 0], gates[:, 1], gates[:, 2]
        HN = _scratch.take((T, H, N), dtype)  # W_hn hₜ₋₁ + b_hn, kept for backward
        hs = self._state_buffer(T, H, N, dtype, h0)
        hidden = xp.empty((3 * H, N), dtype)
        hidden_rz, hidden_n = hidden[: 2 * H], hidden[2 * H :]
        tmp = xp.empty((H, N), dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            for t, prev, new in self._steps(T):
                xp.matmul(w_hh_s, hs[prev], out=hidden)
                s = rz[t]
                s += hidden_rz
                xp.exp(s, out=s)
                s += 1
                xp.reciprocal(s, out=s)
                hn = HN[t]
                if b_hn is None:
                    hn[...] = hidden_n
                else:
                    xp.add(hidden_n, b_hn, out=hn)
                nt = n[t]
                xp.multiply(r[t], hn, out=tmp)
                nt += tmp
                xp.tanh(nt, out=nt)
                h = hs[new]
                xp.subtract(hs[prev], nt, out=h)
                h *= z[t]
                h += nt
        self.acts, self.hn, self.hs, self.T = A, HN, hs, T
        return self._results(hs, T, hs[0 if self.reverse else T])

    def backward(self, gy, gh_n):
        x, _, w_ih, w_hh = self.input_values()[:4]
        T, H = self.T, w_hh.shape[1]
        gates = self.acts.reshape(T, 3, H, -1)
        r, z, n = gates[:, 0], gates[:, 1], gates[:, 2]
        h_prev = self.hs[self._slots(T)[0]]
        # ∂L/∂hₜ times these factors gives the gradient of every gate of step t.
        factors = _scratch.take(self.acts.shape, x.dtype)
        F = factors.reshape(T, 3, H, -1)
        d_n = _scratch.take(r.shape, x.dtype)  # ∂h/∂a_n = (1 - z)(1 - n²)
        s = _scratch.take(r.shape, x.dtype)
        with xp.errstate(over="ignore", invalid="ignore"):
            xp.multiply(n, n, out=d_n)
            xp.subtract(1, d_n, out=d_n)
            xp.subtract(1, z, out=s)
            d_n *= s
            xp.subtract(1, r, out=s)
            s *= r
            s *= self.hn
            xp.multiply(s, d_n, out=F[:, 0])  # ∂h/∂a_r
            xp.subtract(1, z, out=s)
            s *= z
            xp.subtract(h_prev, n, out=F[:, 1])
            F[:, 1] *= s  # ∂h/∂a_z
            xp.multiply(d_n, r, out=F[:, 2])  # ∂h/∂(W_hn h + b_hn)
            G = self._output_grad(gy)
            DH = _scratch.take(r.shape, x.dtype)  # ∂L/∂hₜ of every step
            D_hh = _scratch.take(self.acts.shape, x.dtype)
            DP = D_hh.reshape(T, 3, H, -1)
            w_hh_t = w_hh.T
            dh_rec = gh_n.T.copy()
            tmp = xp.empty_like(dh_rec)
            for t, _, _ in reversed(self._steps(T)):
                dh = DH[t]
                if G is None:
                    dh[...] = dh_rec
                else:
                    xp.add(G[t], dh_rec, out=dh)
                xp.multiply(dh, F[t], out=DP[t])
                xp.matmul(w_hh_t, D_hh[t], out=dh_rec)
                xp.multiply(dh, z[t], out=tmp)
                dh_rec += tmp
            # The input projection's gradient equals the hidden one's except in the n gate.
            D_ih = factors  # reused: the factors are no longer needed
            D_ih[...] = D_hh
            xp.multiply(DH, d_n, out=D_ih.reshape(T, 3, H, -1)[:, 2])
            grads = self._parameter_grads(D_ih, D_hh, x, w_ih, self.hs, T, len(self.needs_input_grad) == 6)
        _scratch.give(factors, d_n, s, G, DH, D_hh)
        return (grads[0], dh_rec.T if self.needs_input_grad[1] else None, *grads[1:])


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


def rnn_sequence(
    input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh", reverse=False, batch_first=False
):
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
        ``(output, h_n)``, every step's hidden state (input's layout, H features) and the last one (N, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_sequence: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    biases = _check_sequence(
        "rnn_sequence", 1, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, batch_first
    )
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
    biases = _check_sequence(
        "gru_sequence", 3, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, batch_first
    )
    return GRUSequence(reverse, batch_first)(input, hx, weight_ih, weight_hh, *biases)
