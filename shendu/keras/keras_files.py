"""Keras 3's own files: ``.keras`` model archives and ``.weights.h5`` weight files, read and written.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (the model as Keras serialises it:
``{"module", "class_name", "config", ...}`` with the layers and, for functional models, their
``inbound_nodes``) and ``model.weights.h5`` (each layer's variables under ``layers/<name>/vars/<i>``,
named by class in snake case and numbered per model, as Keras names them). Files written here load in
Keras 3; files written by Keras 3 load here for the layers shendu has.

Safety as for shendu's own format: only known layer classes (shendu's and registered ones) are built,
nothing from a file is executed, the zip members are read with a size bound and HDF5 comes through
h5py (the ``keras-files`` extra).
"""

import datetime
import io
import json
import os
import zipfile

import numpy as np

from ..io.files import bounded_message
from .backend import snake_case as _snake

__all__ = ["save_keras_file", "load_keras_file", "save_weights_h5", "load_weights_h5", "is_keras_archive"]

KERAS_VERSION = "3.15.1"  # the Keras release whose format these files follow
_MAX_MEMBER = 4 * 2**30  # bytes read from one zip member at most


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras .keras and .weights.h5 files need h5py: pip install 'shendu[keras-files]'") from None
    return h5py


def is_keras_archive(path):
    return os.path.isfile(path) and zipfile.is_zipfile(path)


# ----- where each layer's variables live in the .h5 file ------------------------------------------------
def _variable_groups(layer):
    """[(relative group path, number of variables)] in the order of ``layer.get_weights()``."""
    from .layers import Bidirectional, MultiHeadAttention, TimeDistributed
    from .layers.recurrent import _RNN

    count = len(layer.get_weights())
    if isinstance(layer, _RNN):
        return [("cell/vars", count)]
    if isinstance(layer, Bidirectional):
        return [("forward_layer/" + path, n) for path, n in _variable_groups(layer.forward_layer)] + [
            ("backward_layer/" + path, n) for path, n in _variable_groups(layer.backward_layer)]
    if isinstance(layer, MultiHeadAttention):
        each = count // 4
        return [(f"{part}_dense/vars", each) for part in ("query", "key", "value", "output")]
    if isinstance(layer, TimeDistributed):
        return [("layer/" + path, n) for path, n in _variable_groups(layer.layer)]
    return [("vars", count)]


