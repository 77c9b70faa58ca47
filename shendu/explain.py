"""Step-by-step back-propagation for learners: one training step of a small network, explained.

:func:`explain_step` runs one forward pass, one backward pass and one gradient-descent update
of a small ``nn.Sequential`` of ``Linear`` layers and activations (up to about 50 parameters),
and prints what seed 001 works out by hand:

- the forward value of every neuron, ``net`` (the weighted sum) and ``out`` (after the activation);
- the loss;
- for every weight, the chain rule ∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w with its numbers, and
  for a hidden neuron how ∂E/∂out gathers the error sent back by every neuron of the next layer;
- every updated weight, w - lr · ∂E/∂w.

Every figure comes from shendu's autograd engine: the intermediate tensors keep their gradients
(``retain_grad``), and the local derivatives ∂out/∂net, ∂net/∂w and ∂net(next)/∂out are asked of
the recorded graph with :func:`shendu.autograd.grad`; nothing is derived a second time by hand.
The product of the three factors is checked against the weight's ``.grad``.

The recorded computation graph renders as SVG or HTML (a layered layout, no Graphviz).

The command line (``shendu explain``) calls :func:`main`.

Example:
    >>> from shendu import explain
    >>> step = explain.explain_step(explain.worked_example_network(), [0.05, 0.10], [0.01, 0.99], lr=0.5)
    >>> round(step.weight("w5").grad, 9)
    0.082167041
    >>> print(step)                       # the whole derivation, as seed 001 lays it out
    >>> step.save_graph("backprop.svg")   # or .html
"""

import argparse
import html
import math
import sys
from dataclasses import dataclass, field

from . import autograd
from ._backend import xp

__all__ = [
    "explain_step",
    "Explanation",
    "NeuronValue",
    "WeightStep",
    "GraphSnapshot",
    "graph_of",
    "render_svg",
    "render_html",
    "build_network",
    "worked_example_network",
    "main",
    "MAX_PARAMETERS",
]

MAX_PARAMETERS = 100  # one printed derivation per weight: beyond this the text stops being readable

WORKED_EXAMPLE = {
    "sizes": (2, 2, 2),
    "weights": (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55),
    "biases": (0.35, 0.60),
    "input": (0.05, 0.10),
    "target": (0.01, 0.99),
    "lr": 0.5,
}


# ----------------------------------------------------------------------------- building networks


def build_network(sizes, activation="sigmoid", weights=None, fixed_biases=None, output_activation=None, dtype=None):
    """A small fully connected network ``Linear → activation → Linear → ...`` as an ``nn.Sequential``.

    Args:
        sizes: layer widths, e.g. ``(2, 2, 2)`` for 2 inputs, 2 hidden neurons, 2 outputs.
        activation: activation after every layer, by name (``"sigmoid"``, ``"relu"``, ``"tanh"``, ...,
            ``"none"``). Defaults to ``"sigmoid"``.
        weights: all weights in seed 001's numbering (layer by layer, neuron by neuron: w1, w2, ...),
            or None for the default initialisation.
        fixed_biases: one bias per layer, shared by its neurons and not trained (seed 001), or None
            for ordinary trainable biases.
        output_activation: activation of the last layer, if different. Defaults to ``activation``.
        dtype: parameter dtype. Defaults to float64 (the figures of seed 001 are float64 figures).

    Example:
        >>> net = build_network((2, 2, 2), weights=[0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55],
        ...                     fixed_biases=[0.35, 0.6])
    """
    from . import float64, no_grad, tensor
    from . import nn

    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"build_network: sizes must hold at least two positive widths. Received: sizes={sizes!r}")
    dtype = float64 if dtype is None else dtype
    layers = []
    n_layers = len(sizes) - 1
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
        name = activation if index < n_layers - 1 or output_activation is None else output_activation
        module = _activation_module(name)
        if module is not None:
            layers.append(module)
    model = nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    if weights is not None:
        expected = sum(layer.weight.numel() for layer in linears)
        weights = [float(w) for w in weights]
        if len(weights) != expected:
            raise ValueError(f"build_network{sizes}: expected {expected} weights (w1..w{expected}); received {len(weights)}")
        with no_grad():
            start = 0
            for layer in linears:
                count = layer.weight.numel()
                layer.weight.copy_(tensor(weights[start : start + count], dtype=dtype).reshape(layer.weight.shape))
                start += count
    if fixed_biases is not None:
        fixed_biases = [float(b) for b in fixed_biases]
        if len(fixed_biases) != len(linears):
            raise ValueError(
                f"build_network{sizes}: expected one fixed bias per layer ({len(linears)}); received {len(fixed_biases)}"
            )
        with no_grad():
            for layer, value in zip(linears, fixed_biases):
                layer.bias.fill_(value)
                layer.bias.requires_grad_(False)
    return model


