"""Adagrad: per-coordinate learning rates from the sum of past squared gradients."""

from .optimizer import ParamsT
from .._backend import xp
from ._flat import _effective_grad, _FlatOptimizer
from .optimizer import _check_non_negative, _reject_differentiable

__all__ = ["Adagrad"]


class Adagrad(_FlatOptimizer):
    """Adagrad (Duchi et al., 2011), step for step as ``torch.optim.Adagrad``.

    With ``g = ∂E/∂w`` (negated if ``maximize``) at step t::

        g ← g + λ·w                     (weight_decay λ)
        η_t = η / (1 + (t − 1)·lr_decay)
        s ← s + g²
        w ← w − η_t · g / (√s + ε)

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate η. Defaults to 1e-2.
        lr_decay: learning-rate decay. Defaults to 0.
        weight_decay: λ. Defaults to 0.
        initial_accumulator_value: the starting value of s. Defaults to 0.
        eps: ε added to the denominator. Defaults to 1e-10.
        maximize: maximise the objective. Defaults to False.
        foreach, fused: accepted for PyTorch compatibility.

    Example:
        >>> opt = Adagrad(model.parameters(), lr=0.1)
    """

    _all_buffers = ("sum",)
    _n_scratch = 2
    _eager_state = True  # torch creates step 0 and the accumulator when the optimiser is built

    def __init__(
        self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
        maximize: bool = False, differentiable: bool = False, fused: bool | None = None,
    ) -> None:  # fmt: skip
        _reject_differentiable(self, differentiable)
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_non_negative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _buffers(self, group):
        return [("sum", float(group["initial_accumulator_value"]))]

    def _scalars(self, group, step, scales, ready):
        clr = float(group["lr"]) / (1 + (step - 1) * float(group["lr_decay"]))
        return clr, float(group["eps"]), float(group["weight_decay"]), bool(group["maximize"])

    def _kernel(self, group, scal, p, g, bufs, scratch):
        clr, eps, weight_decay, maximize = scal
        tmp, geff = scratch
        g = _effective_grad(g, p, maximize, weight_decay, geff)
        total = bufs[0]
        xp.multiply(g, g, out=tmp)
        xp.add(total, tmp, out=total)
        xp.sqrt(total, out=tmp)
        xp.add(tmp, eps, out=tmp)
        xp.divide(g, tmp, out=tmp)
        xp.multiply(tmp, -clr, out=tmp)
        xp.add(p, tmp, out=p)
