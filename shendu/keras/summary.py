"""``model.summary()``: Keras' table of layers, output shapes and parameter counts.

Example output (the 784-50-100-10 network of seed 003)::

    Model: "sequential"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense (Dense)                (None, 50)                39,250
    _________________________________________________________________
    dense_1 (Dense)              (None, 100)               5,100
    _________________________________________________________________
    dense_2 (Dense)              (None, 10)                1,010
    =================================================================
    Total params: 45,360 (177.19 KB)
    Trainable params: 45,360 (177.19 KB)
    Non-trainable params: 0 (0.00 B)
    _________________________________________________________________

Counts follow Keras: BatchNormalization's moving mean and variance are non-trainable
parameters; a frozen Embedding's table is non-trainable.
"""

import math


from .layers.base import InputLayer, format_shape

__all__ = ["print_summary", "readable_memory_size"]


def readable_memory_size(size):
    """``182400`` → ``"178.12 KB"`` (powers of 1024, as Keras)."""
    units = ["B", "KB", "MB", "GB", "TB"]
    index = 0
    while size >= 1024 and index < len(units) - 1:
        size /= 1024
        index += 1
    return f"{size:.2f} {units[index]}"


def _weights_size(weights):
    return sum(math.prod(w.shape) for w in weights), sum(math.prod(w.shape) * w.value._array.itemsize for w in weights)


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        key = id(getattr(w, "value", w))  # a Variable view and the parameter behind it are one weight
        if key not in seen:
            seen.add(key)
            out.append(w)
    return out


def _rows(model):
    """[(name (type), output shape, params, trainable, connected)] and whether the graph is a chain."""
    graph = model._graph
    rows = []
    if graph is None:
        shapes = getattr(model, "_output_shapes", None)
        for index, layer in enumerate(model.layers):
            if shapes is not None and index < len(shapes):
                shape = format_shape(shapes[index])
            else:
                try:
                    shape = format_shape(layer.output_shape) if layer.built else "?"
                except (AttributeError, ValueError, TypeError):
                    shape = "?"
            rows.append((layer, shape, []))
        return rows, True
    nodes = graph["nodes"]
    chain = len(graph["inputs"]) == 1 and len(graph["outputs"]) == 1
    by_layer = {}
    for node in nodes:
        by_layer.setdefault(id(node.layer), []).append(node)
        if len(node.inputs) > 1:
            chain = False
    if any(len(v) > 1 for v in by_layer.values()):
        chain = False
    for layer in model.layers:
        layer_nodes = by_layer[id(layer)]
        shapes = [t.shape for t in layer_nodes[0].outputs]
        shape = format_shape(shapes[0] if len(shapes) == 1 else list(shapes))
        connected = []
        for node in layer_nodes:
            for t in node.inputs:
                source = t.node.layer
                connected.append(f"{source.name}[{source._inbound_nodes.index(t.node)}][{t.index}]")
        rows.append((layer, shape, connected))
    return rows, chain


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False):
    """Print the summary table of ``model`` (see :meth:`shendu.keras.Model.summary`)."""
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by calling "
                         "the model on a batch of data (or give the first layer an input_shape).")  # fmt: skip
    print_fn = print_fn or print
    rows, chain = _rows(model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    line_length = line_length or (65 if chain else 98)
    positions = positions or ([0.45, 0.85, 1.0] if chain else [0.33, 0.55, 0.67, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        headers.append("Trainable")
        positions = positions + [positions[-1] + 11]
    table = []
    for layer, shape, connected in rows:
        params = 0 if isinstance(layer, InputLayer) or not layer.built else layer.count_params()
        cells = [f"{layer.name} ({type(layer).__name__})", shape, f"{params:,}"]
        if not chain:
            cells.append(connected[0] if connected else "")
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        extra = [[""] * 3 + [c] + ([""] if show_trainable else []) for c in connected[1:]] if not chain else []
        table.append([cells] + extra)
    # Widen a column whose content does not fit (Keras would cut it).
    widths, start = [], 0
    for index, end in enumerate(positions):
        longest = max([len(headers[index])] + [len(line[index]) for block in table for line in block])
        widths.append(max(end - start, longest + 1))
        start = end
    total_width = sum(widths)

    def line(cells):
        return "".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * total_width)
    print_fn(line(headers))
    print_fn("=" * total_width)
    for index, block in enumerate(table):
        for cells in block:
            print_fn(line(cells))
        print_fn(("=" if index == len(table) - 1 else "_") * total_width)
    if not table:
        print_fn("=" * total_width)
    weights = _unique(model.weights)
    trainable = [w for w in weights if w.trainable]
    trainable_ids = {id(w) for w in trainable}
    frozen = [w for w in weights if id(w) not in trainable_ids]
    for label, group in (("Total", weights), ("Trainable", trainable), ("Non-trainable", frozen)):
        count, size = _weights_size(group)
        print_fn(f"{label} params: {count:,} ({readable_memory_size(size)})")
    print_fn("_" * total_width)