def worked_example_network():
    """The 2-2-2 sigmoid network of seed 001: w1..w8 = 0.15 … 0.55, fixed shared biases 0.35 and 0.60."""
    return build_network(WORKED_EXAMPLE["sizes"], weights=WORKED_EXAMPLE["weights"], fixed_biases=WORKED_EXAMPLE["biases"])


def _activation_module(name):
    from . import nn

    if name is None or isinstance(name, nn.Module):
        return name
    table = {
        "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
        "softplus": nn.Softplus, "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU, "softmax": lambda: nn.Softmax(dim=-1),
    }  # fmt: skip
    key = str(name).lower().replace("-", "_")
    if key in ("none", "linear", "identity"):
        return None
    if key not in table:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(table) + ['none']}")
    return table[key]()


# ----------------------------------------------------------------------------- losses


def _half_sse(output, target):
    return 0.5 * ((target - output) ** 2).sum()


def _categorical_crossentropy(output, target):
    return -(target * output.log()).sum()


def _loss_function(loss):
    """(callable, formula text) for a loss given by name or as a callable ``loss(output, target)``."""
    from .nn import functional as F

    if callable(loss):
        return loss, getattr(loss, "__name__", type(loss).__name__)
    table = {
        "half_sse": (_half_sse, "E = ½ Σ (target - out)²"),
        "mse": (F.mse_loss, "E = mean (target - out)²"),
        "bce": (F.binary_cross_entropy, "E = -mean [t·ln out + (1-t)·ln(1-out)]"),
        "categorical_crossentropy": (_categorical_crossentropy, "E = -Σ target · ln out"),
    }
    if loss not in table:
        raise ValueError(f"unknown loss {loss!r}; expected a callable or one of {sorted(table)}")
    return table[loss]


# ----------------------------------------------------------------------------- the explanation


@dataclass
class NeuronValue:
    """One neuron's forward values and the gradients the engine sent back to it."""

    name: str
    net: float
    out: float
    grad_out: float = math.nan  # ∂E/∂out
    grad_net: float = math.nan  # ∂E/∂net
    local: float = math.nan  # ∂out/∂net (elementwise activations; 1 without activation)
    contributions: list = field(default_factory=list)  # [(next neuron, ∂E/∂net(next), ∂net(next)/∂out)]
    coupled: list = field(default_factory=list)  # [(neuron k, ∂E/∂out_k, ∂out_k/∂net)] when the activation couples outputs
    activation: str = ""  # name of the activation ("" for none, inputs included)
    bias_name: str = ""
    bias: float = math.nan


@dataclass
class WeightStep:
    """One parameter's chain-rule product, its gradient from the engine and its update."""

    name: str
    value: float
    grad: float  # ∂E/∂w, read from the parameter's .grad after backward
    neuron: str  # the neuron this weight feeds
    source: str  # what it multiplies (an input, a neuron's out, or 1 for a bias)
    grad_out: float  # ∂E/∂out(neuron)
    local: float  # ∂out/∂net (nan when the activation couples the outputs, e.g. softmax)
    grad_net: float  # ∂E/∂net(neuron)
    dnet_dw: float  # ∂net/∂w
    new_value: float

    @property
    def product(self):
        """The chain-rule product ∂E/∂net · ∂net/∂w (∂E/∂net itself being ∂E/∂out · ∂out/∂net)."""
        return self.grad_net * self.dnet_dw


