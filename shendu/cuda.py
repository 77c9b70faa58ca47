"""``shendu.cuda``: shendu runs on the CPU; this module answers like ``torch.cuda`` on a machine without a GPU."""


def is_available():
    """Whether a GPU backend is available (False: NumPy runs on the CPU)."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeding the (absent) GPU generator is a no-op, as in PyTorch on a CPU machine."""


manual_seed_all = manual_seed
