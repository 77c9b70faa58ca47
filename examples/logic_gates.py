"""The single neuron as a logic gate (seed 003), and XOR learned by a 2-5-1 network (seed 001).

A threshold neuron outputs y = 1 when w1·x1 + w2·x2 ≥ θ, else 0.

- w = (0.5, 0.5), θ = 0.7 computes AND; w = (0.5, 0.5), θ = 0.3 computes OR.
- No (w1, w2, θ) computes XOR. The four rows ask for 0 < θ (from (0,0) → 0), w1 ≥ θ and
  w2 ≥ θ (from (1,0) → 1 and (0,1) → 1), and w1 + w2 < θ (from (1,1) → 0); adding the middle
  two gives w1 + w2 ≥ 2θ > θ, a contradiction. The example also checks it by brute force (a
  grid of 68,921 neurons: many compute AND or OR, none computes XOR) and by training: the
  perceptron rule, which finds AND and OR in a few passes, never gets all four XOR rows right.
- A 2-5-1 sigmoid network (seed 001's second example: loss ½Σ(t-o)², one random row per
  update, learning rate 0.5) learns XOR.

Run: ``python -m examples.logic_gates [--updates N]``.
"""

import argparse
import sys

import numpy as np

import shendu
import shendu.nn as nn
import shendu.optim as optim

INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
TRUTH_TABLES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def threshold_neuron(x, w, theta):
    """y = 1 where x·w ≥ θ, else 0 (``x`` of shape (n, 2), ``w`` of shape (2,) or (m, 2), θ scalar or (m,))."""
    w = shendu.as_tensor(w, dtype=shendu.float64)
    theta = shendu.as_tensor(theta, dtype=shendu.float64)
    net = x @ (w.T if w.ndim == 2 else w)
    if net.ndim == 2:
        theta = theta.reshape(1, -1)
    return (net >= theta).to(shendu.int64)


def truth_table(w, theta):
    """The outputs of the threshold neuron on the four input rows, as a list of ints."""
    return threshold_neuron(shendu.tensor(INPUTS, dtype=shendu.float64), w, theta).tolist()


def grid_search_gates(steps=41, limit=2.0):
    """Count the neurons of a grid (w1, w2, θ ∈ linspace(-limit, limit, steps)) computing each gate."""
    values = np.linspace(-limit, limit, steps)
    w1, w2, theta = (shendu.tensor(g.reshape(-1)) for g in np.meshgrid(values, values, values, indexing="ij"))
    outputs = threshold_neuron(shendu.tensor(INPUTS, dtype=shendu.float64), shendu.stack([w1, w2], dim=1), theta)
    counts = {}
    for gate, table in TRUTH_TABLES.items():
        matches = (outputs == shendu.tensor(table).reshape(4, 1)).all(dim=0)
        counts[gate] = int(matches.sum().item())
    return counts, int(w1.shape[0])


def perceptron(gate, passes=100):
    """Train a threshold neuron with the perceptron rule; return (rows right per pass, w, θ)."""
    x = shendu.tensor(INPUTS, dtype=shendu.float64)
    t = shendu.tensor(TRUTH_TABLES[gate], dtype=shendu.float64)
    w, theta = shendu.zeros(2, dtype=shendu.float64), shendu.tensor(0.0, dtype=shendu.float64)
    history = []
    for _ in range(passes):
        for i in range(4):
            y = (x[i] @ w >= theta).to(shendu.float64)
            w = w + (t[i] - y) * x[i]
            theta = theta - (t[i] - y)
        history.append(int((threshold_neuron(x, w, theta).to(shendu.float64) == t).sum().item()))
        if history[-1] == 4 and gate != "XOR":
            break
    return history, w.tolist(), theta.item()


def train_xor_mlp(updates=10_000, hidden=5, lr=0.5, seed=0):
    """The 2-5-1 sigmoid network of seed 001 trained on XOR, one random row per update.

    Returns ``(model, outputs)``: the trained network and its four outputs.
    """
    shendu.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(2, hidden, dtype=shendu.float64), nn.Sigmoid(), nn.Linear(hidden, 1, dtype=shendu.float64), nn.Sigmoid()
    )
    x = shendu.tensor(INPUTS, dtype=shendu.float64)
    t = shendu.tensor(TRUTH_TABLES["XOR"], dtype=shendu.float64).reshape(4, 1)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    rows = shendu.randint(0, 4, (updates,)).tolist()
    for i in rows:
        loss = 0.5 * ((t[i : i + 1] - model(x[i : i + 1])) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with shendu.no_grad():
        outputs = model(x).reshape(-1).tolist()
    return model, outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000, help="updates of the 2-5-1 network (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="a coarser grid (same proof, fewer neurons)")
    args = parser.parse_args(argv)
    result = {}
    for gate, (w, theta) in {"AND": ((0.5, 0.5), 0.7), "OR": ((0.5, 0.5), 0.3)}.items():
        result[gate] = truth_table(w, theta)
        print(f"{gate}: w = {w}, θ = {theta}: outputs {result[gate]} (truth table {TRUTH_TABLES[gate]})")
    counts, total = grid_search_gates(steps=21 if args.fast else 41)
    result["grid"] = counts
    print(f"Of {total:,} threshold neurons on a grid: " + ", ".join(f"{n:,} compute {g}" for g, n in counts.items()))
    for gate in TRUTH_TABLES:
        history, w, theta = perceptron(gate)
        result[f"perceptron_{gate}"] = history
        print(f"perceptron rule on {gate}: {len(history)} passes, best {max(history)}/4 rows right "
              f"(w = {w}, θ = {theta:g})")  # fmt: skip
    _, outputs = train_xor_mlp(args.updates, seed=args.seed)
    result["xor_mlp"] = outputs
    rounded, decided = [round(o, 3) for o in outputs], [int(o >= 0.5) for o in outputs]
    print(f"2-5-1 sigmoid network after {args.updates:,} updates: outputs {rounded} → {decided}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