@dataclass
class Explanation:
    """What :func:`explain_step` found: neurons, loss, per-weight steps, loss after the update, graph."""

    layers: list  # [[NeuronValue, ...] per layer], the inputs first
    loss: float
    loss_formula: str
    weights: list  # [WeightStep, ...] in seed 001's numbering
    lr: float
    loss_after: float
    graph: "GraphSnapshot"
    text: str = ""
    digits: int = 9

    def weight(self, name):
        """The :class:`WeightStep` called ``name`` (``"w5"``, ``"b(h1)"``, ...)."""
        for step in self.weights:
            if step.name == name:
                return step
        raise KeyError(f"no weight called {name!r}; the weights are {[s.name for s in self.weights]}")

    def neuron(self, name):
        """The :class:`NeuronValue` called ``name`` (``"h1"``, ``"o2"``, ...)."""
        for layer in self.layers:
            for neuron in layer:
                if neuron.name == name:
                    return neuron
        raise KeyError(f"no neuron called {name!r}")

    @property
    def outputs(self):
        return [n.out for n in self.layers[-1]]

    def to_svg(self):
        return render_svg(self.graph)

    def to_html(self):
        return render_html(self.graph, title="One step of back-propagation", text=self.text)

    def save_graph(self, path):
        """Write the computation graph to ``path``: HTML for ``.html``/``.htm``, else SVG."""
        content = self.to_html() if str(path).lower().endswith((".html", ".htm")) else self.to_svg()
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    def __str__(self):
        return self.text


def _stages(model):
    """[(Linear, activation or None)] for a Sequential of Linear layers and parameter-free activations."""
    from . import nn

    modules = list(model) if isinstance(model, (nn.Sequential, list, tuple)) else None
    if modules is None:
        raise TypeError(
            f"explain_step expects an nn.Sequential of Linear layers and activations; got {type(model).__name__}"
        )
    stages = []
    for module in modules:
        if isinstance(module, nn.Linear):
            stages.append([module, None])
        elif isinstance(module, nn.Identity):
            continue
        elif not stages or stages[-1][1] is not None:
            raise ValueError(
                f"explain_step: expected a Linear layer before {type(module).__name__}; the model must read "
                "Linear, activation, Linear, activation, ..."
            )
        elif any(True for _ in module.parameters()):
            raise ValueError(f"explain_step handles parameter-free activations; {type(module).__name__} has parameters")
        else:
            stages[-1][1] = module
    if not stages:
        raise ValueError("explain_step: the model has no Linear layer")
    return [tuple(s) for s in stages]


def _neuron_names(sizes):
    """Input, hidden and output neuron names: i1 i2 / h1 h2 (or h1_1, h2_1 with several hidden layers) / o1 o2."""
    hidden = len(sizes) - 2
    names = [[f"i{j + 1}" for j in range(sizes[0])]]
    for layer in range(1, len(sizes) - 1):
        prefix = "h" if hidden == 1 else f"h{layer}_"
        names.append([f"{prefix}{j + 1}" for j in range(sizes[layer])])
    names.append([f"o{j + 1}" for j in range(sizes[-1])])
    return names


def _one_hot_rows(tensor):
    """One-hot gradients selecting each element of a (1, n) tensor in turn."""
    from .tensor import Tensor

    n = tensor.shape[-1]
    eye = xp.eye(n, dtype=tensor._array.dtype)
    return [Tensor(eye[j].reshape(tensor.shape)) for j in range(n)]


def _jacobian(y, x):
    """J[k, j] = ∂y_k/∂x_j of a (1, m) tensor ``y`` w.r.t. a (1, n) tensor ``x``, from the recorded graph."""
    rows = []
    for probe in _one_hot_rows(y):
        (g,) = autograd.grad(y, x, grad_outputs=probe, retain_graph=True, allow_unused=True)
        rows.append(xp.zeros(x.shape[-1]) if g is None else g._array.reshape(-1))
    return xp.stack(rows)


def _as_row(data, dtype):
    from . import tensor
    from .tensor import Tensor

    t = data.detach() if isinstance(data, Tensor) else tensor(data, dtype=dtype)
    t = t.to(dtype) if t.dtype.is_floating_point else t
    if t.ndim == 1:
        t = t.reshape(1, -1)
    if t.ndim != 2 or t.shape[0] != 1:
        raise ValueError(f"explain_step explains one sample at a time; got data of shape {tuple(t.shape)}")
    return t


