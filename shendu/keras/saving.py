"""``keras.saving``: registering custom classes, serialising objects to plain data and back.

A class decorated with :func:`register_keras_serializable` (or passed in ``custom_objects`` /
inside :func:`custom_object_scope`) can be saved in a model and rebuilt from its ``get_config``;
nothing else is ever instantiated from a file — no code runs from a file.

Example:
    >>> @keras.saving.register_keras_serializable(package="MyLayers")
    ... class Scale(keras.layers.Layer):
    ...     def __init__(self, factor=2.0, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.factor = factor
    ...     def call(self, x):
    ...         return x * self.factor
    ...     def get_config(self):
    ...         return {**super().get_config(), "factor": self.factor}
"""

import contextlib

from ..io import model_files

__all__ = [
    "register_keras_serializable", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "serialize_keras_object", "deserialize_keras_object", "CustomObjectScope",
    "load_model", "save_model",
]  # fmt: skip

_CUSTOM_OBJECTS: dict = {}  # registered name -> class or function


def _register_class(obj, key):
    from ..nn.module import Module

    if isinstance(obj, type) and issubclass(obj, Module):
        model_files.register_layer(obj, name=_io_name(key))


def _io_name(key):
    """The name shendu.io records: ``keras.custom.<package>.<Name>`` (a dotted identifier)."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "." for c in key.replace(">", "."))
    return "keras.custom." + ".".join(part for part in cleaned.split(".") if part)


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a class or function known by ``"package>name"`` so models using it can be saved and loaded."""

    def decorate(obj):
        key = f"{package}>{name or obj.__name__}"
        _CUSTOM_OBJECTS[key] = obj
        obj._registered_name = key
        _register_class(obj, key)
        return obj

    return decorate


def get_custom_objects():
    """The global dict of registered objects (adding to it registers too)."""
    return _CUSTOM_OBJECTS


def get_registered_name(obj):
    return getattr(obj, "_registered_name", None) or obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    for table in (custom_objects or {}, _CUSTOM_OBJECTS, module_objects or {}):
        if name in table:
            return table[name]
    return None


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """Within the ``with`` block, the classes in ``custom_objects`` ({name: class}) can be deserialised."""
    added = []
    for key, obj in (custom_objects or {}).items():
        if key not in _CUSTOM_OBJECTS:
            _CUSTOM_OBJECTS[key] = obj
            added.append(key)
        _register_class(obj, getattr(obj, "_registered_name", None) or key)
    try:
        yield
    finally:
        for key in added:
            _CUSTOM_OBJECTS.pop(key, None)


CustomObjectScope = custom_object_scope


def serialize_keras_object(obj):
    """Plain data describing ``obj``: a layer or model (class and config), a built-in loss/metric/optimizer,
    or plain values as they are."""
    from ..nn.module import Module
    from . import losses, metrics, optimizers

    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Module):
        node = model_files._node(obj, type(obj).__name__, model_files._model_dtype(obj))
        return {"module": "shendu", "class_name": node["class_name"], "config": node, "registered_name": node["class_name"]}
    if isinstance(obj, losses.Loss):
        return {"module": "keras.losses", **losses.serialize(obj)}
    if isinstance(obj, metrics.Metric):
        return metrics.serialize(obj)
    if isinstance(obj, optimizers.Optimizer):
        return {"module": "keras.optimizers", **optimizers.serialize(obj)}
    if callable(obj):
        return get_registered_name(obj)
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object :func:`serialize_keras_object` described (classes only from shendu and the registry)."""
    from . import losses, metrics, optimizers

    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        return found if found is not None else config
    if isinstance(config, list):
        return [deserialize_keras_object(v, custom_objects) for v in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not deserialize {config!r}: expected a dict with 'class_name' and 'config'")
    module = config.get("module")
    with custom_object_scope(custom_objects or {}):
        if module == "shendu":
            return model_files._build(config["config"], config["class_name"])
        if module == "keras.losses":
            return losses.get(config)
        if module == "keras.metrics":
            return metrics.deserialize(config, custom_objects)
        if module == "keras.optimizers":
            return optimizers.get(config)
        klass = get_registered_object(config["class_name"], custom_objects)
        if klass is None:
            raise ValueError(f"Could not locate class {config['class_name']!r}. Make sure custom classes are decorated "
                             "with `@keras.saving.register_keras_serializable()` or passed in custom_objects")  # fmt: skip
        return klass.from_config(config.get("config", {}))


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    from .models import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    return model.save(filepath, overwrite=overwrite, **kwargs)
