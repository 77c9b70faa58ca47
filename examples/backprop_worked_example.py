"""The worked back-propagation example of seed 001, with shendu's own layers and autograd.

A 2-2-2 network with sigmoid activations: inputs (0.05, 0.10), targets (0.01, 0.99),
w1..w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, one bias shared by each layer
(0.35 for the hidden layer, 0.60 for the output layer) that is not trained, the loss
E = ½ Σ (t - o)², plain gradient descent with learning rate 0.5, all in float64.

What it prints (SPEC.md §1.1):

- the forward output (0.75136507, 0.77292847) and the total error 0.298371109;
- after one update, w5..w8 = 0.35891648, 0.408666186, 0.511301270, 0.561370121 and
  w1..w4 = 0.149780716, 0.19956143, 0.24975114, 0.29950229;
- the error after that update, 0.29102777 (the article prints 0.291027924, from rounded
  hand arithmetic);
- after 10,000 updates the error ≈ 3.51e-5 and the outputs ≈ (0.01591, 0.98406).

(The article's code trains towards (0.01, 0.09), a typo; its text and this example use 0.99.)

Run: ``python -m examples.backprop_worked_example [--updates N] [--explain]``.
"""

import argparse
import sys

import shendu
import shendu.nn as nn
import shendu.optim as optim

INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]
HIDDEN_WEIGHTS = [[0.15, 0.20], [0.25, 0.30]]  # row j holds the weights into hidden neuron h_j: w1 w2 / w3 w4
OUTPUT_WEIGHTS = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8
HIDDEN_BIAS, OUTPUT_BIAS = 0.35, 0.60
LEARNING_RATE = 0.5


def build_network():
    """The 2-2-2 sigmoid network of seed 001 as a ``Sequential``, in float64.

    Each ``Linear`` holds one row of weights per neuron; its bias holds the layer's shared
    bias in every entry and does not require grad, so it is never trained.
    """
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=shendu.float64),
        nn.Sigmoid(),
        nn.Linear(2, 2, dtype=shendu.float64),
        nn.Sigmoid(),
    )
    with shendu.no_grad():
        for layer, weights, bias in ((model[0], HIDDEN_WEIGHTS, HIDDEN_BIAS), (model[2], OUTPUT_WEIGHTS, OUTPUT_BIAS)):
            layer.weight.copy_(shendu.tensor(weights, dtype=shendu.float64))
            layer.bias.fill_(bias)
            layer.bias.requires_grad_(False)
    return model


def half_squared_error(output, target):
    """E_total = Σ ½ (target - output)², the loss of seed 001."""
    return 0.5 * ((target - output) ** 2).sum()


def weights_w1_to_w8(model):
    """The eight weights in the article's numbering (row by row: w1 w2 w3 w4, then w5 w6 w7 w8)."""
    return model[0].weight.detach().numpy().ravel().tolist() + model[2].weight.detach().numpy().ravel().tolist()


def run(updates=10_000):
    """Train the network of seed 001 and return its figures as a dict of plain floats.

    Keys: ``output`` (the first forward output), ``error`` (its total error), ``weights_after_one``
    (w1..w8 after one update), ``error_after_one``, ``error_final`` and ``output_final``
    (after ``updates`` updates).
    """
    model = build_network()
    x = shendu.tensor([INPUTS], dtype=shendu.float64)
    t = shendu.tensor([TARGETS], dtype=shendu.float64)
    optimizer = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    figures = {}
    for step in range(updates):
        output = model(x)
        error = half_squared_error(output, t)
        if step == 0:
            figures["output"] = output.detach().numpy().ravel().tolist()
            figures["error"] = error.item()
        optimizer.zero_grad()
        error.backward()
        optimizer.step()
        if step == 0:
            figures["weights_after_one"] = weights_w1_to_w8(model)
            with shendu.no_grad():
                figures["error_after_one"] = half_squared_error(model(x), t).item()
    with shendu.no_grad():
        output = model(x)
        figures["output_final"] = output.numpy().ravel().tolist()
        figures["error_final"] = half_squared_error(output, t).item()
    figures["updates"] = updates
    return figures


def report(figures):
    """The figures as the article lays them out."""
    w = figures["weights_after_one"]
    lines = [
        "Forward pass: out(o1), out(o2) = {:.8f}, {:.8f}".format(*figures["output"]),
        f"Total error E = {figures['error']:.9f}",
        "After one update (learning rate 0.5):",
        *(f"  w{i + 1} = {w[i]:.9f}" for i in range(8)),
        f"Total error after one update = {figures['error_after_one']:.8f}",
        f"After {figures['updates']:,} updates: E = {figures['error_final']:.3e}, "
        "outputs = ({:.5f}, {:.5f}) (targets 0.01, 0.99)".format(*figures["output_final"]),
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000, help="gradient-descent updates (default 10000)")
    parser.add_argument("--fast", action="store_true", help="100 updates instead of 10,000")
    parser.add_argument("--explain", action="store_true", help="also print the first step with shendu.explain")
    args = parser.parse_args(argv)
    updates = 100 if args.fast else args.updates
    if updates < 1:
        parser.error(f"--updates must be at least 1; got {updates}")
    figures = run(updates)
    print(report(figures))
    if args.explain:
        from shendu import explain

        print()
        print(explain.explain_step(build_network(), INPUTS, TARGETS, lr=LEARNING_RATE, loss=half_squared_error))
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