def explain_step(model, x, target, lr=0.5, loss="half_sse", digits=9, update=True):
    """One training step of a small network, explained as seed 001 explains it by hand.

    Args:
        model: an ``nn.Sequential`` of ``Linear`` layers, each optionally followed by one
            parameter-free activation (elementwise, or one that couples its outputs such as
            ``Softmax``); at most :data:`MAX_PARAMETERS` parameters.
        x: one input sample (a list or a tensor of shape (n,) or (1, n)).
        target: its target, laid out as the output (one-hot for ``"categorical_crossentropy"``).
        lr: learning rate of the gradient-descent update. Defaults to 0.5 (seed 001).
        loss: ``"half_sse"`` (E = ½Σ(t - o)², seed 001), ``"mse"``, ``"bce"``, ``"categorical_crossentropy"``
            (E = -Σ t·ln out, after a softmax layer),
            or a callable ``loss(output, target)`` returning a scalar tensor. Defaults to ``"half_sse"``.
        digits: decimals printed. Defaults to 9.
        update: apply the update to the model's parameters (as the optimiser would). Defaults to True.

    Returns:
        An :class:`Explanation`: ``str()`` of it is the printed derivation; ``.weights``, ``.layers``
        hold the numbers; ``.save_graph(path)`` renders the computation graph.
    """
    from . import no_grad
    from .optim import SGD

    stages = _stages(model)
    n_params = sum(p.numel() for p in model.parameters())
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"explain_step prints one derivation per weight and takes models of at most {MAX_PARAMETERS} "
            f"parameters; this model has {n_params}"
        )
    dtype = stages[0][0].weight.dtype
    loss_fn, formula = _loss_function(loss)
    x = _as_row(x, dtype)
    target = _as_row(target, dtype)
    sizes = [stages[0][0].in_features] + [linear.out_features for linear, _ in stages]
    names = _neuron_names(sizes)

    # Forward, keeping every net and out (their gradients are kept by the engine on backward).
    h = x
    recorded = []  # (linear, activation, input, net, out)
    for linear, activation in stages:
        if h.shape[-1] != linear.in_features:
            raise ValueError(f"Linear(in_features={linear.in_features}) got {h.shape[-1]} values")
        net = linear(h)
        out = activation(net) if activation is not None else net
        net.retain_grad()
        out.retain_grad()
        recorded.append((linear, activation, h, net, out))
        h = out
    error = loss_fn(h, target)
    if error.numel() != 1:
        raise ValueError(f"the loss must be a scalar; got shape {tuple(error.shape)}")

    # Local derivatives, asked of the recorded graph before backward frees it.
    locals_ = []
    for index, (linear, activation, _inp, net, out) in enumerate(recorded):
        jac_act = _jacobian(out, net) if activation is not None else xp.eye(net.shape[-1])
        elementwise = bool(xp.all(jac_act == xp.diag(xp.diag(jac_act))))
        dnet_dw = _row_derivatives(net, linear.weight)
        dnet_db = _row_derivatives(net, linear.bias) if linear.bias is not None else None
        jac_next = _jacobian(recorded[index + 1][3], out) if index + 1 < len(recorded) else None
        locals_.append((jac_act, elementwise, dnet_dw, dnet_db, jac_next))

    graph = graph_of(error, names=_graph_names(recorded, x, target, error, names))
    for p in model.parameters():  # this step's gradients only, not ones left by earlier steps
        p.grad = None
    error.backward()

    layers = [[NeuronValue(n, math.nan, float(v)) for n, v in zip(names[0], x._array.reshape(-1))]]
    for index, ((linear, activation, _, net, out), (jac_act, elementwise, _, _, jac_next)) in enumerate(
        zip(recorded, locals_)
    ):
        layer = []
        for j in range(net.shape[-1]):
            neuron = NeuronValue(
                names[index + 1][j],
                float(net._array[0, j]),
                float(out._array[0, j]),
                grad_out=float(out.grad._array[0, j]),
                grad_net=float(net.grad._array[0, j]),
                local=float(jac_act[j, j]) if elementwise else math.nan,
                activation="" if activation is None else type(activation).__name__.lower(),
            )
            if not elementwise:
                neuron.coupled = [
                    (names[index + 1][k], float(out.grad._array[0, k]), float(jac_act[k, j])) for k in range(out.shape[-1])
                ]
            if linear.bias is not None:
                neuron.bias = float(linear.bias._array[j])
                neuron.bias_name = f"b{index + 1}" if _is_shared_fixed(linear.bias) else f"b({neuron.name})"
            if jac_next is not None:
                next_net = recorded[index + 1][3]
                neuron.contributions = [
                    (names[index + 2][k], float(next_net.grad._array[0, k]), float(jac_next[k, j]))
                    for k in range(next_net.shape[-1])
                ]
            layer.append(neuron)
        layers.append(layer)

    # The weights in seed 001's numbering (w1, w2, ... layer by layer, neuron by neuron), then trainable biases.
    steps, counter = [], 0
    for index, ((linear, *_), (_, _, dnet_dw, dnet_db, _)) in enumerate(zip(recorded, locals_)):
        for j in range(linear.out_features):
            neuron = layers[index + 1][j]
            for i in range(linear.in_features):
                counter += 1
                steps.append(_weight_step(f"w{counter}", linear.weight, (j, i), neuron, layers[index][i].name, dnet_dw[j][i]))
        if linear.bias is not None and linear.bias.requires_grad:
            for j in range(linear.out_features):
                neuron = layers[index + 1][j]
                steps.append(_weight_step(f"b({neuron.name})", linear.bias, (j,), neuron, "1", dnet_db[j]))
    trainable = [p for p in model.parameters() if p.requires_grad]
    if update and trainable:
        SGD(trainable, lr=lr).step()
        for step in steps:
            step.new_value = float(step._param._array[step._index])
    with no_grad():
        loss_after = float(loss_fn(model(x), target).item())

    result = Explanation(layers, float(error.item()), formula, steps, lr, loss_after, graph, digits=digits)
    result.text = _report(result, update)
    return result


