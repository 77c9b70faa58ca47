"""``shendu.amp``: automatic mixed precision as programs written for PyTorch use it, on a float32 CPU library.

``autocast`` runs its block as written: shendu computes in the tensors' own dtypes (float32 by default), so
there is nothing to cast and results are those of full precision. ``GradScaler`` scales nothing (float32
gradients do not underflow the way float16 ones do): ``scale(loss)`` returns ``loss``, ``step(optimizer)``
steps it, ``update()`` does nothing. A PyTorch training loop with AMP therefore runs unchanged.

Example:
    >>> scaler = shendu.amp.GradScaler()
    >>> with shendu.autocast(device_type="cpu", dtype=shendu.bfloat16):
    ...     loss = criterion(model(x), y)
    >>> scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
"""

import contextlib

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "hpu", "meta")


def is_autocast_available(device_type):
    """True for ``"cpu"``: autocast blocks run there (in full precision)."""
    return device_type == "cpu"


class autocast(contextlib.ContextDecorator):
    """A context (or decorator) that leaves every op in its inputs' dtype: shendu's full-precision arithmetic.

    Args:
        device_type: ``"cpu"`` (``"cuda"`` is accepted as PyTorch programs pass it; shendu runs on the CPU).
        dtype, enabled, cache_enabled: PyTorch's arguments, accepted.
    """

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str) or device_type.split(":")[0] not in _DEVICE_TYPES:
            raise ValueError(f"autocast: expected device_type to be one of {', '.join(_DEVICE_TYPES)}. Received: {device_type!r}")
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class GradScaler:
    """PyTorch's loss scaler with a scale of 1: float32 gradients need none. Its methods keep PyTorch's names."""

    def __init__(self, device="cpu", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):  # fmt: skip
        self._enabled = bool(enabled)

    def scale(self, outputs):
        """``outputs`` unchanged (a scale of 1)."""
        return outputs

    def unscale_(self, optimizer):
        """Nothing to unscale."""

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)``: float32 gradients are never inf from scaling."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Nothing to update."""

    def get_scale(self):
        return 1.0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        return {"scale": 1.0}

    def load_state_dict(self, state_dict):
        """Accepted (a scaler of PyTorch's checkpoint); the scale stays 1."""


