"""``keras.utils.plot_model``: a drawing of the layer graph, one box per layer, arrows along the data flow.

SVG files are written by shendu itself; other formats (PNG, PDF) are drawn with matplotlib
(``pip install shendu[plot]``). Rows follow the depth of each layer in the graph, top to bottom.
"""

import html
import io
import re
from pathlib import Path

from ..io.atomic import atomic_write
from .summary import _rows

_BOX_H, _GAP_X, _GAP_Y, _MARGIN, _CHAR_W = 40, 30, 36, 20, 7.2


def _layout(model, show_shapes, show_layer_names, show_dtype, show_layer_activations, show_trainable):
    rows, _ = _rows(model)
    by_name = {layer.name: layer for layer, _, _ in rows}
    depth, edges, boxes = {}, [], []
    previous = None
    for layer, shape, connected in rows:
        sources = [re.sub(r"\[\d+\]\[\d+\]$", "", c) for c in connected] if model._graph is not None else (
            [previous] if previous else [])  # fmt: skip
        sources = [s for s in dict.fromkeys(sources) if s in by_name]
        depth[layer.name] = 1 + max((depth[s] for s in sources), default=-1)
        edges += [(s, layer.name) for s in sources]
        label = [f"{layer.name} ({type(layer).__name__})" if show_layer_names else type(layer).__name__]
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            label.append(f"activation: {getattr(activation, '__name__', activation)}")
        if show_shapes:
            label.append(f"output: {shape}")
        if show_dtype:
            label.append(f"dtype: {getattr(layer, 'dtype', 'float32')}")
        if show_trainable:
            label.append(f"trainable: {getattr(layer, 'trainable', True)}")
        boxes.append((layer.name, label))
        previous = layer.name
    return boxes, edges, depth


def _positions(boxes, depth, rankdir):
    ranks = {}
    for name, label in boxes:
        ranks.setdefault(depth[name], []).append((name, label))
    widths = {name: max(len(line) for line in label) * _CHAR_W + 20 for name, label in boxes}
    heights = {name: _BOX_H + 14 * (len(label) - 1) for name, label in boxes}
    rank_width = {r: sum(widths[n] for n, _ in members) + _GAP_X * (len(members) - 1) for r, members in ranks.items()}
    rank_height = {r: max(heights[n] for n, _ in members) for r, members in ranks.items()}
    total_width = max(rank_width.values())
    position, y = {}, _MARGIN
    for r in sorted(ranks):
        x = _MARGIN + (total_width - rank_width[r]) / 2
        for name, _ in ranks[r]:
            position[name] = (x, y, widths[name], heights[name])
            x += widths[name] + _GAP_X
        y += rank_height[r] + _GAP_Y
    size = (total_width + 2 * _MARGIN, y - _GAP_Y + _MARGIN)
    if rankdir == "LR":  # swap the axes: ranks run left to right
        position = {n: (py, px, w, h) for n, (px, py, w, h) in position.items()}
        size = size[::-1]
    return position, size


def _anchors(source, target, rankdir):
    """The arrow's ends: bottom-middle to top-middle (TB) or right-middle to left-middle (LR)."""
    (xa, ya, wa, ha), (xb, yb, wb, hb) = source, target
    if rankdir == "LR":
        return (xa + wa, ya + ha / 2), (xb, yb + hb / 2)
    return (xa + wa / 2, ya + ha), (xb + wb / 2, yb)


def _svg(boxes, edges, position, size, rankdir):
    width, height = size
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
    ]
    for source, target in edges:
        (x1, y1), (x2, y2) = _anchors(position[source], position[target], rankdir)
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     'stroke="#444" marker-end="url(#arrow)"/>')  # fmt: skip
    for name, label in boxes:
        x, y, w, h = position[name]
        parts.append(f'<g class="layer"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" '
                     'fill="#f4f6fb" stroke="#333"/>')  # fmt: skip
        for i, line in enumerate(label):
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 24 + 14 * i:.1f}" text-anchor="middle">{html.escape(line)}</text>')
        parts.append("</g>")
    return "\n".join([*parts, "</svg>\n"]).encode()


def _matplotlib(boxes, edges, position, size, rankdir, path, dpi):
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib import pyplot
        from matplotlib.patches import FancyBboxPatch
    except ImportError:
        raise ImportError(
            f"plot_model: writing {Path(path).suffix or 'this format'} needs matplotlib (pip install shendu[plot]); "
            "a .svg file needs nothing"
        ) from None
    width, height = size
    figure = pyplot.figure(figsize=(width / 72, height / 72), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for source, target in edges:
        start, end = _anchors(position[source], position[target], rankdir)
        axes.annotate("", end, start, arrowprops={"arrowstyle": "->", "color": "#444"})
    for name, label in boxes:
        x, y, w, h = position[name]
        axes.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=4", fc="#f4f6fb", ec="#333"))
        axes.text(x + w / 2, y + h / 2, "\n".join(label), ha="center", va="center", family="monospace", fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or "png", dpi=dpi)
    pyplot.close(figure)
    return buffer.getvalue()


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False, **kwargs):  # fmt: skip
    """Draw ``model``'s layers and their connections to ``to_file`` (.svg, .png, .pdf); returns the path.

    Args:
        show_shapes / show_dtype / show_layer_activations / show_trainable: add that line to each box.
        show_layer_names: label boxes "name (Type)" instead of "Type". Defaults to True.
        rankdir: "TB" (top to bottom, the default) or "LR".
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if not getattr(model, "built", True) or not model.layers:
        raise ValueError("plot_model: this model has not yet been built; build it (call it on data or give an Input) first")
    boxes, edges, depth = _layout(model, show_shapes, show_layer_names, show_dtype, show_layer_activations, show_trainable)
    position, size = _positions(boxes, depth, rankdir)
    if str(to_file).lower().endswith(".svg"):
        content = _svg(boxes, edges, position, size, rankdir)
    else:
        content = _matplotlib(boxes, edges, position, size, rankdir, to_file, dpi)
    atomic_write(Path(to_file), content)
    return Path(to_file)