def _is_shared_fixed(bias):
    """A frozen bias with one value for the whole layer (seed 001's b1, b2)."""
    return not bias.requires_grad and bool(xp.all(bias._array == bias._array.reshape(-1)[0]))


def _row_derivatives(net, param):
    """[∂net_j/∂param for each output j], from the recorded graph (zeros when ``param`` is frozen)."""
    if not param.requires_grad:  # a frozen parameter is not on the graph: nothing to ask
        return [xp.full(param.shape, math.nan)[j] for j in range(net.shape[-1])]
    return [autograd.grad(net, param, grad_outputs=probe, retain_graph=True)[0]._array[j] for j, probe in enumerate(_one_hot_rows(net))]


def _weight_step(name, param, index, neuron, source, dnet_dw):
    grad = float(param.grad._array[index]) if param.grad is not None else math.nan
    step = WeightStep(
        name, float(param._array[index]), grad, neuron.name, source, neuron.grad_out, neuron.local, neuron.grad_net,
        float(dnet_dw), math.nan,
    )  # fmt: skip
    step._param, step._index = param, index
    return step


# ----------------------------------------------------------------------------- the printed derivation


def _report(result, updated=True):
    def f(value):
        return f"{value + 0.0:.{result.digits}f}"  # + 0.0 turns -0.0 into 0.0

    lines = ["One step of back-propagation (every number from shendu's autograd engine)", "", "Forward pass"]
    inputs = result.layers[0]
    lines.append("  " + ", ".join(f"{n.name} = {f(n.out)}" for n in inputs))
    by_neuron = {}
    for step in result.weights:
        if step.name.startswith("w"):
            by_neuron.setdefault(step.neuron, []).append(step)
    outs = {n.name: n.out for layer in result.layers for n in layer}
    for layer in result.layers[1:]:
        for n in layer:
            terms = [(f"{w.name}·{_value_name(w.source)}", f"{f(w.value)}·{f(outs[w.source])}") for w in by_neuron.get(n.name, [])]
            if not math.isnan(n.bias):
                terms.append((n.bias_name, f(n.bias)))
            lhs = f"net({n.name})"
            lines.append(f"  {lhs} = {' + '.join(t[0] for t in terms)}")
            lines.append(f"  {' ' * len(lhs)} = {' + '.join(t[1] for t in terms)} = {f(n.net)}")
            if n.activation:
                lines.append(f"  out({n.name}) = {n.activation}(net({n.name})) = {f(n.out)}")
    outputs = ", ".join(f"out({n.name}) = {f(n.out)}" for n in result.layers[-1])
    lines += ["", "Loss", f"  {outputs}", f"  {result.loss_formula} = {f(result.loss)}"]
    n_layers = len(result.layers) - 1
    for depth in range(n_layers, 0, -1):
        title = "the output layer" if depth == n_layers else f"hidden layer {depth}"
        lines += ["", f"Backward pass: {title}"]
        for n in result.layers[depth]:
            if n.contributions:
                terms = " + ".join(f"∂E/∂net({k})·∂net({k})/∂out({n.name})" for k, _, _ in n.contributions)
                numbers = " + ".join(f"{f(g)} × {f(d)}" for _, g, d in n.contributions)
                lhs = f"∂E/∂out({n.name})"
                lines.append(f"  {lhs} = {terms}")
                lines.append(f"  {' ' * len(lhs)} = {numbers} = {f(n.grad_out)}")
            else:
                lines.append(f"  ∂E/∂out({n.name}) = {f(n.grad_out)}")
            if not math.isnan(n.local):
                lines.append(f"  ∂out({n.name})/∂net({n.name}) = {f(n.local)}")
            else:  # softmax-like: every out depends on every net
                lhs = f"∂E/∂net({n.name})"
                terms = " + ".join(f"∂E/∂out({k})·∂out({k})/∂net({n.name})" for k, _, _ in n.coupled)
                numbers = " + ".join(f"{f(g)} × {f(d)}" for _, g, d in n.coupled)
                lines.append(f"  {lhs} = {terms}  ({n.activation} couples the outputs)")
                lines.append(f"  {' ' * len(lhs)} = {numbers} = {f(n.grad_net)}")
        for step in result.weights:
            if step.neuron not in {n.name for n in result.layers[depth]}:
                continue
            o, w = step.neuron, step.name
            if not math.isnan(step.local):
                symbols = f"∂E/∂out({o}) · ∂out({o})/∂net({o}) · ∂net({o})/∂{w}"
                numbers = f"{f(step.grad_out)} × {f(step.local)} × {f(step.dnet_dw)}"
                product = step.grad_out * step.local * step.dnet_dw
            else:
                symbols = f"∂E/∂net({o}) · ∂net({o})/∂{w}"
                numbers = f"{f(step.grad_net)} × {f(step.dnet_dw)}"
                product = step.product
            lhs = f"∂E/∂{w}"
            note = "" if math.isclose(product, step.grad, rel_tol=1e-9, abs_tol=1e-15) else f"  (engine's .grad: {f(step.grad)})"
            lines.append(f"  {lhs} = {symbols}")
            lines.append(f"  {' ' * len(lhs)} = {numbers} = {f(product)}{note}")
    if updated:
        lines += ["", f"Update (learning rate {result.lr:g}): w ← w - {result.lr:g} · ∂E/∂w"]
        for step in result.weights:
            lines.append(f"  {step.name} = {f(step.value)} - {result.lr:g} × {f(step.grad)} = {f(step.new_value)}")
        lines += ["", f"E after the update = {f(result.loss_after)}"]
    return "\n".join(lines)


