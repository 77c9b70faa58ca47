"""Whole models on disk: ``save_model(model, dir)`` and ``load_model(dir)``.

A model directory holds three files:

- ``config.json`` — the architecture as plain data: a tree of ``{"class_name": ..., "config":
  {constructor arguments}}`` nodes. Class names are looked up in a registry of shendu layer
  classes (every ``shendu.nn`` layer, the Keras dialect's layers, and the user's own ``Module``
  subclasses registered with :func:`register_model`); nothing from the file is ever imported,
  evaluated or called.
- ``model.safetensors`` — the ``state_dict``.
- ``metadata.json`` — format version, shendu version, metrics, class names, input shape.

Configs are derived generically: every :class:`~shendu.nn.Module` records the arguments it was
constructed with, so a registered layer needs no hand-written ``get_config``. Containers
(``Sequential``, ``ModuleList``, ``ModuleDict``) are stored by their children, so modules
appended after construction are kept. A layer may still define ``get_config()`` (then
``from_config(config)`` or ``cls(**config)`` rebuilds it) and ``get_build_config()`` /
``build_from_config()`` for weights created lazily on the first call (the Keras way).

Example:
    >>> shendu.save_model(model, "mlp", metrics={"accuracy": 0.93}, class_names=list("0123456789"))
    >>> model = shendu.load_model("mlp")
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import uuid
import warnings
from datetime import datetime, timezone

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _dtype
from .atomic import CommitError, commit_files, committed_paths
from .files import bounded_message, brief, read_regular_file
from .metadata import MetadataError, check_metadata
from .serialization import MAX_HEADER_BYTES, _read_file, load_bytes, save_bytes

__all__ = [
    "save_model",
    "load_model",
    "load_metadata",
    "register_layer",
    "register_model",
    "registered_layers",
    "model_to_config",
    "model_from_config",
    "ModelFormatError",
    "FORMAT_VERSION",
]

FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE = "config.json", "model.safetensors", "metadata.json"
#: Largest config.json / metadata.json accepted, in bytes.
MAX_JSON_BYTES = 8 * 1024 * 1024
#: Most layers (config nodes) a model file may declare.
MAX_LAYERS = 100_000
_MAX_DEPTH = 64
_CHILD_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_FORMAT = "shendu.model"
_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NODE_KEYS = {"class_name", "config", "args", "children", "build_config"}
_CONFIG_KEYS = {"format", "format_version", "save_id", "default_dtype", "model", "frozen"}
# Keys that, in other formats, name Python modules or callables to import (Keras' "module"/
# "registered_name", jsonpickle's "py/object", ...). shendu never follows them: a file that
# carries one is refused with a clear message rather than silently half-loaded.
_CODE_KEYS = {
    "module", "registered_name", "function", "fn", "func", "callable", "class", "__class__", "__module__",
    "__reduce__", "__import__", "import", "eval", "exec", "lambda", "code", "py/object", "py/reduce",
    "py/function", "py/type", "!!python/object",
}  # fmt: skip
# shendu packages whose import registers more layer classes (a fixed list: never a name from a file)
_PROVIDERS = ("shendu.keras", "shendu.vision.models")

if TYPE_CHECKING:
    from ..nn.module import Module


class ModelFormatError(ValueError):
    """A model directory cannot be loaded: unknown class, bad config, mismatched weights, ..."""

    def __init__(self, message):
        super().__init__(bounded_message(message))


# ----- registry --------------------------------------------------------------------------
_REGISTRY: dict[str, type] = {}
_NAMES: dict[type, str] = {}
_CONTAINERS: set[type] = set()
_builtins_loaded = False


def register_layer(cls=None, *, name=None, container=False):
    """Register a :class:`~shendu.nn.Module` subclass so models using it can be saved and loaded.

    Use as a decorator, bare or with arguments. The constructor arguments a module was built
    with are recorded automatically; they must be plain data (numbers, strings, lists, tuples,
    dicts, dtypes) or other registered modules.

    Args:
        cls: the class to register.
        name: the name written into config files. Defaults to the class name.
        container: store the module by its children (like ``Sequential``) instead of by its
            constructor arguments; its constructor must accept no arguments. Defaults to False.

    Example:
        >>> @shendu.io.register_model
        ... class Net(nn.Module):
        ...     def __init__(self, hidden=50):
        ...         super().__init__()
        ...         self.fc = nn.Linear(784, hidden)
    """

    def decorate(klass):
        from ..nn.module import Module

        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"register_layer expects a shendu.nn.Module subclass; got {klass!r}")
        key = klass.__name__ if name is None else name
        if not isinstance(key, str) or not _NAME_PATTERN.match(key):
            raise ValueError(f"register_layer: name must be a dotted identifier. Received: name={key!r}")
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not klass:
            same_definition = (existing.__module__, existing.__qualname__) == (klass.__module__, klass.__qualname__)
            if not same_definition:  # a class re-defined (a notebook cell run again) replaces itself
                raise ValueError(
                    f"register_layer: {key!r} is already registered for {existing.__module__}.{existing.__qualname__}; "
                    "pass name=... to register this class under another name"
                )
            _NAMES.pop(existing, None)
            _CONTAINERS.discard(existing)
        _REGISTRY[key] = klass
        _NAMES[klass] = key
        if container:
            _CONTAINERS.add(klass)
        return klass

    return decorate if cls is None else decorate(cls)


register_model = register_layer


def _load_builtins():
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    from .. import nn
    from ..nn.module import Module, ModuleDict, ModuleList, Sequential

    for value in vars(nn).values():
        if (
            isinstance(value, type)
            and issubclass(value, Module)
            and value.__module__.startswith("shendu.nn")
            and getattr(value, "_rebuilt_from_config", True)
            and value not in _NAMES
            and value.__name__ not in _REGISTRY
        ):
            register_layer(value)
    _CONTAINERS.update({Sequential, ModuleList, ModuleDict})


def registered_layers():
    """A sorted list of every registered class name."""
    _load_builtins()
    return sorted(_REGISTRY)


def _lookup(name, where):
    _load_builtins()
    if name not in _REGISTRY:
        import importlib
        import importlib.util

        for package in _PROVIDERS:
            if importlib.util.find_spec(package) is not None:
                importlib.import_module(package)
    if name not in _REGISTRY:
        raise ModelFormatError(
            f"{where}: unknown class_name {brief(name)}. Only registered layer classes can be loaded "
            f"(decorate your own Module subclasses with @shendu.io.register_model and define them before loading); "
            f"registered: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]


def _name_of(klass, where):
    _load_builtins()
    if klass not in _NAMES:
        raise TypeError(
            f"cannot save {where}: class {klass.__module__}.{klass.__qualname__} is not registered. "
            "Decorate it with @shendu.io.register_model so its configuration can be stored as plain data "
            "(or save only its weights with shendu.save(model.state_dict(), path))"
        )
    return _NAMES[klass]


# ----- module -> plain data -------------------------------------------------------------
def _encode_value(value, where):
    from ..nn.module import Module
    from ..tensor import Tensor

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _encode_value(float(value), where)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, _dtype.dtype):
        return {"__dtype__": value.name}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": _dtype.from_numpy_dtype(value).name}
    if isinstance(value, Module):
        return {"__layer__": _node(value, where, _model_dtype(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) and not k.startswith("__") for k in value):
            raise TypeError(f"cannot save {where}: dict keys must be strings not starting with '__'")
        return {k: _encode_value(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (Tensor, np.ndarray)):
        raise _ArrayArgument(where)
    raise TypeError(
        f"cannot save {where}: a {type(value).__name__} is not plain data. Constructor arguments of a saved "
        "model must be numbers, strings, lists, tuples, dicts, dtypes or registered modules "
        "(give the layer a name for a function, e.g. activation='relu', or define get_config())"
    )


class _ArrayArgument(TypeError):
    pass


def _own_float_dtype(module):
    for tensor in list(module._parameters.values()) + list(module._buffers.values()):
        if tensor is not None and tensor._array.dtype.kind == "f":
            return _dtype.from_numpy_dtype(tensor._array.dtype)
    return None


def _recorded_config(module, where, default_dtype):
    klass = type(module)
    args, kwargs = getattr(module, "_init_args", ((), {}))
    try:
        signature = inspect.signature(klass)
        bound = signature.bind(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"cannot save {where}: its recorded constructor arguments do not match {klass.__name__}'s signature ({error})"
        ) from None
    config, extra_args = {}, []
    for name, value in bound.arguments.items():
        parameter = signature.parameters[name]
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            extra_args = [_encode_value(v, f"{where}(*args[{i}])") for i, v in enumerate(value)]
            continue
        items = value.items() if parameter.kind is inspect.Parameter.VAR_KEYWORD else [(name, value)]
        for key, item in items:
            try:
                config[key] = _encode_value(item, f"{where}({key}=...)")
            except _ArrayArgument:
                # Initial weights given as an array (Embedding(_weight=matrix), ...): the trained
                # values are in model.safetensors, so the argument is dropped when its default is None.
                if parameter.kind is inspect.Parameter.VAR_KEYWORD or parameter.default is not None:
                    raise TypeError(
                        f"cannot save {where}: argument {key!r} is an array; define get_config() for this layer"
                    ) from None
    if "dtype" in signature.parameters and "dtype" not in config:
        # A layer built under another default dtype (set_default_dtype) keeps that dtype.
        own = _own_float_dtype(module)
        if own is not None and own != default_dtype:
            config["dtype"] = {"__dtype__": own.name}
    return config, extra_args


def _node(module, where, default_dtype):
    klass = type(module)
    node = {"class_name": _name_of(klass, where)}
    if klass in _CONTAINERS:
        node["config"] = {}
        node["children"] = [[name, _node(child, f"{where}.{name}", default_dtype)] for name, child in module.named_children()]
    elif callable(getattr(module, "get_config", None)):
        config = module.get_config()
        if not isinstance(config, dict):
            raise TypeError(f"cannot save {where}: get_config() must return a dict; got {type(config).__name__}")
        node["config"] = {k: _encode_value(v, f"{where}.get_config()[{k!r}]") for k, v in config.items()}
    else:
        node["config"], extra_args = _recorded_config(module, where, default_dtype)
        if extra_args:
            node["args"] = extra_args
    if callable(getattr(module, "get_build_config", None)):
        build_config = module.get_build_config()
        if build_config is not None:
            node["build_config"] = _encode_value(build_config, f"{where}.get_build_config()")
    return node


def _model_dtype(model):
    """The floating dtype the model was built in: that of its first floating parameter."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        if tensor._array.dtype.kind == "f":
            return _dtype.from_numpy_dtype(tensor._array.dtype)
    return _dtype.default_float


