"""The switch for shendu's optional C kernels (``shendu/optim/_fused.c``, ``shendu/ops/_lstm_cell.c``,
``shendu/ops/_conv.c``, ``shendu/ops/_batch_norm.c``, ``shendu/ops/_activation.c``).

pip builds them when it installs shendu and a C compiler is there (``setup.py``); each has a NumPy
fallback that runs when it was not built, when it is switched off, or for dtypes it does not handle.
``SHENDU_COMPILED=0`` starts with them off; :func:`set_enabled` switches them at run time.
"""

import os

__all__ = ["enabled", "set_enabled", "built", "active"]

#: The optional C kernels, by module name.
KERNELS = ("shendu.optim._fused", "shendu.ops._lstm_cell", "shendu.ops._conv", "shendu.ops._batch_norm",
           "shendu.ops._activation")

_state = {"enabled": os.environ.get("SHENDU_COMPILED", "1").strip().lower() not in ("0", "false", "no", "off")}


def enabled():
    """Whether the compiled kernels are switched on (each still needs to have been built: see :func:`active`)."""
    return _state["enabled"]


def built():
    """``{kernel module: whether it was built and imports}``."""
    import importlib

    status = {}
    for name in KERNELS:
        try:
            importlib.import_module(name)
            status[name] = True
        except ImportError:
            status[name] = False
    return status


def active():
    """``{kernel module: whether it runs}``: built and switched on."""
    return {name: ok and enabled() for name, ok in built().items()}


def set_enabled(flag):
    """Switch the compiled kernels on or off; returns the previous setting."""
    previous = _state["enabled"]
    _state["enabled"] = bool(flag)
    return previous