def _value_name(neuron):
    """How a forward line names a neuron's value: an input as itself, any other neuron as out(name)."""
    return neuron if neuron.startswith("i") else f"out({neuron})"


# ----------------------------------------------------------------------------- the computation graph


@dataclass
class GraphNode:
    key: int
    kind: str  # "tensor" or "op"
    label: str
    value: object = None  # a copy of the tensor's array
    tensor: object = None  # the live tensor, to read its gradient after backward
    layer: int = 0
    row: int = 0

    @property
    def grad(self):
        if self.tensor is None or self.tensor.grad is None:
            return None
        return self.tensor.grad._array


@dataclass
class GraphSnapshot:
    """A computation graph recorded by the engine: tensor and op nodes, edges, a layered layout."""

    nodes: dict
    edges: list  # [(from key, to key)]

    @property
    def layers(self):
        width = max((n.layer for n in self.nodes.values()), default=-1) + 1
        columns = [[] for _ in range(width)]
        for node in sorted(self.nodes.values(), key=lambda n: (n.layer, n.row)):
            columns[node.layer].append(node)
        return columns


def graph_of(root, names=None, retain_grads=True):
    """Snapshot the graph that produced ``root`` (walking ``grad_fn`` and its ``inputs``).

    Call it before ``backward()`` (which frees the graph). With ``retain_grads`` every
    intermediate tensor keeps its gradient, so the rendered graph shows the gradients too.

    Args:
        root: the tensor to start from (usually the loss).
        names: ``{id(tensor): name}`` for the tensors to label (parameters, inputs, ...).
        retain_grads: call ``retain_grad()`` on every intermediate tensor. Defaults to True.
    """
    names = names or {}
    nodes, edges = {}, []
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in nodes:
            continue
        nodes[id(t)] = GraphNode(id(t), "tensor", names.get(id(t), ""), xp.array(t._array), t)
        fn = t.grad_fn
        if fn is None:
            continue
        if retain_grads and t.requires_grad:
            t.retain_grad()
        if id(fn) not in nodes:
            nodes[id(fn)] = GraphNode(id(fn), "op", type(fn).__name__)
            for inp in fn.inputs:
                edges.append((id(inp), id(fn)))
                stack.append(inp)
        edges.append((id(fn), id(t)))
    _layout(nodes, edges)
    return GraphSnapshot(nodes, edges)


