"""Keras models: ``Sequential``, the functional ``Model(inputs, outputs)``, subclassed models, ``load_model``.

A model is a Keras layer (so an ``nn.Module``) holding its layers as sub-modules under their
names. ``Sequential`` runs them in order; a functional model runs the graph of :class:`Node`
records that calling layers on ``Input`` tensors left behind; a subclassed model runs its own
``call``. Training, evaluation and prediction come from :class:`~shendu.keras.training.TrainingMixin`
(the core training loop); saving goes through :mod:`shendu.io` (config as plain data + safetensors).

Example:
    >>> model = Sequential([Dense(50, activation="sigmoid", input_shape=(784,)), Dense(10, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    >>> model.fit(x_train, y_train, epochs=3, validation_data=(x_test, y_test))
"""

from __future__ import annotations

import json
import os

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn.module import Module
from .layers.base import (
    InputLayer, KerasTensor, Layer, _dry_run_shape, _flatten, _plain_shape, _tuple_shape, format_shape,
)  # fmt: skip
from .summary import print_summary
from .training import TrainingMixin, _Prediction

__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model", "model_from_json", "clone_model"]


def _register_child(model, layer):
    """Add ``layer`` as a sub-module under its Keras name.

    NOTE: written straight into ``_modules`` rather than through ``add_module``: Keras allows any layer
    name, including ones that are also attribute names of a model (``output``, ``layers``, ...).
    """
    if "." in layer.name or not layer.name:
        raise ValueError(f"Layer names must be non-empty and must not contain '.'. Received: {layer.name!r}")
    model._modules[layer.name] = layer


def _output_shape(layer, input_shape):
    if type(layer).compute_output_shape is Layer.compute_output_shape and type(layer).call is not Layer.call:
        return _dry_run_shape(layer, input_shape)
    return layer.compute_output_shape(input_shape)


