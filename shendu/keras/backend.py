"""Session-wide conventions of the Keras dialect: unique layer names, image layout, ``clear_session``.

Keras names every layer and model after its class (``dense``, ``dense_1``, ...), counting per name
for the whole session; :func:`clear_session` starts the counts again.
"""

import re
from collections import defaultdict

__all__ = ["clear_session", "unique_name", "image_data_format", "epsilon", "floatx", "snake_case"]

_counts: defaultdict[str, int] = defaultdict(int)


def snake_case(class_name):
    """``Conv2D`` → ``conv2d``, ``MaxPooling2D`` → ``max_pooling2d``, ``SimpleRNN`` → ``simple_rnn``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``, ... (per session)."""
    count = _counts[base]
    _counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session():
    """Forget the layer-name counts (new layers are named ``dense``, ``dense_1``, ... again)."""
    _counts.clear()


def image_data_format():
    """The default image layout: ``"channels_last"`` (N, H, W, C), as Keras."""
    return "channels_last"


def epsilon():
    """The fuzz factor Keras uses to clip probabilities: 1e-7."""
    return 1e-7


def floatx():
    """The default float type: ``"float32"``."""
    return "float32"