def _layout(nodes, edges):
    """Layer = longest path from a source; rows ordered by the mean row of the predecessors."""
    preds = {k: [] for k in nodes}
    succs = {k: [] for k in nodes}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    indegree = {k: len(v) for k, v in preds.items()}
    order = [k for k, d in indegree.items() if d == 0]
    for k in order:  # Kahn's algorithm; the list grows while it is walked
        for b in succs[k]:
            indegree[b] -= 1
            if indegree[b] == 0:
                order.append(b)
    for k in order:
        nodes[k].layer = max((nodes[p].layer + 1 for p in preds[k]), default=0)
    # Sources sit just before their first consumer, so inputs and weights enter beside their op.
    for k in order:
        if not preds[k] and succs[k]:
            nodes[k].layer = max(0, min(nodes[b].layer for b in succs[k]) - 1)
    columns = {}
    for k in order:
        columns.setdefault(nodes[k].layer, []).append(k)
    for layer in sorted(columns):
        keys = columns[layer]
        placed = {k: sum(nodes[p].row for p in preds[k]) / len(preds[k]) if preds[k] else i for i, k in enumerate(keys)}
        for row, k in enumerate(sorted(keys, key=lambda k: placed[k])):
            nodes[k].row = row


def _short(array):
    if array is None:
        return ""
    flat = xp.asarray(array).reshape(-1)
    if flat.size <= 4:
        text = ", ".join(f"{v:.4g}" for v in flat.tolist())
        return text if flat.size == 1 and xp.asarray(array).ndim == 0 else f"[{text}]"
    return "shape " + "×".join(str(s) for s in xp.asarray(array).shape)


_NODE_H, _GAP_X, _GAP_Y, _MARGIN, _CHAR_W = 54, 50, 22, 20, 6.8


def _node_lines(node):
    """[(text, font weight)] shown in a node."""
    if node.kind == "op":
        return [(node.label, "bold")]
    label = node.label or ("tensor" if node.tensor is not None and node.tensor.requires_grad else "constant")
    lines = [(label, "bold"), (_short(node.value), "normal")]
    if node.grad is not None:
        lines.append(("grad " + _short(node.grad), "normal"))
    return lines


def render_svg(graph):
    """The graph as an SVG document: left to right, tensors as boxes (value, gradient), ops as ovals."""
    columns = graph.layers
    widths = [max(110, *(len(t) * _CHAR_W + 18 for n in c for t, _ in _node_lines(n))) for c in columns]
    height_rows = max((len(c) for c in columns), default=1)
    width = _MARGIN * 2 + sum(widths) + max(len(columns) - 1, 0) * _GAP_X
    height = _MARGIN * 2 + height_rows * _NODE_H + max(height_rows - 1, 0) * _GAP_Y
    position = {}  # key -> (x, y, width)
    x = _MARGIN
    for column, column_width in zip(columns, widths):
        offset = (height_rows - len(column)) * (_NODE_H + _GAP_Y) / 2
        for r, node in enumerate(column):
            position[node.key] = (x, _MARGIN + offset + r * (_NODE_H + _GAP_Y), column_width)
        x += column_width + _GAP_X
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for a, b in graph.edges:
        (xa, ya, wa), (xb, yb, _) = position[a], position[b]
        parts.append(
            f'<line x1="{xa + wa:.1f}" y1="{ya + _NODE_H / 2:.1f}" x2="{xb:.1f}" y2="{yb + _NODE_H / 2:.1f}" '
            'stroke="#555" stroke-width="1" marker-end="url(#arrow)"/>'
        )
    for node in graph.nodes.values():
        x, y, w = position[node.key]
        if node.kind == "op":
            parts.append(
                f'<ellipse cx="{x + w / 2:.1f}" cy="{y + _NODE_H / 2:.1f}" rx="{w / 2:.1f}" '
                f'ry="{_NODE_H / 2 - 6:.1f}" fill="#fde9c9" stroke="#b7791f"/>'
            )
        else:
            fill = "#dbeafe" if node.label else "#f3f4f6"
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{_NODE_H}" rx="6" fill="{fill}" stroke="#2b6cb0"/>')
        texts = _node_lines(node)
        first = y + _NODE_H / 2 - (len(texts) - 1) * 7 + 4
        for i, (text, weight) in enumerate(texts):
            parts.append(
                f'<text x="{x + w / 2:.1f}" y="{first + i * 14:.1f}" text-anchor="middle" '
                f'font-weight="{weight}">{html.escape(text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(graph, title="Computation graph", text=""):
    """A self-contained HTML page: the SVG graph, and ``text`` (e.g. the derivation) below it."""
    body = f"<pre>{html.escape(text)}</pre>" if text else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "<style>body{font-family:sans-serif;margin:1.5em} .graph{overflow-x:auto} pre{font-size:13px}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><div class=\"graph\">{render_svg(graph)}</div>{body}</body></html>\n"
    )


