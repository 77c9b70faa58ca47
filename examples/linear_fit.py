"""Fitting y = 2x + 1 with one neuron and stochastic gradient descent (seed 003).

The neuron is y = w·x + b (a ``Linear(1, 1)`` with no activation), w and b start at 0.5 and
0.6, the loss of one pair is L = (y - t)²/2 (so ∂L/∂y = y - t), and every pair updates the
parameters with learning rate 0.01: w ← w - 0.01·(y - t)·x, b ← b - 0.01·(y - t).

- after the pair (0, 1): y = 0.6, ∂L/∂w = 0, ∂L/∂b = -0.4, so w = 0.5 and b = 0.604;
- after the pair (1, 2.9) (3 with a little noise): w = 0.51796, b = 0.62196;
- then a few passes over 50 noisy pairs t = 2x + 1 + ε bring (w, b) close to (2, 1), next to
  the least-squares line of the same pairs.

Run: ``python -m examples.linear_fit [--pairs N] [--passes N]``.
"""

import argparse
import sys

import numpy as np

import shendu
import shendu.nn as nn
import shendu.optim as optim

FIRST_PAIRS = [(0.0, 1.0), (1.0, 2.9)]


def half_squared_error(y, t):
    """L = (y - t)² / 2."""
    return ((y - t) ** 2).sum() / 2


def build_neuron():
    """One neuron y = w·x + b with w = 0.5, b = 0.6, in float64."""
    neuron = nn.Linear(1, 1, dtype=shendu.float64)
    with shendu.no_grad():
        neuron.weight.fill_(0.5)
        neuron.bias.fill_(0.6)
    return neuron


def sgd_step(neuron, optimizer, x, t):
    """One update on one pair (x, t); returns the loss before the update."""
    y = neuron(shendu.tensor([[x]], dtype=shendu.float64))
    loss = half_squared_error(y, shendu.tensor([[t]], dtype=shendu.float64))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def noisy_pairs(n=50, noise=0.1, seed=0):
    """``n`` pairs (x, 2x + 1 + ε), x uniform in [-3, 3], ε ~ N(0, noise²)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    return x, 2.0 * x + 1.0 + rng.normal(0.0, noise, n)


def parameters_of(neuron):
    return neuron.weight.item(), neuron.bias.item()


def run(pairs=50, passes=20, seed=0):
    """The two exact updates, then ``passes`` passes over ``pairs`` noisy pairs.

    Returns a dict: ``steps`` (w, b after each of the first two pairs), ``w``, ``b`` (at the end),
    ``least_squares`` (w, b of the least-squares line through the noisy pairs) and ``losses``
    (mean loss of each pass).
    """
    neuron = build_neuron()
    optimizer = optim.SGD(neuron.parameters(), lr=0.01)
    steps = []
    for x, t in FIRST_PAIRS:
        sgd_step(neuron, optimizer, x, t)
        steps.append(parameters_of(neuron))
    xs, ts = noisy_pairs(pairs, seed=seed)
    losses = []
    for _ in range(passes):
        losses.append(float(np.mean([sgd_step(neuron, optimizer, x, t) for x, t in zip(xs, ts)])))
    design = np.stack([xs, np.ones_like(xs)], axis=1)
    (w_ls, b_ls), *_ = np.linalg.lstsq(design, ts, rcond=None)
    w, b = parameters_of(neuron)
    return {"steps": steps, "w": w, "b": b, "least_squares": (float(w_ls), float(b_ls)), "losses": losses}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50, help="noisy pairs after the first two (default 50)")
    parser.add_argument("--passes", type=int, default=20, help="passes over the noisy pairs (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="5 passes")
    args = parser.parse_args(argv)
    result = run(args.pairs, 5 if args.fast else args.passes, args.seed)
    for (x, t), (w, b) in zip(FIRST_PAIRS, result["steps"]):
        print(f"after the pair ({x:g}, {t:g}): w = {w:.5f}, b = {b:.5f}")
    for i, loss in enumerate(result["losses"]):
        print(f"pass {i + 1:2d} over {args.pairs} noisy pairs: mean loss {loss:.5f}")
    print(f"SGD: w = {result['w']:.4f}, b = {result['b']:.4f} (the truth: 2, 1)")
    print("least squares on the same pairs: w = {:.4f}, b = {:.4f}".format(*result["least_squares"]))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
