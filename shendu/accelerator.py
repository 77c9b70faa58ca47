"""``shendu.accelerator``: answers like ``torch.accelerator`` on a machine without one (shendu runs on the CPU).

PyTorch's tutorials pick their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``.
"""

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]


def is_available():
    """False: shendu computes with NumPy on the CPU."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator."""
    return None


def device_count():
    return 0


def current_device_index():
    return -1


def synchronize(device=None):
    """Nothing to wait for on the CPU."""