def _group_names(layers):
    """Keras' names for the layers' groups: the class in snake case, then _1, _2, ... within one model."""
    used, names = {}, []
    for layer in layers:
        name = _snake(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        names.append(name)
    return names


def _saved_layers(model):
    from .models import Sequential

    layers = model.layers
    if isinstance(model, Sequential):
        from .layers.base import InputLayer

        layers = [layer for layer in layers if not isinstance(layer, InputLayer)]
    return layers


def _write_weights(model, store, prefix="layers"):
    from .models import Model

    for name, layer in zip(_group_names(_saved_layers(model)), _saved_layers(model)):
        base = f"{prefix}/{name}"
        if isinstance(layer, Model):
            _write_weights(layer, store, f"{base}/layers")
            store.require_group(f"{base}/vars").attrs["name"] = layer.name
            continue
        arrays = layer.get_weights()
        start = 0
        groups = _variable_groups(layer)
        for path, count in groups:
            group = store.require_group(f"{base}/{path}")
            group.attrs["name"] = layer.name
            for index, array in enumerate(arrays[start : start + count]):
                group.create_dataset(str(index), data=np.asarray(array))
            start += count
        if not groups:
            store.require_group(f"{base}/vars").attrs["name"] = layer.name
    store.require_group("vars").attrs["name"] = model.name


def _read_vars(group):
    keys = sorted((k for k in group.keys()), key=lambda k: int(k) if k.isdigit() else -1)
    return [np.asarray(group[k]) for k in keys if k.isdigit()]


def _read_weights(model, store, prefix="layers", where="model.weights.h5"):
    from .models import Model

    for name, layer in zip(_group_names(_saved_layers(model)), _saved_layers(model)):
        base = f"{prefix}/{name}"
        if isinstance(layer, Model):
            _read_weights(layer, store, f"{base}/layers", where)
            continue
        expected = len(layer.get_weights())
        if not expected:
            continue
        arrays = []
        for path, _ in _variable_groups(layer):
            full = f"{base}/{path}"
            if full not in store:
                raise ValueError(f"{where}: no weights for layer {layer.name!r} (expected group {full!r})")
            arrays += _read_vars(store[full])
        layer.set_weights(arrays)


def save_weights_h5(model, filepath):
    """``model.save_weights("x.weights.h5")`` in Keras 3's layout."""
    from ..io.atomic import atomic_write

    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        _write_weights(model, store)
    atomic_write(filepath, buffer.getvalue())


def load_weights_h5(model, filepath):
    """Load a ``.weights.h5`` file written by Keras 3 (or by :func:`save_weights_h5`) into a built model."""
    h5py = _h5py()
    with h5py.File(filepath, "r") as store:
        _read_weights(model, store, where=os.fspath(filepath))


# ----- configs: shendu -> Keras ------------------------------------------------------------------------
def _plain(value):
    from .layers.base import Layer

    if isinstance(value, Layer):
        return _layer_entry(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _layer_entry(layer):
    from .saving import get_registered_name

    klass = type(layer)
    registered = getattr(klass, "_registered_name", None)
    entry = {
        "module": None if registered else "keras.layers", "class_name": klass.__name__,
        "config": _plain(layer.get_config()), "registered_name": registered,
    }  # fmt: skip
    if klass.__module__.startswith("shendu.keras.layers.operations"):
        entry["module"], entry["registered_name"] = "shendu", "shendu>" + get_registered_name(klass)
    if hasattr(layer, "get_build_config") and layer.get_build_config():
        entry["build_config"] = _plain(layer.get_build_config())
    return entry


def _tensor_ref(tensor, node_index):
    return {"class_name": "__keras_tensor__", "config": {
        "shape": list(tensor.shape), "dtype": tensor.dtype,
        "keras_history": [tensor.node.layer.name, node_index[id(tensor.node)], tensor.index]}}  # fmt: skip


def _functional_config(model):
    graph = model._graph
    node_index, per_layer = {}, {}
    for node in graph["nodes"]:
        per_layer.setdefault(id(node.layer), []).append(node)
        node_index[id(node)] = len(per_layer[id(node.layer)]) - 1
    layers = []
    for layer in model.layers:
        entry = _layer_entry(layer)
        entry["name"] = layer.name
        inbound = []
        for node in per_layer.get(id(layer), []):
            if not node.inputs:
                continue
            refs = [_tensor_ref(t, node_index) for t in node.inputs]
            main = refs[: node.n_main]
            kwargs = dict(_plain(node.kwargs))
            for key, (start, count, is_list) in node.kw_layout.items():
                kwargs[key] = refs[start : start + count] if is_list else refs[start]
            inbound.append({"args": [main if node.as_list else main[0]], "kwargs": kwargs})
        entry["inbound_nodes"] = inbound
        layers.append(entry)

    def ends(tensors, as_list):
        triples = [[t.node.layer.name, node_index[id(t.node)], t.index] for t in tensors]
        return triples if as_list else triples[0]

    outputs = ends(graph["outputs"], True)
    config = {"name": model.name, "trainable": model.trainable, "layers": layers,
              "input_layers": ends(graph["inputs"], graph["inputs_as_list"]),
              "output_layers": dict(zip(graph["output_keys"], outputs)) if graph.get("output_keys")
              else outputs if graph["outputs_as_list"] else outputs[0]}  # fmt: skip
    return config


def _model_entry(model):
    from .models import Sequential

    if isinstance(model, Sequential):
        from .layers.base import InputLayer, _plain_shape

        layers = [_layer_entry(layer) for layer in model.layers if not isinstance(layer, InputLayer)]
        shape = model._declared_input_shape if model._declared_input_shape is not None else model._build_input_shape
        if shape is not None and not isinstance(shape, list):
            layers.insert(0, {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                              "config": {"batch_shape": _plain_shape(shape), "dtype": "float32", "sparse": False,
                                         "ragged": False, "name": f"{model.name}_input"}})  # fmt: skip
        config = {"name": model.name, "trainable": model.trainable, "dtype": "float32", "layers": layers}
        entry = {"module": "keras", "class_name": "Sequential", "config": config, "registered_name": None}
        if shape is not None and not isinstance(shape, list):
            entry["build_config"] = {"input_shape": _plain_shape(shape)}
    elif model._graph is not None:
        entry = {"module": "keras.src.models.functional", "class_name": "Functional",
                 "config": _functional_config(model), "registered_name": "Functional"}  # fmt: skip
    else:
        raise ValueError(f"Saving a subclassed model ({type(model).__name__}) to a .keras file is not supported; save "
                         "its weights with model.save_weights('x.weights.h5'), or build it as a functional model")  # fmt: skip
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if compile_config:
        compile_config = _plain(compile_config)
        optimizer = compile_config.get("optimizer")
        if isinstance(optimizer, dict):  # as Keras writes a built-in optimizer
            compile_config["optimizer"] = {"module": "keras.optimizers", "registered_name": None, **optimizer}
        loss = compile_config.get("loss")
        if isinstance(loss, dict):
            compile_config["loss"] = {"module": "keras.losses", "registered_name": None, **loss}
        entry["compile_config"] = {"loss_weights": None, "weighted_metrics": None, **compile_config}
    return entry


def save_keras_file(model, filepath):
    """``model.save("x.keras")``: a Keras 3 archive (config.json, metadata.json, model.weights.h5), written atomically."""
    from ..io.atomic import atomic_write

    h5py = _h5py()
    weights = io.BytesIO()
    with h5py.File(weights, "w") as store:
        _write_weights(model, store)
    archive = io.BytesIO()
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.writestr("config.json", json.dumps(_model_entry(model)))
        zf.writestr("model.weights.h5", weights.getvalue(), compress_type=zipfile.ZIP_STORED)
    atomic_write(filepath, archive.getvalue())


# ----- configs: Keras -> shendu ------------------------------------------------------------------------
class KerasFileError(ValueError):
    """A .keras file this shendu cannot read (its message names what and where)."""


def _keras_class(entry, custom_objects, where):
    from . import layers as keras_layers
    from .saving import get_registered_object

    name, registered = entry.get("class_name"), entry.get("registered_name")
    if registered and registered not in ("Functional",) and get_registered_object(registered, custom_objects):
        return get_registered_object(registered, custom_objects)
    if registered and registered.startswith("shendu>"):
        from .layers.operations import TensorOperation

        return TensorOperation
    klass = getattr(keras_layers, str(name), None)
    if isinstance(klass, type):
        return klass
    found = get_registered_object(str(name), custom_objects)
    if found is not None:
        return found
    raise KerasFileError(bounded_message(f"{where}: layer class {name!r} is not one shendu has (nor registered with "
                                         "keras.saving.register_keras_serializable / passed in custom_objects)"))


def _translate(value, custom_objects, where):
    """A Keras config value as shendu's constructors take it."""
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        return value.get("config", {}).get("name", "float32")
    if isinstance(value, dict) and value.get("module") == "keras.initializers":
        from . import initializers

        settings = {k: v for k, v in value.get("config", {}).items() if v is not None}
        simple = _snake(value["class_name"])
        if not settings:
            return simple
        try:
            return initializers.get({"class_name": value["class_name"], "config": settings})
        except (TypeError, ValueError):
            return simple
    if isinstance(value, dict) and value.get("module") == "keras.regularizers":
        from . import regularizers

        return regularizers.get({"class_name": value["class_name"], "config": value.get("config", {})})
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return _build_layer(value, custom_objects, where)
    return value


def _build_layer(entry, custom_objects, where):
    import inspect

    klass = _keras_class(entry, custom_objects, where)
    where = f"{where} ({entry.get('class_name')})"
    config = {k: _translate(v, custom_objects, where) for k, v in (entry.get("config") or {}).items()}
    if not getattr(klass, "_registered_name", None) and klass.__module__.startswith("shendu."):
        accepted = set()
        for cls in klass.__mro__:
            if "__init__" in vars(cls):
                accepted |= set(inspect.signature(vars(cls)["__init__"]).parameters)
        # Keras' keys shendu's constructors do not take (quantization_config, renorm, ...) are left out
        config = {k: v for k, v in config.items() if k in accepted}
        if "output_shape" in config and isinstance(config["output_shape"], list):
            config["output_shape"] = config["output_shape"][-1]
    try:
        layer = klass.from_config(config) if hasattr(klass, "from_config") else klass(**config)
    except KerasFileError:
        raise
    except Exception as error:  # a constructor refusing a value: say which layer and why
        raise KerasFileError(bounded_message(f"{where}: cannot build {entry.get('class_name')} from its config: "
                                             f"{error}")) from None  # fmt: skip
    return layer


def _input_from_entry(entry):
    from .layers.base import Input

    config = entry["config"]
    shape = config.get("batch_shape") or [None] + list(config.get("shape", []))
    return Input(batch_shape=tuple(shape), dtype=config.get("dtype"), name=config.get("name"))


def _functional_from_config(config, custom_objects, where):
    from .models import Model

    entries = config["layers"]
    layers, produced, pending = {}, {}, []
    for entry in entries:
        if entry.get("class_name") == "InputLayer":
            tensor = _input_from_entry(entry)
            produced[(entry["config"].get("name") or entry.get("name"), 0)] = [tensor]
            continue
        layers[entry["name"]] = _build_layer(entry, custom_objects, where)
        for index, node in enumerate(entry.get("inbound_nodes", [])):
            pending.append((entry["name"], index, node))

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node_index, tensor_index = value["config"]["keras_history"]
            outputs = produced.get((name, node_index))
            if outputs is None:
                raise LookupError
            return outputs[tensor_index]
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    while pending:
        progressed = False
        for item in list(pending):
            name, index, node = item
            try:
                args = [resolve(a) for a in node.get("args", [])]
                kwargs = resolve(node.get("kwargs", {}))
            except LookupError:
                continue
            out = layers[name](*args, **kwargs)
            produced[(name, index)] = list(out) if isinstance(out, (list, tuple)) else [out]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise KerasFileError(f"{where}: the layer graph cannot be rebuilt (nodes waiting on missing tensors: "
                                 f"{sorted({p[0] for p in pending})[:10]})")  # fmt: skip

    def ends(spec):
        if isinstance(spec, dict):  # named outputs
            return {key: ends(value) for key, value in spec.items()}
        triples = spec if spec and isinstance(spec[0], list) else [spec]
        tensors = [produced[(name, node)][index] for name, node, index in triples]
        return tensors if spec and isinstance(spec[0], list) else tensors[0]

    return Model(ends(config["input_layers"]), ends(config["output_layers"]), name=config.get("name"))


def _model_from_entry(entry, custom_objects, where):
    from .models import Sequential

    config = entry.get("config", {})
    if entry.get("class_name") == "Sequential":
        model = Sequential(name=config.get("name"))
        for layer_entry in config.get("layers", []):
            if layer_entry.get("class_name") == "InputLayer":
                model.add(_input_from_entry(layer_entry))
            else:
                model.add(_build_layer(layer_entry, custom_objects, where))
        build = entry.get("build_config") or {}
        if not model.built and build.get("input_shape"):
            model.build(tuple(build["input_shape"]))
        return model
    if entry.get("class_name") in ("Functional", "Model"):
        return _functional_from_config(config, custom_objects, where)
    raise KerasFileError(f"{where}: a {entry.get('class_name')!r} model (subclassed) cannot be rebuilt from a file; "
                         "build the model in code and load its weights")  # fmt: skip


def load_keras_file(filepath, custom_objects=None, compile=True):
    """A model from a Keras 3 ``.keras`` archive (written by Keras or by :func:`save_keras_file`)."""
    from .saving import custom_object_scope

    where = os.fspath(filepath)
    h5py = _h5py()
    with zipfile.ZipFile(filepath) as zf:
        names = set(zf.namelist())
        for needed in ("config.json", "model.weights.h5"):
            if needed not in names:
                raise KerasFileError(f"{where}: not a Keras model archive (no {needed})")
        for info in zf.infolist():
            if info.file_size > _MAX_MEMBER:
                raise KerasFileError(f"{where}: member {info.filename} declares {info.file_size:,} bytes")
        config = json.loads(zf.read("config.json"))
        weights = zf.read("model.weights.h5")
    with custom_object_scope(custom_objects or {}):
        model = _model_from_entry(config, custom_objects, f"{where}: config.json")
    with h5py.File(io.BytesIO(weights), "r") as store:
        _read_weights(model, store, where=f"{where}: model.weights.h5")
    compile_config = config.get("compile_config")
    if compile and compile_config:
        try:
            model.compile_from_config(compile_config)
        except (ValueError, TypeError, KeyError):  # a loss or metric shendu cannot name: leave it uncompiled
            model.compiled = False
    return model