def model_to_config(model):
    """The architecture of ``model`` as plain data (what ``config.json`` holds)."""
    from ..nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"save_model expects a shendu.nn.Module; got {type(model).__name__}")
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    default_dtype = _model_dtype(model)
    config = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "default_dtype": default_dtype.name,
        "model": _node(model, type(model).__name__, default_dtype),
    }
    if frozen:
        config["frozen"] = frozen
    return config


# ----- plain data -> module --------------------------------------------------------------
def _check_keys(mapping, where):
    for key in mapping:
        if key in _CODE_KEYS or key.lower() in _CODE_KEYS:
            raise ModelFormatError(
                f"{where}: key {key!r} would name a Python module or function; shendu model files name only "
                "registered layer classes (through 'class_name') and never import or call code from a file"
            )


def _decode_value(value, where, depth):
    if depth > _MAX_DEPTH:
        raise ModelFormatError(f"{where}: nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [_decode_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    _check_keys(value, where)
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "__layer__":
            return _build(inner, where, depth + 1)
        if tag == "__tuple__" and isinstance(inner, list):
            return tuple(_decode_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(inner))
        if tag == "__dtype__":
            if inner not in _dtype._BY_NAME:
                raise ModelFormatError(f"{where}: unknown dtype {inner!r}")
            return _dtype._BY_NAME[inner]
        if tag == "__float__":
            if inner not in ("nan", "inf", "-inf"):
                raise ModelFormatError(f"{where}: bad __float__ value {inner!r}")
            return float(inner)
    for key in value:
        if key.startswith("__"):
            raise ModelFormatError(f"{where}: unknown tag {key!r}")
    return {k: _decode_value(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}


def _build(node, where, depth=0):
    if depth > _MAX_DEPTH:
        raise ModelFormatError(f"{where}: nested more than {_MAX_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise ModelFormatError(f"{where}: a layer must be a JSON object; got {type(node).__name__}")
    _check_keys(node, where)
    unknown = set(node) - _NODE_KEYS
    if unknown:
        raise ModelFormatError(f"{where}: unexpected key(s) {sorted(unknown)}; a layer has {sorted(_NODE_KEYS)}")
    name = node.get("class_name")
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ModelFormatError(f"{where}: class_name must be a registered class name; got {brief(name)}")
    _count_layer(where)
    where = f"{where} ({name})"
    klass = _lookup(name, where)
    config = node.get("config", {})
    args = node.get("args", [])
    if not isinstance(config, dict) or not isinstance(args, list):
        raise ModelFormatError(f"{where}: config must be an object and args a list")
    _check_keys(config, f"{where}.config")
    kwargs = {k: _decode_value(v, f"{where}.config[{k!r}]", depth + 1) for k, v in config.items()}
    positional = [_decode_value(v, f"{where}.args[{i}]", depth + 1) for i, v in enumerate(args)]
    try:
        from_config = getattr(klass, "from_config", None)
        if "children" in node:
            if klass not in _CONTAINERS:
                raise ModelFormatError(f"{where}: only container layers (Sequential, ModuleList, ...) have children")
            module = klass(*positional, **kwargs)
        elif callable(from_config) and callable(getattr(klass, "get_config", None)) and not positional:
            module = from_config(kwargs)
        else:
            module = klass(*positional, **kwargs)
    except (ModelFormatError, MemoryError):
        raise
    except Exception as error:  # a constructor refusing its arguments, whatever it raises
        raise ModelFormatError(f"{where}: cannot build {name} from config {brief(kwargs, 400)}: {brief(str(error), 400)}") from None
    children = node.get("children", [])
    if not isinstance(children, list):
        raise ModelFormatError(f"{where}: children must be a list of [name, layer] pairs")
    for index, pair in enumerate(children):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ModelFormatError(f"{where}: children[{index}] must be a [name, layer] pair")
        child = pair[0]
        if not _CHILD_NAME.match(child) or child in module._modules or (hasattr(module, child) and child not in module._modules):
            raise ModelFormatError(
                f"{where}: children[{index}] has the name {brief(child)}; a child's name is letters, digits and "
                "underscores, unique, and not an attribute of the layer (such as 'forward')"
            )
        module.add_module(child, _build(pair[1], f"{where}.{child}", depth + 1))
    if "build_config" in node:
        build = getattr(module, "build_from_config", None)
        if not callable(build):
            raise ModelFormatError(f"{where}: has a build_config but {name} has no build_from_config()")
        try:
            build(_decode_value(node["build_config"], f"{where}.build_config", depth + 1))
        except (ModelFormatError, MemoryError):
            raise
        except Exception as error:
            raise ModelFormatError(f"{where}: cannot build {name} for build_config {brief(node['build_config'])}: {brief(str(error), 400)}") from None
    return module


_LAYER_COUNT = [0]


def _count_layer(where):
    _LAYER_COUNT[0] += 1
    if _LAYER_COUNT[0] > MAX_LAYERS:
        raise ModelFormatError(f"{where}: the config declares more than {MAX_LAYERS:,} layers")


def model_from_config(config):
    """Rebuild a model (freshly initialised weights) from :func:`model_to_config`'s output."""
    from .. import set_default_dtype

    if not isinstance(config, dict):
        raise ModelFormatError(f"config must be a JSON object; got {type(config).__name__}")
    _check_keys(config, "config")
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise ModelFormatError(f"config: unexpected key(s) {sorted(unknown)}; expected {sorted(_CONFIG_KEYS)}")
    if config.get("format") != _FORMAT:
        raise ModelFormatError(f"config: format is {config.get('format')!r}; expected {_FORMAT!r}")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ModelFormatError(
            f"config: format_version {version!r} is not supported by this shendu (reads 1..{FORMAT_VERSION})"
        )
    dtype_name = config.get("default_dtype", "float32")
    if dtype_name not in ("float16", "float32", "float64"):
        raise ModelFormatError(f"config: default_dtype must be float16, float32 or float64; got {dtype_name!r}")
    if "model" not in config:
        raise ModelFormatError("config: no 'model' entry")
    previous = _dtype.default_float
    set_default_dtype(dtype_name)
    _LAYER_COUNT[0] = 0
    try:
        model = _build(config["model"], "model")
    finally:
        _dtype.default_float = previous
    frozen = config.get("frozen", [])
    if not (isinstance(frozen, list) and all(isinstance(n, str) for n in frozen)):
        raise ModelFormatError("config: frozen must be a list of parameter names")
    params = dict(model.named_parameters())
    for name in frozen:
        if name not in params:
            raise ModelFormatError(f"config: frozen parameter {name!r} does not exist in the model")
        params[name].requires_grad_(False)
    return model


# ----- files -----------------------------------------------------------------------------
def _infer_input_shape(model):
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, int) for d in shape):  # not several inputs
        return [None if d is None else int(d) for d in shape]
    for module in model.modules():
        if not module._modules:
            features = getattr(module, "in_features", None)
            return [int(features)] if isinstance(features, int) else None
    return None


def _plain_json(value, where):
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_model: {where} must be plain JSON data (finite numbers, strings, lists, dicts): {error}") from None


def _metric_values(metrics):
    """Metrics as JSON numbers; a non-finite value (a NaN loss) is stored as null, with a warning."""
    values = {}
    for key, value in (metrics or {}).items():
        number = float(value)
        if not math.isfinite(number):
            warnings.warn(f"save_model: metric {key!r} is {number}; it is stored as null", RuntimeWarning, stacklevel=3)
            number = None
        values[str(key)] = number
    return values


def save_model(model: Module, directory: str | os.PathLike, *, metrics: dict[str, float] | None = None, class_names: list[str] | None = None, input_shape: Sequence[int] | None = None, metadata: dict[str, Any] | None = None) -> str | os.PathLike:
    """Save a whole model (architecture, weights, metadata) into ``directory``.

    The three files are committed as one (:func:`shendu.io.atomic.commit_files`): a save
    interrupted at any moment, even by SIGKILL, leaves either the previous model or the new one,
    never a mixture; other files in the folder are left as they are. A non-finite metric (a NaN
    loss) is stored as null, with a RuntimeWarning.

    Args:
        model: a Module built from registered layer classes.
        directory: created if needed.
        metrics: e.g. ``{"accuracy": 0.93}``. Defaults to None.
        class_names: the label of each output class. Defaults to None.
        input_shape: the shape of one sample (no batch dimension). Defaults to the first
            layer's ``in_features`` when it has one.
        metadata: any extra plain-JSON information. Defaults to None.

    Returns:
        the directory path.
    """
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise FileExistsError(f"save_model: {directory} exists and is not a directory")
    config = model_to_config(model)
    save_id = uuid.uuid4().hex
    config = {**config, "save_id": save_id}
    from .. import __version__

    info = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "shendu_version": __version__,
        "save_id": save_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_class": config["model"]["class_name"],
        "num_parameters": int(sum(p.numel() for p in model.parameters())),
        "input_shape": _plain_json(
            list(input_shape) if input_shape is not None else _infer_input_shape(model), "input_shape"
        ),
        "class_names": _plain_json(list(class_names) if class_names is not None else None, "class_names"),
        "metrics": _metric_values(metrics),
        "extra": _plain_json(metadata or {}, "metadata"),
    }
    weights = save_bytes(model.state_dict(), metadata={"shendu.save_id": save_id})
    commit_files(directory, {
        WEIGHTS_FILE: weights,
        CONFIG_FILE: json.dumps(config, indent=2, allow_nan=False) + "\n",
        METADATA_FILE: json.dumps(info, indent=2, allow_nan=False) + "\n",
    })  # fmt: skip
    return directory


