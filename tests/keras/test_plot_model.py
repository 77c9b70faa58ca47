"""``keras.utils.plot_model`` draws every layer and every connection, to SVG (no dependency) or PNG."""

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from shendu.keras import Model, Sequential, layers
from shendu.keras.utils import plot_model

SVG = "{http://www.w3.org/2000/svg}"


def _two_input_model():
    a, b = layers.Input((8,), name="left"), layers.Input((4,), name="right")
    x = layers.Dense(16, activation="relu", name="hidden_left")(a)
    y = layers.Dense(16, name="hidden_right")(b)
    z = layers.Concatenate(name="join")([x, y])
    return Model([a, b], layers.Dense(1, activation="sigmoid", name="score")(z))


def test_svg_has_a_box_per_layer_and_an_arrow_per_connection(tmp_path):
    path = plot_model(_two_input_model(), tmp_path / "model.svg", show_shapes=True, show_layer_activations=True)
    root = ElementTree.parse(path).getroot()
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert len(list(root.iter(f"{SVG}rect"))) == 6 and len(list(root.iter(f"{SVG}line"))) == 5
    for expected in ("left (InputLayer)", "join (Concatenate)", "output: (None, 32)", "activation: relu", "score (Dense)"):
        assert expected in texts
    boxes = {g.find(f"{SVG}text").text: float(g.find(f"{SVG}rect").get("y")) for g in root.iter(f"{SVG}g")}
    assert boxes["left (InputLayer)"] == boxes["right (InputLayer)"] < boxes["hidden_left (Dense)"] < boxes["join (Concatenate)"]


def test_sequential_left_to_right_and_png(tmp_path):
    model = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    root = ElementTree.parse(plot_model(model, tmp_path / "s.svg", rankdir="LR", show_layer_names=False)).getroot()
    xs = [float(r.get("x")) for r in root.iter(f"{SVG}rect")]
    assert len(xs) == 2 and xs[0] < xs[1] and [t.text for t in root.iter(f"{SVG}text")] == ["Dense", "Dense"]
    png = plot_model(model, tmp_path / "s.png", show_shapes=True, dpi=60).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="rankdir must be 'TB' or 'LR'. Received: rankdir='BT'"):
        plot_model(_two_input_model(), tmp_path / "m.svg", rankdir="BT")
    unbuilt = Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not yet been built"):
        plot_model(unbuilt, tmp_path / "u.svg")
    assert not list(tmp_path.iterdir())
    unbuilt(np.zeros((1, 2), np.float32))
    assert plot_model(unbuilt, tmp_path / "u.svg").exists()
