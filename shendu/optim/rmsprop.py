"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from .optimizer import ParamsT
from .._backend import xp
from ._flat import _effective_grad, _FlatOptimizer
from .optimizer import _check_non_negative, _reject_differentiable

__all__ = ["RMSprop"]


class RMSprop(_FlatOptimizer):
    """RMSprop (Hinton), step for step as ``torch.optim.RMSprop``.

    With ``g = ∂E/∂w`` (negated if ``maximize``)::

        g ← g + λ·w                               (weight_decay λ)
        s ← α·s + (1 − α)·g²
        d ← √(s − ḡ²) + ε  with ḡ ← α·ḡ + (1 − α)·g  if centered, else  √s + ε
        b ← μ·b + g/d;  w ← w − η·b               if momentum μ > 0, else  w ← w − η·g/d

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate η. Defaults to 1e-2.
        alpha: smoothing constant α. Defaults to 0.99.
        eps: ε added to the denominator. Defaults to 1e-8.
        weight_decay: λ. Defaults to 0.
        momentum: μ. Defaults to 0.
        centered: normalise by an estimate of the variance of the gradient. Defaults to False.
        maximize: maximise the objective. Defaults to False.
        foreach: accepted for PyTorch compatibility.

    Example:
        >>> opt = RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    _all_buffers = ("square_avg", "grad_avg", "momentum_buffer")
    _n_scratch = 2

    def __init__(
        self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
        foreach: bool | None = None, maximize: bool = False, differentiable: bool = False,
    ) -> None:  # fmt: skip
        _reject_differentiable(self, differentiable)
        defaults = {
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
            "centered": centered, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_non_negative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _buffers(self, group):
        specs = [("square_avg", 0.0)]
        if group["centered"]:
            specs.append(("grad_avg", 0.0))
        if group["momentum"] > 0:
            specs.append(("momentum_buffer", 0.0))
        return specs

    def _scalars(self, group, step, scales, ready):
        return (
            float(group["lr"]), float(group["alpha"]), float(group["eps"]), float(group["weight_decay"]),
            float(group["momentum"]), bool(group["centered"]), bool(group["maximize"]),
        )  # fmt: skip

    def _kernel(self, group, scal, p, g, bufs, scratch):
        lr, alpha, eps, weight_decay, momentum, centered, maximize = scal
        tmp, geff = scratch
        g = _effective_grad(g, p, maximize, weight_decay, geff)
        square_avg = bufs[0]
        xp.multiply(square_avg, alpha, out=square_avg)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1 - alpha, out=tmp)
        xp.add(square_avg, tmp, out=square_avg)
        if centered:
            grad_avg = bufs[1]
            xp.subtract(g, grad_avg, out=tmp)  # lerp: ḡ + (1 − α)(g − ḡ)
            xp.multiply(tmp, 1 - alpha, out=tmp)
            xp.add(grad_avg, tmp, out=grad_avg)
            xp.multiply(grad_avg, grad_avg, out=tmp)
            xp.subtract(square_avg, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(square_avg, out=tmp)
        xp.add(tmp, eps, out=tmp)
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            buf = bufs[-1]
            xp.multiply(buf, momentum, out=buf)
            xp.add(buf, tmp, out=buf)
            xp.multiply(buf, -lr, out=tmp)
        else:
            xp.multiply(tmp, -lr, out=tmp)
        xp.add(p, tmp, out=p)