def _read_json(path, shown=None):
    """A JSON file of a model folder: a regular file of at most :data:`MAX_JSON_BYTES` bytes."""
    shown = shown or path
    try:
        raw = read_regular_file(path, MAX_JSON_BYTES, os.path.basename(shown), error=ModelFormatError)
    except FileNotFoundError:
        raise FileNotFoundError(f"{shown} is missing: not a shendu model directory (see shendu.save_model)") from None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise ModelFormatError(f"{shown}: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ModelFormatError(f"{shown} is not valid JSON ({brief(str(error), 300)}); the file may be truncated") from None


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _model_paths(directory):
    try:
        return committed_paths(directory, (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE))
    except CommitError as error:
        raise ModelFormatError(str(error)) from None


def _checked_metadata(path, shown):
    info = _read_json(path, shown)
    try:
        return check_metadata(info, shown)
    except MetadataError as error:
        raise ModelFormatError(str(error)) from None


def load_metadata(directory):
    """The ``metadata.json`` of a model directory, as a dict (its fields checked)."""
    directory = os.fspath(directory)
    return _checked_metadata(_model_paths(directory)[METADATA_FILE], os.path.join(directory, METADATA_FILE))


def load_model(directory: str | os.PathLike, *, with_metadata: bool = False, max_header_bytes: int = MAX_HEADER_BYTES) -> Any:
    """Rebuild a model saved by :func:`save_model`; it is returned in eval mode.

    Nothing is allocated on the config's word alone: the weights file's header is read and
    validated first; the layers are then built without initialising their weights, under a
    budget of the bytes that file really holds, and every declared name, shape and dtype is
    checked against the header before the tensor data is read. Only regular files are read,
    each within a size limit.

    Args:
        directory: the model directory.
        with_metadata: also return the ``metadata.json`` dict. Defaults to False.
        max_header_bytes: the safetensors header size limit. Defaults to 16 MiB.

    Returns:
        the model, or ``(model, metadata)`` with ``with_metadata=True``.

    Raises:
        ModelFormatError: unknown class name, a key naming code, weights that do not fit the
            architecture (names, shapes or dtypes), files from different saves, a bad metadata field.
        SerializationError: a truncated or malformed weights file.
        FileNotFoundError: a file is missing.
        NotARegularFileError: a FIFO, device or directory where a file should be.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"load_model: no model directory at {directory}")
    for attempt in range(3):  # a save committing meanwhile may move a staged file away: look again
        paths = _model_paths(directory)
        try:
            model, info = _load_files(directory, paths, with_metadata, max_header_bytes)
        except FileNotFoundError:
            if attempt < 2 and paths != _model_paths(directory):
                continue
            raise
        break
    model.eval()
    return (model, info) if with_metadata else model


def _load_files(directory, paths, with_metadata, max_header_bytes):
    """(model, metadata) from the files ``paths`` of a model folder; see :func:`load_model`."""
    from ..nn import init
    from ..nn.module import AllocationBudgetError, allocation_budget

    shown = {name: os.path.join(directory, name) for name in paths}
    config = _read_json(paths[CONFIG_FILE], shown[CONFIG_FILE])
    has_metadata = with_metadata or os.path.lexists(paths[METADATA_FILE])
    info = _checked_metadata(paths[METADATA_FILE], shown[METADATA_FILE]) if has_metadata else {}
    save_id = config.get("save_id") if isinstance(config, dict) else None
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k != "save_id"}
    if save_id is not None and info.get("save_id") not in (None, save_id):
        raise ModelFormatError(f"{directory}: {METADATA_FILE} and {CONFIG_FILE} come from different saves (an interrupted copy?)")
    built = {}

    def build_and_check(header):
        """Runs once the weights header is validated, before any tensor data is read."""
        file_id = header.metadata.get("shendu.save_id")
        if save_id is not None and file_id is not None and file_id != save_id:
            raise ModelFormatError(f"{directory}: {CONFIG_FILE} and {WEIGHTS_FILE} come from different saves (an interrupted copy?)")
        try:
            with init.skip_init(), allocation_budget(2 * header.data_len + (64 << 20), shown[CONFIG_FILE]):
                built["model"] = model_from_config(config)
        except ModelFormatError as error:
            raise ModelFormatError(f"{shown[CONFIG_FILE]}: {error}") from None
        except AllocationBudgetError as error:
            raise ModelFormatError(str(error)) from None
        except MemoryError:
            raise ModelFormatError(f"{shown[CONFIG_FILE]}: declares layers larger than this machine's memory") from None
        _check_shapes(built["model"], header.shapes(), shown[WEIGHTS_FILE])

    if not os.path.lexists(paths[WEIGHTS_FILE]):
        raise FileNotFoundError(f"{shown[WEIGHTS_FILE]} is missing")
    _, state = _read_file(paths[WEIGHTS_FILE], max_header_bytes, check=build_and_check)
    model = built["model"]
    model.load_state_dict(state)
    return model, info


def _check_shapes(model, declared, where):
    """Compare the model's state entries with ``{name: (shape, dtype)}`` from a weights header."""
    own = model.state_dict()
    missing = [k for k in own if k not in declared]
    unexpected = [k for k in declared if k not in own]
    if missing or unexpected:
        raise ModelFormatError(
            f"{where} does not fit the architecture in {CONFIG_FILE}: missing {brief(missing, 600)}, unexpected {brief(unexpected, 600)}"
        )
    for key, tensor in own.items():
        shape, dtype = declared[key]
        if shape != tuple(tensor.shape):
            raise ModelFormatError(f"{where}: {key} has shape {shape} but the architecture needs {tuple(tensor.shape)}")
        if np.dtype(dtype).newbyteorder("=") != tensor._array.dtype:
            raise ModelFormatError(f"{where}: {key} has dtype {np.dtype(dtype).name} but the architecture needs {tensor._array.dtype}")


def _check_state(model, state, where):
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ModelFormatError(f"{where}: expected a flat state_dict of tensors")
    _check_shapes(model, {k: (tuple(v.shape), v.dtype) for k, v in state.items()}, where)


def model_state_to_bytes(model):
    """(config dict, safetensors bytes) for a model: its complete description, as data."""
    return model_to_config(model), save_bytes(model.state_dict())


def model_from_state_bytes(config, weights):
    """The inverse of :func:`model_state_to_bytes`."""
    model = model_from_config(config)
    state = load_bytes(weights, as_numpy=True)
    _check_state(model, state, "weights")
    model.load_state_dict(state)
    return model


def pack_fitted_model(state):
    """A copy of an estimator's ``__dict__`` whose fitted ``model_`` is replaced by plain data.

    scikit-learn and joblib copy estimators between processes; the model then travels as its
    config and safetensors bytes, never as pickled objects.
    """
    from ..nn.module import Module

    state = dict(state)
    if isinstance(state.get("model_"), Module):
        config, weights = model_state_to_bytes(state["model_"])
        state["model_"] = {"shendu_config": config, "shendu_weights": weights}
    return state


def unpack_fitted_model(state):
    """The inverse of :func:`pack_fitted_model`."""
    packed = state.get("model_")
    if isinstance(packed, dict) and "shendu_config" in packed:
        state = {**state, "model_": model_from_state_bytes(packed["shendu_config"], packed["shendu_weights"])}
    return state
