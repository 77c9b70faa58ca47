"""One random generator for the whole library: ``shendu.manual_seed(n)`` makes runs repeatable."""

from ._backend import xp

_generator = xp.random.default_rng()
_initial_seed = None


def manual_seed(seed):
    """Seed shendu's global generator (``numpy.random.Generator``); returns it."""
    global _generator, _initial_seed
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int; got {type(seed).__name__}")
    _initial_seed = seed
    _generator = xp.random.default_rng(seed)
    return _generator


seed = manual_seed


def default_generator():
    """Return the global ``numpy.random.Generator`` used by every random op."""
    return _generator


def initial_seed():
    """Return the seed last given to ``manual_seed`` (None if never seeded)."""
    return _initial_seed


def get_rng_state():
    """Return the generator's state as plain data (JSON-serialisable)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by ``get_rng_state``."""
    _generator.bit_generator.state = state


def resolve_generator(generator=None):
    """Return ``generator`` if given (a ``numpy.random.Generator`` or an int seed), else the global one."""
    if generator is None:
        return _generator
    if isinstance(generator, int):
        return xp.random.default_rng(generator)
    if hasattr(generator, "generator"):  # shendu.Generator wrapper
        return generator.generator
    return generator


class Generator:
    """A PyTorch-style generator object wrapping ``numpy.random.Generator``.

    Example:
        >>> g = Generator().manual_seed(0)
    """

    def __init__(self, device="cpu"):
        self.generator = xp.random.default_rng()

    def manual_seed(self, seed):
        self.generator = xp.random.default_rng(seed)
        return self

    def get_state(self):
        return self.generator.bit_generator.state

    def set_state(self, state):
        self.generator.bit_generator.state = state
