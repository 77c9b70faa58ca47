"""``shendu.compile`` (``torch.compile``): shendu runs eagerly, so compiling returns the model or function as is.

Programs written for PyTorch 2 (``model = torch.compile(model)``) run unchanged; the arguments are
PyTorch's and are checked, not used.
"""

__all__ = ["compile", "is_compiling", "reset"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, disable=False):
    """``model`` itself (or, called without a model, a decorator that returns what it decorates)."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(str(m) for m in _MODES[1:])}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"compile: expected a module or a function; got {type(model).__name__}")
    return model


def is_compiling():
    """False: nothing is ever being compiled."""
    return False


def reset():
    """Nothing is cached."""