def _graph_names(recorded, x, target, error, names):
    labels = {id(x): "input", id(target): "target", id(error): "E (loss)"}
    counter = 0
    for index, (linear, _activation, _inp, net, out) in enumerate(recorded):
        layer_names = names[index + 1]
        span = f"{layer_names[0]}..{layer_names[-1]}" if len(layer_names) > 1 else layer_names[0]
        count = linear.weight.numel()
        labels[id(linear.weight)] = f"W: w{counter + 1}..w{counter + count}" if count > 1 else f"W: w{counter + 1}"
        counter += count
        if linear.bias is not None:
            labels[id(linear.bias)] = f"b{index + 1} (fixed)" if not linear.bias.requires_grad else f"bias b({span})"
        labels[id(net)] = f"net({span})"
        if out is not net:
            labels[id(out)] = f"out({span})"
    return labels


# ----------------------------------------------------------------------------- the command line


def _floats(text):
    return [float(v) for v in text.replace(" ", "").split(",") if v]


def main(argv=None):
    """``shendu explain``: explain one training step; with no options, the worked example of seed 001.

    Returns 0 on success, 2 on a usage error (argparse exits with 2 itself for unknown options).
    """
    parser = argparse.ArgumentParser(
        prog="shendu explain",
        description="One step of back-propagation, explained number by number (seed 001's worked example by default).",
    )
    parser.add_argument("--network", default="2-2-2", help="layer widths, e.g. 2-2-2 or 2-5-1 (default 2-2-2)")
    parser.add_argument("--activation", default="sigmoid", help="activation after every layer (default sigmoid)")
    parser.add_argument("--output-activation", default=None, help="activation of the last layer, if different")
    parser.add_argument("--weights", type=_floats, help="w1,w2,... in seed 001's numbering (default: the worked example, else random)")
    parser.add_argument("--biases", type=_floats, help="one fixed bias per layer, shared by its neurons (default: the worked example's 0.35,0.60)")
    parser.add_argument("--trainable-biases", action="store_true", help="ordinary trainable biases instead of fixed shared ones")
    parser.add_argument("--input", type=_floats, help="one input sample (default 0.05,0.10)")
    parser.add_argument("--target", type=_floats, help="its target (default 0.01,0.99)")
    parser.add_argument("--loss", default="half_sse", choices=["half_sse", "mse", "bce", "categorical_crossentropy"])
    parser.add_argument("--lr", type=float, default=WORKED_EXAMPLE["lr"], help="learning rate (default 0.5)")
    parser.add_argument("--seed", type=int, default=0, help="seed for random weights (default 0)")
    parser.add_argument("--digits", type=int, default=9, help="decimals printed (default 9)")
    parser.add_argument("--graph", metavar="PATH", help="write the computation graph to PATH (.svg or .html)")
    args = parser.parse_args(argv)
    from . import manual_seed

    try:
        sizes = tuple(int(s) for s in args.network.replace(",", "-").split("-"))
        worked = sizes == WORKED_EXAMPLE["sizes"]
        weights = args.weights if args.weights is not None else (WORKED_EXAMPLE["weights"] if worked else None)
        if args.trainable_biases:
            biases = None
        else:
            biases = args.biases if args.biases is not None else (WORKED_EXAMPLE["biases"] if worked else None)
        manual_seed(args.seed)
        model = build_network(sizes, args.activation, weights, biases, args.output_activation)
        x = args.input if args.input is not None else (WORKED_EXAMPLE["input"] if worked else [0.5] * sizes[0])
        t = args.target if args.target is not None else (WORKED_EXAMPLE["target"] if worked else [1.0] * sizes[-1])
        step = explain_step(model, x, t, lr=args.lr, loss=args.loss, digits=args.digits)
    except ValueError as error:
        print(f"shendu explain: {error}", file=sys.stderr)
        return 2
    print(step)
    if args.graph:
        step.save_graph(args.graph)
        print(f"\ncomputation graph written to {args.graph}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
