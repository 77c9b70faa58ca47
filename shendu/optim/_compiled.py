"""Optional compiled update kernels: an Adam step in one pass over memory, where NumPy makes ten.

NumPy runs an update rule as a chain of whole-array ufunc calls, each a pass over memory; PyTorch's
``Adam(fused=True)`` makes one pass, keeping every intermediate in registers. shendu's Adam and AdamW
do the same through ``shendu.optim._fused``, a small C extension (``_fused.c``) that pip builds when
it installs shendu and a C compiler is there. Without it (no compiler), with ``SHENDU_COMPILED=0``,
or for dtypes other than float32 and float64, the NumPy kernel runs: the extension is an
accelerator, never a requirement.

The C loop performs exactly the NumPy kernel's operations, in the same order and precision (no
fast-math, no fused multiply-add), so both give the same numbers bit for bit: which one ran never
changes a result. SGD has one too (float32), which mostly saves NumPy's per-call cost on the
small parameters of small models. Measured on this project's 2-core machine (``python -m benchmarks.adam``) and
recorded in BENCHMARKS.md.
"""

from .._compiled import enabled, set_enabled

__all__ = ["adam_kernel", "sgd_kernel", "available", "enabled", "set_enabled"]

try:
    from . import _fused  # type: ignore[attr-defined]
except ImportError:  # not built: no C compiler at install time
    _fused = None  # type: ignore[assignment]

_FLOAT_CHARS = "fd"  # float32, float64


def available():
    """Whether the compiled kernel was built (it runs unless switched off: see shendu/_compiled.py)."""
    return _fused is not None


def adam_kernel(dtype):
    """``adam_update(p, g, m, v, vmax, *scalars)`` for arrays of ``dtype`` (see _fused.c), or None."""
    if _fused is None or not enabled() or dtype.char not in _FLOAT_CHARS:
        return None
    return _fused.adam_update


def sgd_kernel(dtype):
    """``sgd_update(p, g, buf, *scalars)`` for float32 arrays (see _fused.c), or None."""
    if _fused is None or not enabled() or dtype.char != "f":
        return None
    return _fused.sgd_update
