"""The switch for shendu's optional C kernels (``shendu/optim/_fused.c``, ``shendu/ops/_lstm_cell.c``).

pip builds them when it installs shendu and a C compiler is there (``setup.py``); each has a NumPy
fallback that runs when it was not built, when it is switched off, or for dtypes it does not handle.
``SHENDU_COMPILED=0`` starts with them off; :func:`set_enabled` switches them at run time.
"""

import os

__all__ = ["enabled", "set_enabled"]

_state = {"enabled": os.environ.get("SHENDU_COMPILED", "1").strip().lower() not in ("0", "false", "no", "off")}


def enabled():
    """Whether the compiled kernels are switched on (each still needs to have been built)."""
    return _state["enabled"]


def set_enabled(flag):
    """Switch the compiled kernels on or off; returns the previous setting."""
    previous = _state["enabled"]
    _state["enabled"] = bool(flag)
    return previous
