"""Dropout layers: Dropout (elements), Dropout1d/2d/3d (whole channels), AlphaDropout and FeatureAlphaDropout
(for SELU networks). Active only in training mode."""

from collections.abc import Callable

from ..ops.dropout import alpha_dropout, check_probability, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from .module import Module
from ..tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _function: Callable[..., Tensor] = staticmethod(dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_probability(p, type(self).__name__)
        self.p = p
        self.inplace = bool(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability ``p`` during training, scaling the rest by 1/(1-p).

    A regulariser against over-fitting: each step trains a random thinned network. In eval
    mode (``model.eval()``) it is the identity. Uses shendu's global generator, so
    ``shendu.manual_seed`` makes the masks repeatable.

    Args:
        p: probability of an element being zeroed, in [0, 1]. Defaults to 0.5.
        inplace: accepted for PyTorch compatibility; the output is always a new tensor.

    Shape:
        any → same.

    Example:
        >>> drop = Dropout(p=0.2)
        >>> y = drop(x)          # training: about 20 % zeros, the rest × 1.25
        >>> drop.eval(); drop(x) is x
        True
    """


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (training only)."""

    _function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels (feature maps) of (N, C, H, W) inputs with probability ``p`` (training only).

    Neighbouring pixels are strongly correlated, so dropping single pixels barely regularises a
    convolutional layer; dropping whole feature maps does.
    """

    _function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p`` (training only)."""

    _function = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout for self-normalising (SELU) networks: dropped units are set to SELU's saturation value −λα and
    an affine map keeps zero mean and unit variance (training only)."""

    _function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout of whole channels (training only)."""

    _function = staticmethod(feature_alpha_dropout)