class Model(TrainingMixin, Layer):
    """A Keras model: a group of layers with ``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``summary`` / ``save``.

    Built three ways:

    - functional: ``Model(inputs, outputs)`` from ``Input`` tensors and layers called on them;
    - subclassed: ``class Net(Model)`` with layers as attributes and a ``call(inputs)`` method;
    - :class:`Sequential`: a list of layers.

    Args:
        inputs: an ``Input`` tensor or a list of them (functional models).
        outputs: the output tensor(s) of the graph (functional models).
        name: Defaults to ``model``, ``model_1``, ... (the class name for subclasses).

    Example:
        >>> inputs = Input(shape=(100,))
        >>> x = Embedding(10000, 64)(inputs)
        >>> outputs = Dense(5, activation="softmax")(LSTM(32)(x))
        >>> model = Model(inputs=inputs, outputs=outputs)
    """

    _accepts_integers = True  # the layers inside decide (Embedding takes ids, the others cast)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(f"Model() takes inputs and outputs; got {len(args)} positional arguments")
        super().__init__(name=kwargs.pop("name", None), trainable=kwargs.pop("trainable", True),
                         dtype=kwargs.pop("dtype", None), **kwargs)  # fmt: skip
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._loss_object = None
        self._active_trainer = None
        self.stop_training = False
        self.history = None
        self._graph = None
        self._declared_input_shape = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs): both are needed for a functional model")
            self._init_graph(inputs, outputs)

    # ----- the functional graph -----------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        output_keys = None
        if isinstance(outputs, dict):  # named outputs: the keys name them (losses, metrics, predictions)
            output_keys, outputs = list(outputs), list(outputs.values())
        if isinstance(inputs, dict):
            inputs = list(inputs.values())
        input_list, output_list = _flatten(inputs), _flatten(outputs)
        for t in input_list + output_list:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model(inputs, outputs) expects KerasTensors (from keras.Input and layers called on "
                                f"them); got {type(t).__name__}")  # fmt: skip
        for t in input_list:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from keras.Input(...); {t} is the output of layer "
                                 f"{t.node.layer.name!r}")  # fmt: skip
        # Nodes in dependency order (iterative depth-first search from the outputs).
        order, done, stack = [], set(), [(t.node, False) for t in reversed(output_list)]
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((t.node, False) for t in reversed(node.inputs) if t.node not in done)
        given = {id(t.node) for t in input_list}
        for node in order:
            if isinstance(node.layer, InputLayer) and id(node) not in given:
                raise ValueError(f"Graph disconnected: the model needs the value of input {node.layer.name!r}, which "
                                 f"is not among the model's inputs {[t.name for t in input_list]}")  # fmt: skip
        layers = []
        for node in order:
            if node.layer not in layers:
                layers.append(node.layer)
        names = [layer.name for layer in layers]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ValueError(f"The name {duplicate!r} is used {names.count(duplicate)} times in the model. "
                             "All layer names should be unique.")  # fmt: skip
        for layer in layers:
            _register_child(self, layer)
        self._graph = {
            "nodes": order, "inputs": input_list, "outputs": output_list,
            "inputs_as_list": isinstance(inputs, (list, tuple)), "outputs_as_list": isinstance(outputs, (list, tuple)),
            "output_keys": output_keys,
        }  # fmt: skip
        shapes = [t.shape for t in input_list]
        self._declared_input_shape = shapes if self._graph["inputs_as_list"] else shapes[0]
        self.built = True
        self._build_input_shape = self._declared_input_shape

    def _run_graph(self, inputs, with_pre=False):
        graph = self._graph
        values_in = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if len(values_in) != len(graph["inputs"]):
            raise ValueError(f'Layer "{self.name}" expects {len(graph["inputs"])} input(s), but it received '
                             f"{len(values_in)} input tensors.")  # fmt: skip
        values = {id(t): v for t, v in zip(graph["inputs"], values_in)}
        targets = {id(t.node) for t in graph["outputs"]} if with_pre else set()
        pres = {}
        for node in graph["nodes"]:
            if isinstance(node.layer, InputLayer):
                continue
            call_inputs, kwargs = node.call_arguments([values[id(t)] for t in node.inputs])
            if id(node) in targets and not kwargs and len(node.outputs) == 1:
                out, pres[id(node)] = node.layer._call_with_pre_activation(call_inputs)
            else:
                out = node.layer(call_inputs, **kwargs)
            outs = list(out) if len(node.outputs) > 1 else [out]
            for t, v in zip(node.outputs, outs):
                values[id(t)] = v
        outputs = [values[id(t)] for t in graph["outputs"]]
        pre = [pres.get(id(t.node)) for t in graph["outputs"]]
        if graph.get("output_keys") and not with_pre:
            return dict(zip(graph["output_keys"], outputs)), pre
        return (outputs if graph["outputs_as_list"] else outputs[0]), pre

    # ----- running ----------------------------------------------------------------------------------
    def _run(self, inputs, with_pre=False):
        if self._graph is not None:
            return self._run_graph(inputs, with_pre)
        return self.call(inputs), None

    def __call__(self, *args, **kwargs):
        if len(args) > 1:
            args = (list(args),)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if self._graph is None:
            raise NotImplementedError(f"{type(self).__name__} must implement call(inputs) (a subclassed Model), or be "
                                      "built as Model(inputs, outputs)")  # fmt: skip
        return self._run_graph(inputs)[0]

    def forward(self, inputs, *args, **kwargs):
        if self._graph is not None or isinstance(self, Sequential):
            return self._run(inputs)[0]
        return self.call(inputs, *args, **kwargs)

    def _output_layers(self):
        """The layer that makes each output (None where it is not known, as in a subclassed model)."""
        if self._graph is not None:
            return [t.node.layer for t in self._graph["outputs"]]
        return [None]

    def _output_layer(self):
        layers = self._output_layers()
        return layers[0] if len(layers) == 1 else None

    @property
    def output_names(self):
        """The names of the outputs: the keys of a dict of outputs, else the names of the layers that make them."""
        if self._graph is not None and self._graph.get("output_keys"):
            return list(self._graph["output_keys"])
        layers = self._output_layers()
        return [layer.name if layer is not None else f"output_{i}" for i, layer in enumerate(layers)]

    def _forward_for_loss(self, inputs):
        """(outputs, pre-activations of the output layers, their activation names) for the compiled loss."""
        from .layers.base import _CALL_DEPTH

        self._clear_losses()
        _CALL_DEPTH[0] += 1
        try:
            output, pre = self._run(inputs, with_pre=True)
        finally:
            _CALL_DEPTH[0] -= 1
        count = len(output) if isinstance(output, (list, tuple)) else 1
        pres = pre if isinstance(pre, list) else [pre] * count
        layers = self._output_layers()
        if len(layers) != count:
            layers = [None] * count
        activations = [getattr(layer, "_activation_name", None) if p is not None else None
                       for layer, p in zip(layers, pres)]  # fmt: skip
        return _Prediction((output, pres, activations))

    # ----- building and shapes ------------------------------------------------------------------------
    def build(self, input_shape=None):
        """Create the weights of every layer for ``input_shape`` (with the batch axis, e.g. ``(None, 784)``)."""
        if self._graph is not None:
            return
        if input_shape is None:
            raise ValueError("build() needs an input shape, e.g. model.build((None, 784))")
        self._maybe_build(_tuple_shape(input_shape))

    def _build_for_data(self, x):
        if self.built:
            return
        shapes = [(None,) + tuple(a.shape[1:]) for a in x] if isinstance(x, list) else (None,) + tuple(x.shape[1:])
        self._maybe_build(shapes)

    def _maybe_build(self, input_shape):
        if self.built:
            return
        if self._graph is None and not isinstance(self, Sequential):
            # A subclassed model builds its layers by running once on a zero batch.
            _dry_run_shape(self, input_shape, self.call)
            self.built = True
            self._build_input_shape = input_shape
            self._apply_trainable()
            return
        super()._maybe_build(input_shape)

    def _expected_input_shapes(self):
        declared = self._declared_input_shape
        if declared is None:
            return None
        return declared if isinstance(declared, list) else [declared]

    def _check_input(self, inputs):
        expected = self._expected_input_shapes()
        if expected is None:
            return
        given = inputs if isinstance(inputs, list) else [inputs]
        self._check_shapes(expected, [tuple(g.shape) for g in given])

    def _check_input_data(self, x):
        expected = self._expected_input_shapes()
        if expected is None:
            return
        given = x if isinstance(x, list) else [x]
        self._check_shapes(expected, [tuple(a.shape) for a in given])

    def _check_shapes(self, expected, given):
        if len(given) != len(expected):
            raise ValueError(f'Layer "{self.name}" expects {len(expected)} input(s), but it received {len(given)} '
                             "input tensors.")  # fmt: skip
        for index, (want, got) in enumerate(zip(expected, given)):
            fits = len(want) == len(got) and all(w is None or w == g for w, g in zip(want[1:], got[1:]))
            if not fits:
                raise ValueError(f'Input {index} of layer "{self.name}" is incompatible with the layer: expected '
                                 f"shape={format_shape(want)}, found shape={format_shape(got)}")  # fmt: skip

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            shapes = [t.shape for t in self._graph["outputs"]]
            if self._graph.get("output_keys"):
                return dict(zip(self._graph["output_keys"], shapes))
            return list(shapes) if self._graph["outputs_as_list"] else shapes[0]
        return _dry_run_shape(self, input_shape, self.call)

    def _output_shape_for_data(self, x):
        if self._graph is not None:
            shapes = self.compute_output_shape(None)
            return [shapes[k] for k in self.output_names] if isinstance(shapes, dict) else shapes
        shapes = [(None,) + a.shape[1:] for a in x] if isinstance(x, list) else (None,) + x.shape[1:]
        return _dry_run_shape(self, shapes, self.call)

    # ----- layers ------------------------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers, in order (functional models include their InputLayers, as Keras)."""
        if self._graph is not None:
            seen = []
            for node in self._graph["nodes"]:
                if node.layer not in seen:
                    seen.append(node.layer)
            return seen
        return self._child_layers()

    def get_layer(self, name=None, index=None):
        """A layer by name or by position in ``layers``."""
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers.")
            return layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    @property
    def inputs(self):
        if self._graph is not None:
            return list(self._graph["inputs"])
        raise AttributeError(f"Model {self.name!r} has no symbolic inputs (it is not a functional model)")

    @property
    def outputs(self):
        if self._graph is not None:
            return list(self._graph["outputs"])
        raise AttributeError(f"Model {self.name!r} has no symbolic outputs (it is not a functional model)")

    @property
    def input(self):
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self):
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    # ----- summary ---------------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):  # fmt: skip
        """Print a table of the layers (name and type, output shape, parameter count) and the totals.

        Args:
            line_length: the minimum width of the table. Defaults to 65 (98 with a "Connected to" column).
            positions: relative or absolute column ends. Defaults to Keras' ones.
            print_fn: called with each line. Defaults to ``print``.
            show_trainable: add a "Trainable" column. Defaults to False.

        Raises:
            ValueError: the model is not built yet (no input shape known).
        """
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)  # fmt: skip

    # ----- weights and persistence -------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike, overwrite: bool = True, **kwargs: Any) -> Any:
        """Save architecture, weights and compile settings.

        A path ending in ``.keras`` gets Keras 3's archive (which Keras 3 loads too; needs the
        ``keras-files`` extra); any other path a shendu model directory (config.json,
        model.safetensors, metadata.json). ``keras.models.load_model(filepath)`` rebuilds either, compiled.
        """
        from ..io import save_model as _save_model

        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"save: {filepath} exists and overwrite=False")
        if os.fspath(filepath).endswith(".keras") and not os.path.isdir(filepath):
            from .keras_files import save_keras_file

            return save_keras_file(self, filepath)
        shape = self._build_input_shape
        if isinstance(shape, list):  # several inputs: one sample shape each
            sample: list = [list(s[1:]) for s in shape]
        else:
            sample = list(shape[1:]) if isinstance(shape, tuple) else []
        return _save_model(self, filepath, input_shape=sample)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights: ``.weights.h5`` (or ``.h5``) in Keras 3's layout, any other name as a safetensors file."""
        from ..io import save

        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"save_weights: {filepath} exists and overwrite=False")
        if os.fspath(filepath).endswith(".h5"):
            from .keras_files import save_weights_h5

            return save_weights_h5(self, filepath)
        save(self.state_dict(), filepath)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights written by :meth:`save_weights` (or by ``ModelCheckpoint(save_weights_only=True)``).

        Weights are matched by name, or — as Keras does for a model built again, whose layers got
        new names — by their order, when the names differ but the shapes agree one by one.
        """
        from ..io import load

        if not self.built:
            raise ValueError("load_weights: build the model first (give an input shape or call it on data)")
        if os.fspath(filepath).endswith(".h5"):
            from .keras_files import load_weights_h5

            return load_weights_h5(self, filepath)
        state = load(filepath)
        own = self.state_dict()
        if set(state) != set(own) and len(state) == len(own):
            pairs = list(zip(own.items(), state.items()))
            if all(tuple(mine.shape) == tuple(np.shape(getattr(theirs, "_array", theirs)))
                   for (_, mine), (_, theirs) in pairs):  # fmt: skip
                state = {name: theirs for (name, _), (_, theirs) in pairs}
        self.load_state_dict(state, strict=not skip_mismatch)

    def get_config(self):
        if self._graph is None:
            raise TypeError(f"{type(self).__name__} is a subclassed model: its architecture is Python code, not "
                            "data. Save its weights with model.save_weights(path) instead.")  # fmt: skip
        graph = self._graph
        nodes = graph["nodes"]
        position = {id(node): i for i, node in enumerate(nodes)}
        node_configs = []
        for node in nodes:
            node_configs.append({
                "layer": node.layer.name,
                "inputs": [[position[id(t.node)], t.index] for t in node.inputs],
                "as_list": node.as_list, "n_main": node.n_main,
                "kw_layout": {k: list(v) for k, v in node.kw_layout.items()}, "kwargs": dict(node.kwargs),
            })  # fmt: skip
        return {
            "name": self.name, "trainable": self.trainable, "layers": self.layers, "nodes": node_configs,
            "inputs": [[position[id(t.node)], t.index] for t in graph["inputs"]],
            "outputs": [[position[id(t.node)], t.index] for t in graph["outputs"]],
            "inputs_as_list": graph["inputs_as_list"], "outputs_as_list": graph["outputs_as_list"],
            "output_keys": graph.get("output_keys"), "compile_config": self.get_compile_config(),
        }  # fmt: skip

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _own_layers(config, custom_objects)
        by_name = {layer.name: layer for layer in config["layers"]}
        produced = []
        for index, spec in enumerate(config["nodes"]):
            layer = by_name.get(spec["layer"])
            if layer is None:
                raise ValueError(f"model config: node {index} names an unknown layer {spec['layer']!r}")
            if isinstance(layer, InputLayer):
                produced.append(layer._inbound_nodes[0].outputs)
                continue
            values = [produced[i][j] for i, j in spec["inputs"]]
            node = _replay_node(layer, values, spec)
            produced.append(node if isinstance(node, list) else [node])
        inputs = [produced[i][j] for i, j in config["inputs"]]
        outputs = [produced[i][j] for i, j in config["outputs"]]
        if config.get("output_keys"):
            outputs = dict(zip(config["output_keys"], outputs))
        model = cls(inputs=inputs if config.get("inputs_as_list") else inputs[0],
                    outputs=outputs if config.get("outputs_as_list") or config.get("output_keys") else outputs[0],
                    name=config.get("name"), trainable=config.get("trainable", True))  # fmt: skip
        if config.get("compile_config"):
            model.compile_from_config(config["compile_config"])
        return model

    def get_build_config(self):
        return None

    def to_json(self, **kwargs):
        """The architecture as a JSON string (``keras.models.model_from_json`` rebuilds it)."""
        from ..io import model_to_config

        return json.dumps(model_to_config(self), **kwargs)

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on model '{self.name}', but the model isn't built.")
        return super().count_params()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _own_layers(config, custom_objects):
    """A config whose layers the new model may own: layer objects (from ``model.get_config()``) are copied,
    serialised layers are rebuilt (registered classes and ``custom_objects`` only)."""
    import copy

    from .saving import deserialize_keras_object

    layers = config.get("layers", [])
    if any(isinstance(layer, dict) for layer in layers):
        config = dict(config, layers=[deserialize_keras_object(layer, custom_objects) if isinstance(layer, dict)
                                      else layer for layer in layers])  # fmt: skip
    elif any(isinstance(layer, Layer) and not isinstance(layer, InputLayer) and layer._inbound_nodes for layer in layers):
        config = copy.deepcopy(config)  # the layers of a live model: the new model gets its own copies
    return config


def _replay_node(layer, values, spec):
    node = type("_Spec", (), {})()
    node.n_main, node.as_list, node.kwargs = spec["n_main"], spec["as_list"], spec.get("kwargs", {})
    node.kw_layout = {k: tuple(v) for k, v in spec.get("kw_layout", {}).items()}
    from .layers.base import Node

    call_inputs, kwargs = Node.call_arguments(node, values)
    return layer(call_inputs, **kwargs)


Functional = Model


class Sequential(Model):
    """A linear stack of layers: each layer's output is the next one's input (003: "like building blocks").

    Args:
        layers: the layers, in order. Defaults to none (use :meth:`add`).
        name: Defaults to ``sequential``, ``sequential_1``, ...

    The input shape comes from ``input_shape=`` on the first layer, from a leading
    ``keras.Input(shape=...)``, or from the first batch the model sees.

    Example:
        >>> model = Sequential([
        ...     Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        ...     MaxPooling2D(pool_size=(2, 2)),
        ...     Flatten(),
        ...     Dense(10, activation="softmax"),
        ... ])
    """

    def __init__(self, layers: Sequence[Any] | None = None, name: str | None = None, trainable: bool = True, **kwargs) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._output_shapes = None
        if layers is not None:
            if isinstance(layers, (Layer, KerasTensor)):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    @property
    def layers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def add(self, layer: Any) -> None:
        """Append a layer (or set the input with a leading ``keras.Input`` / ``InputLayer``)."""
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.node.layer, InputLayer):
                raise ValueError("Sequential.add accepts a keras.Input(...) tensor only as the model's input")
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("An InputLayer can only be the first entry of a Sequential model")
            self._declared_input_shape = layer._batch_input_shape
            return
        if not isinstance(layer, Layer):
            hint = (" (a shendu.nn module belongs in shendu.nn.Sequential; use keras.layers here)"
                    if isinstance(layer, Module) else "")  # fmt: skip
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer!r} of type "
                            f"{type(layer).__name__}{hint}")  # fmt: skip
        if layer.name in self._modules:
            raise ValueError(f'All layers added to a Sequential model should have unique names. Name "{layer.name}" '
                             "is already the name of a layer in this model. Update the `name` argument to pass a "
                             "unique name.")  # fmt: skip
        if not self.layers and self._declared_input_shape is None and layer._batch_input_shape is not None:
            self._declared_input_shape = layer._batch_input_shape
        _register_child(self, layer)
        shape = self._declared_input_shape if self._declared_input_shape is not None else (
            self._build_input_shape if self.built else None)  # fmt: skip
        if shape is not None:
            self.built = False
            self._maybe_build(shape)

    def pop(self):
        """Remove the last layer."""
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        del self._modules[layers[-1].name]
        self._output_shapes = self._output_shapes[:-1] if self._output_shapes else None
        return layers[-1]

    def build(self, input_shape=None):
        shape = input_shape if input_shape is not None else self._declared_input_shape
        if shape is None:
            raise ValueError("You must provide an `input_shape` argument: model.build((None, 784)), or give the first "
                             "layer input_shape=..., or call the model on a batch of data.")  # fmt: skip
        if not self.layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers to build")
        shape = _tuple_shape(shape)
        shapes = []
        for layer in self.layers:
            if not layer.built:
                layer._maybe_build(shape)
            elif layer._input_spec is not None and isinstance(shape, tuple):
                from .layers.base import _check_against_spec

                _check_against_spec(layer.name, layer._input_spec, shape)
            shape = _output_shape(layer, shape)
            shapes.append(shape)
        self._output_shapes = shapes
        self.built = True

    def _maybe_build(self, input_shape):
        if self.built:
            return
        self.build(input_shape)
        self._build_input_shape = _tuple_shape(input_shape)
        self._apply_trainable()

    def _run(self, inputs, with_pre=False):
        layers = self.layers
        if not layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers")
        x = inputs
        for layer in layers[:-1]:
            x = layer(x)
        if with_pre:
            return layers[-1]._call_with_pre_activation(x)
        return layers[-1](x), None

    def call(self, inputs, training=None, mask=None):
        return self._run(inputs)[0]

    def _output_layers(self):
        layers = self.layers
        return [layers[-1] if layers else None]

    def compute_output_shape(self, input_shape):
        shape = _tuple_shape(input_shape)
        for layer in self.layers:
            shape = _output_shape(layer, shape)
        return shape

    def _output_shape_for_data(self, x):
        if self._output_shapes is not None:
            return self._output_shapes[-1]
        return self.compute_output_shape((None,) + tuple(x.shape[1:]))

    @property
    def inputs(self):
        """[the symbolic input] of a Sequential model with a known input shape (``keras.Input`` first, or built)."""
        return self._symbolic_graph()[0]

    @property
    def outputs(self):
        return self._symbolic_graph()[1]

    def _symbolic_graph(self):
        """([input], [output]): the layers called in order on an ``Input`` of the model's shape, once (so each layer
        gets its ``output``, for feature-extraction models built from them)."""
        shape = self._declared_input_shape if self._declared_input_shape is not None else (
            self._build_input_shape if self.built else None)  # fmt: skip
        cached = self.__dict__.get("_symbolic")
        if cached is not None and cached[0] == (shape, len(self.layers)):
            return cached[1]
        if shape is None or isinstance(shape, list):
            raise ValueError(f"Sequential model {self.name!r} has no defined input: start it with keras.Input(shape=...) "
                                 "or build it, then it has inputs and outputs")  # fmt: skip
        from .layers.base import Input

        symbolic_input = Input(batch_shape=tuple(shape))
        x = symbolic_input
        for layer in self.layers:
            x = layer(x)
        graph = ([symbolic_input], [x])
        self.__dict__["_symbolic"] = ((shape, len(self.layers)), graph)
        return graph

    def get_config(self):
        build_shape = self._declared_input_shape if self._declared_input_shape is not None else (
            self._build_input_shape if self.built else None)  # fmt: skip
        return {
            "name": self.name, "trainable": self.trainable, "layers": self.layers,
            "build_input_shape": None if build_shape is None else _plain_shape(build_shape),
            "declared": self._declared_input_shape is not None, "compile_config": self.get_compile_config(),
        }  # fmt: skip

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _own_layers(config, custom_objects)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if shape is not None and config.get("declared"):
            model._declared_input_shape = _tuple_shape(shape)
        for layer in config["layers"]:
            model.add(layer)
        if shape is not None and not model.built:
            model._maybe_build(_tuple_shape(shape))
        if config.get("compile_config"):
            model.compile_from_config(config["compile_config"])
        return model


# ----- saving and loading ---------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True, **kwargs):
    """``model.save(filepath)``."""
    return model.save(filepath, overwrite=overwrite)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved with ``model.save`` (or ``ModelCheckpoint``): architecture, weights and compile settings.

    Args:
        filepath: a Keras 3 ``.keras`` archive (written by Keras or by shendu) or a shendu model directory.
        custom_objects: ``{name: class}`` of custom layers not registered with
            ``keras.saving.register_keras_serializable``. Defaults to None.
        compile: re-apply the saved ``compile`` settings. Defaults to True.

    Example:
        >>> model.save("digits.keras")
        >>> model = keras.models.load_model("digits.keras")
        >>> model.predict(x_test[:5]).argmax(axis=1)
    """
    from ..io import load_model as _load_model

    from .keras_files import is_keras_archive, load_keras_file
    from .saving import custom_object_scope

    if is_keras_archive(filepath):
        return load_keras_file(filepath, custom_objects=custom_objects, compile=compile)
    if os.path.isfile(filepath):
        raise ValueError(f"load_model: {os.fspath(filepath)} is neither a Keras 3 .keras archive nor a model directory "
                         "written by model.save(path) (legacy TensorFlow .h5 models are not readable)")  # fmt: skip
    with custom_object_scope(custom_objects or {}):
        model = _load_model(filepath)
    if not compile and isinstance(model, Model):
        model.compiled, model.optimizer, model.loss, model._loss_object = False, None, None, None
    return model


def model_from_json(json_string, custom_objects=None):
    """Rebuild an architecture (fresh weights) from :meth:`Model.to_json`."""
    from ..io import model_from_config

    return model_from_config(json.loads(json_string))


def clone_model(model):
    """A new model with the same architecture and freshly initialised weights (not compiled)."""
    from ..io import model_from_config, model_to_config

    clone = model_from_config(model_to_config(model))
    clone.compiled = False
    return clone
