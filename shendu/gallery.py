"""The activation gallery: every activation of the tutorials with its derivative, plotted.

Each curve comes from shendu itself: the activation layer's forward gives f(x), and one
``backward()`` through it gives f'(x) at every point (the activations are elementwise, so the
gradient of ``f(x).sum()`` is f'(x)). Softmax couples its inputs; its panel shows the first
output of ``softmax([x, 0])`` (which is σ(x)) and its derivative along x.

Example:
    >>> from shendu.gallery import activation_curves, activation_gallery
    >>> curves = activation_curves()
    >>> x, y, dy = curves["Sigmoid"]              # dy equals y·(1 - y)
    >>> activation_gallery("activations.png")    # one panel per activation (needs shendu[plot])

Also ``python -m shendu.gallery activations.png``.
"""

import sys

import numpy as np

__all__ = ["ACTIVATIONS", "activation_curves", "activation_gallery"]


def _softmax_first(x):
    from . import stack, zeros_like
    from .nn import functional as F

    return F.softmax(stack([x, zeros_like(x)], dim=1), dim=1)[:, 0]


def _activations():
    from . import nn

    return {
        "Sigmoid": (nn.Sigmoid(), "σ(x) = 1/(1+e⁻ˣ);  σ' = σ(1-σ)"),
        "Tanh": (nn.Tanh(), "tanh x = 2σ(2x) - 1;  1 - tanh²x"),
        "ReLU": (nn.ReLU(), "max(0, x);  0 or 1"),
        "LeakyReLU": (nn.LeakyReLU(0.1), "x or αx (α = 0.1)"),
        "PReLU": (nn.PReLU(init=0.25), "x or ax, a learnable (a = 0.25)"),
        "ELU": (nn.ELU(), "x or α(eˣ - 1) (α = 1)"),
        "Softplus": (nn.Softplus(), "ln(1 + eˣ);  derivative σ(x)"),
        "Swish": (nn.Swish(beta=1.0), "x·σ(βx) (β = 1; β = 0 gives x/2)"),
        "GELU": (nn.GELU(), "x·Φ(x)"),
        "Softmax": (_softmax_first, "softmax([x, 0])₀ = σ(x), along x"),
    }


ACTIVATIONS = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softplus", "Swish", "GELU", "Softmax")


def activation_curves(names=ACTIVATIONS, x_range=(-5.0, 5.0), points=401):
    """``{name: (x, f(x), f'(x))}`` as NumPy arrays, computed by shendu's forward and backward.

    Args:
        names: which activations. Defaults to all of :data:`ACTIVATIONS`.
        x_range: the interval plotted. Defaults to (-5, 5).
        points: samples along it. Defaults to 401.
    """
    from . import linspace

    table = _activations()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown activations {unknown}; expected some of {list(ACTIVATIONS)}")
    curves = {}
    for name in names:
        function, _ = table[name]
        x = linspace(x_range[0], x_range[1], points, requires_grad=True)
        y = function(x)
        y.sum().backward()  # elementwise: ∂(Σ f(xᵢ))/∂xⱼ = f'(xⱼ)
        curves[name] = (x.detach().numpy().copy(), y.detach().numpy().copy(), x.grad.numpy().copy())
    return curves


def activation_gallery(path="activations.png", names=ACTIVATIONS, x_range=(-5.0, 5.0), points=401, dpi=100):
    """Plot every activation (solid) with its derivative (dashed) into one PNG; returns the curves.

    Args:
        path: the PNG to write.
        names, x_range, points: as :func:`activation_curves`.
        dpi: resolution. Defaults to 100.

    Raises:
        ImportError: matplotlib is missing (``pip install 'shendu[plot]'``).
    """
    try:
        from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone
    except ImportError:
        raise ImportError("the activation gallery draws with matplotlib: pip install 'shendu[plot]'") from None
    curves = activation_curves(names, x_range, points)
    formulas = {name: formula for name, (_, formula) in _activations().items()}
    columns = min(5, len(curves))
    rows = int(np.ceil(len(curves) / columns))
    fig = Figure(figsize=(3.2 * columns, 2.9 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel()[len(curves) :]:
        ax.axis("off")
    for ax, (name, (x, y, dy)) in zip(axes.ravel(), curves.items()):
        ax.axhline(0, color="#bbb", linewidth=0.8)
        ax.axvline(0, color="#bbb", linewidth=0.8)
        ax.plot(x, y, label="f(x)", linewidth=2)
        ax.plot(x, dy, "--", label="f'(x) (backward)", linewidth=1.5)
        ax.set_title(name, fontsize=11)
        ax.text(0.02, 0.97, formulas[name], transform=ax.transAxes, fontsize=7, va="top")
        ax.set_ylim(min(-1.5, float(np.min(dy)) - 0.2), max(2.0, min(float(np.max(y)), 5.0) + 0.2))
    axes.ravel()[0].legend(loc="lower right", fontsize=7)
    fig.suptitle("Activations and their derivatives, from shendu's forward and backward", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return curves


if __name__ == "__main__":
    activation_gallery(sys.argv[1] if len(sys.argv) > 1 else "activations.png")
