"""shendu.keras.ops — Keras 3's backend-neutral ops (``keras.ops``) over shendu tensors and autograd.

``from keras import ops`` becomes ``from shendu.keras import ops``; ``ops.numpy``, ``ops.nn``,
``ops.linalg`` and ``ops.math`` hold the families, and all their ops are also here at the top, as in Keras.
"""

from . import core, linalg, math, nn, numpy
from .core import *  # noqa: F403
from .linalg import det, inv, norm, solve
from .math import erf, in_top_k, logsumexp, segment_sum, top_k
from .nn import (
    binary_crossentropy, categorical_crossentropy, elu, gelu, hard_sigmoid, hard_silu, hard_swish, leaky_relu,
    log_sigmoid, log_softmax, moments, multi_hot, normalize, one_hot, relu, relu6, selu, sigmoid, silu, softmax,
    softplus, softsign, sparse_categorical_crossentropy, swish,
)  # fmt: skip
from .numpy import *  # noqa: F403
from .numpy import abs, all, any, max, min, round, sum  # noqa: A004 - Keras's names
