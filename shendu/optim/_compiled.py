"""Optional compiled update kernels: an Adam step in one pass over memory, where NumPy makes ten.

NumPy runs an update rule as a chain of whole-array ufunc calls, each a pass over memory; PyTorch's
``Adam(fused=True)`` makes one pass, keeping every intermediate in registers. With numba installed
(``pip install "shendu[fast]"``), the Adam family here does the same: each element is loaded once,
updated and stored. Measured on this project's 2-core machine, one step over the seed MLP's
397,510 parameters: NumPy kernel 350–450 µs, this kernel 137 µs, PyTorch fused 275 µs (one thread;
97 / 175 µs with two). See benchmarks/adam.py.

The compiled loop performs exactly the NumPy kernel's operations, in the same order and precision
(no fast-math, no fused multiply-add), so both give the same numbers bit for bit: which one ran never
changes a result. Without numba, with ``SHENDU_COMPILED=0``, or for dtypes other than float32 and
float64, the NumPy kernel runs.

numba is imported, and the loop compiled (about a second), on the first step that uses it, never at
``import shendu``. Compiled code is not cached on disk: numba's cache files are pickles.
"""

import os
import threading

__all__ = ["adam_kernel", "enabled", "set_enabled"]

_lock = threading.Lock()
_state = {"enabled": os.environ.get("SHENDU_COMPILED", "1").strip() not in ("0", "false", "no", "off"), "kernel": None}
_FLOAT_CHARS = "fd"  # float32, float64


def enabled():
    """Whether the compiled kernels are switched on (they still need numba to run)."""
    return _state["enabled"]


def set_enabled(flag):
    """Switch the compiled kernels on or off (``SHENDU_COMPILED=0`` starts with them off); returns the old setting."""
    previous = _state["enabled"]
    _state["enabled"] = bool(flag)
    return previous


def adam_kernel(dtype):
    """The compiled Adam update for arrays of ``dtype``, or None when it cannot or should not run."""
    if not _state["enabled"] or dtype.char not in _FLOAT_CHARS:
        return None
    kernel = _state["kernel"]
    if kernel is None:
        with _lock:
            kernel = _state["kernel"]
            if kernel is None:
                kernel = _state["kernel"] = _compile()
    return kernel or None


def _compile():
    """Build the numba kernel; False when numba is not installed."""
    try:
        import numba
    except ImportError:
        return False
    import numpy

    @numba.njit(nogil=True, error_model="numpy", boundscheck=False, cache=False)
    def adam_update(p, g, m, v, vmax, decay_m, decay_v, rescale_max, eps_q, k, maximize, weight_decay, shrink, amsgrad):
        # The NumPy kernel (adam.py), element by element, with the moments stored divided by (1 − β):
        #   g ← ±g + λ·w;  m ← d₁·m + g;  v ← d₂·v + g²;  w ← w + k · m / (√v + ε')
        for i in range(p.shape[0]):
            w = p[i]
            if shrink != 1:
                w = w * shrink
            gi = g[i]
            if weight_decay != 0:
                gi = w * weight_decay - gi if maximize else w * weight_decay + gi
            elif maximize:
                gi = -gi
            mi = m[i] * decay_m + gi
            vi = v[i] * decay_v + gi * gi
            m[i] = mi
            v[i] = vi
            if amsgrad:
                top = vmax[i]
                if rescale_max != 1:
                    top = top * rescale_max
                top = numpy.maximum(top, vi)
                vmax[i] = top
                vi = top
            p[i] = w + mi / (numpy.sqrt(vi) + eps_q) * k

    return adam_update
