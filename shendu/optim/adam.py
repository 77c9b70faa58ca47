"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

import math

from .optimizer import ParamsT
from .._backend import xp
from . import _compiled
from ._flat import _effective_grad, _FlatOptimizer
from .optimizer import _check_non_negative, _check_number, _reject_differentiable

__all__ = ["Adam", "AdamW"]


class Adam(_FlatOptimizer):
    """Adam (Kingma & Ba, 2014), step for step as ``torch.optim.Adam``.

    With ``g = ∂E/∂w`` (negated if ``maximize``) at step t::

        g ← g + λ·w                 (weight_decay λ; AdamW instead does w ← w·(1 − η·λ))
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²      (amsgrad: v̂ ← max(v̂, v), used in place of v below)
        w ← w − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate η. Defaults to 1e-3.
        betas: (β₁, β₂), the decay rates of the two moment averages. Defaults to (0.9, 0.999).
        eps: ε added to the denominator. Defaults to 1e-8.
        weight_decay: λ. Defaults to 0.
        amsgrad: use the maximum of the past second moments (AMSGrad). Defaults to False.
        maximize: maximise the objective. Defaults to False.
        decoupled_weight_decay: apply λ to the weights directly (AdamW). Defaults to False.
        foreach, fused: accepted for PyTorch compatibility; shendu always runs one fused update over each
            group: a one-pass C kernel where it was built, else NumPy's (see ``_compiled.py``, ``_flat.py``).

    Example:
        >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    _all_buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _n_scratch = 2

    def __init__(
        self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
        maximize: bool = False, capturable: bool = False, differentiable: bool = False, fused: bool | None = None, decoupled_weight_decay: bool = False,
    ) -> None:  # fmt: skip
        _reject_differentiable(self, differentiable)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
            "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_non_negative(group, "lr", "eps")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
        group["betas"] = tuple(float(b) for b in betas)
        for i, beta in enumerate(group["betas"]):
            message = f"Invalid beta parameter at index {i}: {beta}"
            _check_number(f"betas[{i}]", beta, low=0.0, high=1.0, high_open=True, message=message)
        _check_non_negative(group, "weight_decay")

    def _buffers(self, group):
        specs = [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
        if group["amsgrad"]:
            specs.append(("max_exp_avg_sq", 0.0))
        return specs

    # NOTE: the moments are stored divided by (1 − β): m = (1 − β₁)·M and v = (1 − β₂)·V, so that
    # M ← β₁·M + g and V ← β₂·V + g² need no multiplication of g — two passes over memory fewer
    # per step. state_dict() and .state give the true m and v; a change of β rescales on the way.
    def _new_scale(self, group, name):
        beta1, beta2 = group["betas"]
        return 1.0 - beta1 if name == "exp_avg" else 1.0 - beta2

    def _scalars(self, group, step, scales, ready):
        beta1, beta2 = group["betas"]
        lr, eps = float(group["lr"]), float(group["eps"])
        s1, s2 = 1.0 - beta1, 1.0 - beta2
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        # √v / √(1 − β₂ᵗ) = √V · q, so the update is  −step_size·s1/q · M / (√V + ε/q)
        q = math.sqrt(s2) / bias_correction2**0.5
        decay_m = beta1 * scales["exp_avg"] / s1
        decay_v = beta2 * scales["exp_avg_sq"] / s2
        rescale_max = scales["max_exp_avg_sq"] / s2 if group["amsgrad"] else 1.0
        weight_decay = float(group["weight_decay"])
        decoupled = bool(group["decoupled_weight_decay"])
        return (
            decay_m, decay_v, rescale_max, eps / q, -step_size * s1 / q, bool(group["amsgrad"]), bool(group["maximize"]),
            0.0 if decoupled else weight_decay, 1 - lr * weight_decay if decoupled and weight_decay else 1.0,
        )  # fmt: skip

    def _kernel(self, group, scal, p, g, bufs, scratch):
        decay_m, decay_v, rescale_max, eps_q, k, amsgrad, maximize, weight_decay, shrink = scal
        tmp, geff = scratch
        if shrink != 1.0:
            xp.multiply(p, shrink, out=p)
        g = _effective_grad(g, p, maximize, weight_decay, geff)
        m, v = bufs[0], bufs[1]
        xp.multiply(m, decay_m, out=m)
        xp.add(m, g, out=m)
        xp.multiply(g, g, out=tmp)
        xp.multiply(v, decay_v, out=v)
        xp.add(v, tmp, out=v)
        if amsgrad:
            vmax = bufs[2]
            if rescale_max != 1.0:
                xp.multiply(vmax, rescale_max, out=vmax)
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        xp.sqrt(v, out=tmp)
        xp.add(tmp, eps_q, out=tmp)
        xp.divide(m, tmp, out=tmp)
        xp.multiply(tmp, k, out=tmp)
        xp.add(p, tmp, out=p)

    def _compiled_update(self, group, scal, dtype):
        kernel = _compiled.adam_kernel(dtype)
        if kernel is None:
            return None
        decay_m, decay_v, rescale_max, eps_q, k, amsgrad, maximize, weight_decay, shrink = scal
        # (the C kernel rounds the scalars to the arrays' precision, as NumPy does with Python floats)
        scalars = (decay_m, decay_v, rescale_max, eps_q, k, maximize, weight_decay, shrink, amsgrad)
        top = 2 if amsgrad else 1

        def update(p, g, bufs):
            kernel(p, g, bufs[0], bufs[1], bufs[top], *scalars)

        return update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w ← w·(1 − η·λ)`` before the Adam step.

    Args: as :class:`Adam`, except weight_decay λ defaults to 1e-2 and is always decoupled.

    Example:
        >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(
        self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
        foreach: bool | None = None, capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
    ) -> None:  # fmt: skip
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            differentiable=differentiable, decoupled_weight_decay=True,
        )  # fmt: skip
