"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from .optimizer import ParamsT
from .._backend import xp
from . import _compiled
from ._flat import _effective_grad, _FlatOptimizer
from .optimizer import _check_non_negative, _check_number, _reject_differentiable

__all__ = ["SGD"]


class SGD(_FlatOptimizer):
    """Stochastic gradient descent: ``w ← w − η·∂E/∂w``, optionally with momentum.

    With no options this is exactly the gradient descent of the seed documents. The full rule
    (torch's, step for step), with ``g = ∂E/∂w`` (negated if ``maximize``)::

        g ← g + λ·w                                  (weight_decay λ)
        b ← g at the first step, else μ·b + (1 − τ)·g (momentum μ, dampening τ)
        g ← g + μ·b if nesterov else b
        w ← w − η·g

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate η. Defaults to 1e-3.
        momentum: momentum factor μ. Defaults to 0.
        dampening: dampening τ of the momentum. Defaults to 0.
        weight_decay: L2 penalty λ. Defaults to 0.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0). Defaults to False.
        maximize: maximise the objective instead of minimising. Defaults to False.
        foreach, fused: accepted for PyTorch compatibility; shendu always updates all parameters
            of a group together.

    Example:
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    _has_step = False
    _all_buffers = ("momentum_buffer",)

    def __init__(
        self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
        foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None,
    ) -> None:  # fmt: skip
        _reject_differentiable(self, differentiable)
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_non_negative(group, "lr", "momentum", "weight_decay")
        _check_number("dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _buffers(self, group):
        return [("momentum_buffer", None)] if group["momentum"] != 0 else []

    def _scalars(self, group, step, scales, ready):
        return (
            float(group["lr"]),
            float(group["momentum"]),
            float(group["dampening"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
            float(group["weight_decay"]),
            not ready.get("momentum_buffer", True),
        )

    def _compiled_update(self, group, scal, dtype):
        kernel = _compiled.sgd_kernel(dtype)
        if kernel is None:
            return None
        lr, momentum, dampening, nesterov, maximize, weight_decay, first = scal

        def update(p, g, bufs):
            kernel(p, g, bufs[0] if bufs else None, lr, momentum, dampening, nesterov, maximize, weight_decay, first)

        return update

    def _kernel(self, group, scal, p, g, bufs, scratch):
        lr, momentum, dampening, nesterov, maximize, weight_decay, first = scal
        tmp, geff = scratch
        g = _effective_grad(g, p, maximize, weight_decay, geff)
        direction = g
        if momentum != 0:
            buf = bufs[0]
            if first:
                xp.copyto(buf, g)
            else:
                xp.multiply(buf, momentum, out=buf)
                if dampening != 0:
                    xp.multiply(g, 1 - dampening, out=tmp)
                    xp.add(buf, tmp, out=buf)
                else:
                    xp.add(buf, g, out=buf)
            if nesterov:
                xp.multiply(buf, momentum, out=tmp)
                xp.add(tmp, g, out=tmp)
                direction = tmp
            else:
                direction = buf
        xp.multiply(direction, -lr, out=tmp)
        xp.add(p, tmp, out=p)
