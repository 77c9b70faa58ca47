"""``shendu.jit``: TorchScript's entry points, answered by an eager library.

``script`` and ``trace`` return the module or function they are given, so programs that script or trace
a model for speed keep running (eagerly). Saving a scripted model needs TorchScript's format: save its
``state_dict()`` with :func:`shendu.save` instead (``jit.save`` says so).
"""

__all__ = ["script", "trace", "save", "load", "ignore", "unused", "export", "is_scripting", "is_tracing"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself: shendu runs modules and functions eagerly."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself (no graph is recorded ahead of time)."""
    return func


def ignore(drop=False, **kwargs):
    """A decorator that changes nothing (TorchScript is not used)."""
    return drop if callable(drop) else (lambda fn: fn)


unused = export = ignore


def is_scripting():
    return False


def is_tracing():
    return False


def save(m, f, _extra_files=None):
    """TorchScript archives hold compiled code, which shendu neither writes nor runs."""
    raise RuntimeError("shendu.jit.save: TorchScript archives are not supported; save the model's weights with "
                              "shendu.save(model.state_dict(), path) and rebuild the model from its class")  # fmt: skip


def load(f, map_location=None, _extra_files=None):
    """TorchScript archives hold compiled code, which shendu never runs."""
    raise RuntimeError("shendu.jit.load: TorchScript archives hold code, which shendu does not run; load a "
                              "state_dict saved with torch.save(model.state_dict(), path) through shendu.load")  # fmt: skip
