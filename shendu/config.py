"""Training configs for the ``shendu`` command: reading, overriding, validating, building.

A config is plain data (YAML with the ``[config]`` extra, or JSON) with these sections; every
field has a default, and the defaults are the seed MLP of 000 (784-500-10, ReLU, cross-entropy,
Adam 1e-3, batch 100, 5 epochs on the embedded digits)::

    name: mnist-mlp            # the run's name: the default output folder is runs/<name>
    seed: 0
    dialect: torch             # layer names from shendu.nn (torch) or shendu.keras.layers (keras)
    data: {source: digits, layout: flat, normalize: scale, validation: test}
    model:
      layers:
        - {type: Linear, in_features: 784, out_features: 500}
        - ReLU
        - {type: Linear, in_features: 500, out_features: 10}
    loss: cross_entropy
    metrics: [accuracy]
    optimizer: {name: adam, lr: 0.001}
    schedule: null             # or {name: step, step_size: 2, gamma: 0.5}, cosine, exponential, plateau, warmup, ...
    training: {epochs: 5, batch_size: 100}
    callbacks: {early_stopping: null, terminate_on_nan: true}
    cv: {folds: 3}
    search: null               # {grid: {optimizer.lr: [0.001, 0.01], training.batch_size: [32, 100]}, folds: 3}

:func:`validate` checks everything before any work starts — unknown keys, wrong types, values
out of range, layer and optimiser arguments against their signatures, files that cannot be read
— and raises :class:`ConfigError` naming the field path and what is allowed. It returns the
resolved config (every default filled in), which :func:`build_model` and friends turn into
objects.
"""

import copy
import inspect
import json
import numbers
import os
import re

from .io.files import brief

__all__ = [
    "ConfigError", "load_file", "apply_overrides", "parse_override", "validate", "resolve", "merge", "defaults", "build_model",
    "build_optimizer", "build_scheduler", "build_loss", "packaged_configs", "resolve_config_path", "dump",
]  # fmt: skip

PACKAGED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")


class ConfigError(ValueError):
    """A config that cannot be used; ``path`` is the dotted field path (``training.epochs``)."""

    def __init__(self, path, message):
        from .io.files import bounded_message

        self.path, self.message = path, bounded_message(message)
        super().__init__(f"{path}: {self.message}" if path else self.message)


#: Largest config file read, in bytes.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: Most YAML nodes a config may stand for once its aliases are expanded (a "billion laughs" file is
#: a few hundred bytes that expand to billions).
MAX_YAML_NODES = 100_000


# ----- reading --------------------------------------------------------------------------------
def _yaml():
    try:
        import yaml
    except ImportError:
        return None
    return yaml


def packaged_configs():
    """Names of the configs shipped with shendu (``shendu train NAME`` finds them)."""
    return sorted({os.path.splitext(f)[0] for f in os.listdir(PACKAGED) if f.endswith((".yaml", ".json"))})


def resolve_config_path(spec):
    """A path as given, or the packaged config of that name (``mnist-cnn`` → shendu/configs/mnist-cnn.yaml)."""
    if os.path.exists(spec) or os.sep in spec or "/" in spec:
        return spec
    stem = os.path.splitext(spec)[0]
    for ext in ((".yaml", ".json") if _yaml() is not None else (".json", ".yaml")):
        candidate = os.path.join(PACKAGED, stem + ext)
        if os.path.exists(candidate):
            return candidate
    return spec


def load_file(path):
    """Read a YAML or JSON config file into a dict (:class:`ConfigError` with a clear message if it cannot)."""
    from .io.files import read_regular_file

    path = os.fspath(path)
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES, "config file").decode("utf-8")
    except FileNotFoundError:
        shipped = ", ".join(packaged_configs())
        raise ConfigError("", f"config file {path!r} does not exist (packaged configs: {shipped})") from None
    except (OSError, ValueError) as error:  # not a regular file, over the limit, not UTF-8
        raise ConfigError("", f"cannot read config file {path!r}: {error}") from None
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json":
        data = _parse_json(text, path)
    elif extension in (".yaml", ".yml"):
        data = _parse_yaml(text, path)
    else:  # JSON is YAML too: try the strict one first
        try:
            data = json.loads(text)
        except ValueError:
            data = _parse_yaml(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("", f"config file {path!r} must hold a mapping of sections at the top; got a {type(data).__name__}")
    return data


def _parse_json(text, path):
    try:
        return json.loads(text)
    except ValueError as error:
        raise ConfigError("", f"config file {path!r} is not valid JSON: {error}") from None


_LOADER = None


def _safe_load(yaml, text):
    """``yaml.safe_load`` that reads ``1e-3`` as a number (PyYAML follows YAML 1.1, where it is text)."""
    global _LOADER
    if _LOADER is None:

        class Loader(yaml.SafeLoader):
            def compose_document(self):
                node = super().compose_document()
                _check_expansion(yaml, node)
                return node

        Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                                     list("-+0123456789"))  # fmt: skip
        _LOADER = Loader
    return yaml.load(text, Loader=_LOADER)


def _check_expansion(yaml, root):
    """Refuse a YAML document whose aliases expand to more than :data:`MAX_YAML_NODES` nodes, or refer to themselves.

    The size of each node, counted with every alias expanded, is worked out once per node
    (shared nodes are memoised), so the check costs the size of the file, not of its expansion.
    """

    def children(node):
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []

    sizes = {id(root): None}  # None: being counted (on the current path)
    stack = [(root, iter(children(root)))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children(node)), MAX_YAML_NODES + 1)
        elif id(child) in sizes:
            if sizes[id(child)] is None:
                raise yaml.YAMLError("an alias refers to the node that contains it (a recursive structure)")
        else:
            sizes[id(child)] = None
            stack.append((child, iter(children(child))))
    if sizes[id(root)] > MAX_YAML_NODES:
        raise yaml.YAMLError(f"its aliases expand to more than {MAX_YAML_NODES:,} values (refused: a config is small)")


def _parse_yaml(text, path):
    yaml = _yaml()
    if yaml is None:
        raise ConfigError("", f"reading YAML config {path!r} needs PyYAML: pip install 'shendu[config]' (or give a .json config)")
    try:
        return _safe_load(yaml, text)
    except yaml.YAMLError as error:
        raise ConfigError("", f"config file {path!r} is not valid YAML: {error}") from None


def dump(config):
    """The config as YAML text when PyYAML is there, else JSON."""
    yaml = _yaml()
    if yaml is not None:
        return yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100)
    return json.dumps(config, indent=2) + "\n"


# ----- --set key=value ----------------------------------------------------------------------------
_PATH_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$|^\d+$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\d+)|\[\d+\])*$")


def parse_override(text):
    """``"training.epochs=3"`` → (["training", "epochs"], 3). Values are read as YAML (or JSON) scalars/lists."""
    if "=" not in text:
        raise ConfigError("", f"--set expects key=value (e.g. training.epochs=3); got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    parts = re.split(r"\.|\[", key.replace("]", ""))
    if not _KEY.match(key) or not all(_PATH_PART.match(p) for p in parts):
        raise ConfigError("", f"--set {text!r}: {key!r} is not a field path such as training.epochs or model.layers.0.out_features")
    return parts, _parse_value(raw.strip())


def _parse_value(raw):
    yaml = _yaml()
    if yaml is not None:
        try:
            return _safe_load(yaml, raw) if raw else None
        except yaml.YAMLError:
            return raw
    try:
        return json.loads(raw)
    except ValueError:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("null", "none", "~", ""):
            return None
        return raw


def apply_overrides(config, overrides):
    """A copy of ``config`` with each ``(parts, value)`` set (dicts created along the way)."""
    config = copy.deepcopy(config)
    for parts, value in overrides:
        node = config
        for depth, part in enumerate(parts[:-1]):
            path = ".".join(parts[: depth + 1])
            key = int(part) if isinstance(node, list) and part.isdigit() else part
            if isinstance(node, list):
                if not isinstance(key, int) or not -len(node) <= key < len(node):
                    raise ConfigError(path, f"no item {part} in a list of {len(node)}")
                if not isinstance(node[key], (dict, list)):
                    node[key] = {"type": node[key]} if isinstance(node[key], str) else {}
            elif isinstance(node, dict):
                if key not in node or node[key] is None:
                    node[key] = [] if parts[depth + 1].isdigit() else {}
                elif isinstance(node[key], str) and parts[0] == "model":
                    node[key] = {"type": node[key]}  # a layer given by name gains arguments
            else:
                raise ConfigError(path, f"cannot set a field inside a {type(node).__name__}")
            node = node[key]
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit():
                raise ConfigError(".".join(parts), "this is a list: give an item number")
            index = int(last)
            if index == len(node):
                node.append(value)
            elif 0 <= index < len(node):
                node[index] = value
            else:
                raise ConfigError(".".join(parts), f"no item {index} in a list of {len(node)}")
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ConfigError(".".join(parts[:-1]), f"cannot set a field inside a {type(node).__name__}")
    return config


# ----- the schema --------------------------------------------------------------------------------
def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, numbers.Integral):
        return f"the integer {value}"
    if isinstance(value, numbers.Real):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {brief(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Field:
    nullable = False

    def __init__(self, default=None, nullable=False, help=""):
        self.default, self.nullable, self.help = default, nullable, help

    def check(self, value, path):
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(path, f"expected {self.describe()}; got null")
        return self._check(value, path)

    def describe(self):
        raise NotImplementedError

    def _check(self, value, path):
        raise NotImplementedError


class Int(_Field):
    def __init__(self, default=None, low=None, high=None, **kwargs):
        super().__init__(default, **kwargs)
        self.low, self.high = low, high

    def describe(self):
        if self.low is not None and self.high is not None:
            return f"an integer from {self.low} to {self.high}"
        if self.low is not None:
            return f"an integer ≥ {self.low}"
        return "an integer"

    def _check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ConfigError(path, f"expected {self.describe()}; got {value}")
        return int(value)


class Number(_Field):
    def __init__(self, default=None, low=None, high=None, low_open=False, high_open=False, **kwargs):
        super().__init__(default, **kwargs)
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def describe(self):
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '≥'} {self.low}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '≤'} {self.high}")
        return "a number" + (" " + " and ".join(parts) if parts else "")

    def _check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(path, f"expected {self.describe()}; got {value}")
        low_bad = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        high_bad = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if low_bad or high_bad:
            raise ConfigError(path, f"expected {self.describe()}; got {value:g}")
        return value


class Bool(_Field):
    def describe(self):
        return "true or false"

    def _check(self, value, path):
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false; got {_kind(value)}")
        return value


class Str(_Field):
    def __init__(self, default=None, choices=None, pattern=None, max_length=4096, **kwargs):
        super().__init__(default, **kwargs)
        self.choices, self.pattern, self.max_length = choices, pattern, max_length

    def describe(self):
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return "a text"

    def _check(self, value, path):
        if not isinstance(value, str):
            raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        if self.choices and value not in self.choices:
            raise ConfigError(path, f"expected {self.describe()}; got {brief(value)}")
        if len(value) > self.max_length:
            raise ConfigError(path, f"a text of {len(value):,} characters; at most {self.max_length:,} are allowed here")
        if self.pattern and not re.match(self.pattern, value):
            raise ConfigError(path, f"{brief(value)} is not allowed here (letters, digits, '.', '_' and '-' only)")
        return value


class StrOrInt(_Field):
    def describe(self):
        return "a column name or number"

    def _check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (str, numbers.Integral)):
            raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        return value


class ListOf(_Field):
    def __init__(self, item, default=None, min_items=0, **kwargs):
        super().__init__(default, **kwargs)
        self.item, self.min_items = item, min_items

    def describe(self):
        return f"a list of {self.item.describe()}"

    def _check(self, value, path):
        if not isinstance(value, list):
            raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        if len(value) < self.min_items:
            raise ConfigError(path, f"expected at least {self.min_items} item(s); got {len(value)}")
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]


class Section(_Field):
    """A mapping with known keys; ``enabled_by_true``: ``true`` means all defaults, ``false`` null."""

    def __init__(self, fields, nullable=False, default=None, enabled_by_true=False):
        super().__init__(default, nullable)
        self.fields, self.enabled_by_true = fields, enabled_by_true

    def describe(self):
        return "a mapping with keys " + ", ".join(self.fields)

    def defaults(self):
        out = {}
        for key, field in self.fields.items():
            if isinstance(field, Section) and not field.nullable:
                out[key] = field.defaults()
            else:
                out[key] = copy.deepcopy(field.default)
        return out

    def check(self, value, path):
        if self.enabled_by_true and isinstance(value, bool):
            return self.defaults() if value else None
        return super().check(value, path)

    def _check(self, value, path):
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected {self.describe()}; got {_kind(value)}")
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            key = unknown[0]
            raise ConfigError(_join(path, key), f"unknown key; allowed here: {', '.join(self.fields)}")
        out = {}
        for key, field in self.fields.items():
            if key in value:
                out[key] = field.check(value[key], _join(path, key))
            elif isinstance(field, Section) and not field.nullable:
                out[key] = field.check({}, _join(path, key))
            else:
                out[key] = copy.deepcopy(field.default)
        return out


class Mapping(_Field):
    """A free mapping (checked by the code that uses it, e.g. a search grid)."""

    def describe(self):
        return "a mapping"

    def _check(self, value, path):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ConfigError(path, f"expected a mapping; got {_kind(value)}")
        return copy.deepcopy(value)


class AnyValue(_Field):
    def describe(self):
        return "a value"

    def _check(self, value, path):
        return copy.deepcopy(value)


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


SOURCES = ("digits", "mnist", "fashion-mnist", "csv", "text")
LOSSES = ("cross_entropy", "sparse_categorical_crossentropy", "categorical_crossentropy", "nll", "mse", "mae",
          "huber", "bce", "bce_with_logits")  # fmt: skip
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
SCHEDULES = {"step": "StepLR", "multistep": "MultiStepLR", "exponential": "ExponentialLR",
             "cosine": "CosineAnnealingLR", "cosine_restarts": "CosineAnnealingWarmRestarts",
             "plateau": "ReduceLROnPlateau", "warmup": "LinearLR", "linear": "LinearLR", "constant": "ConstantLR",
             "polynomial": "PolynomialLR", "onecycle": "OneCycleLR"}  # fmt: skip
METRICS = ("accuracy", "acc", "top5_accuracy", "top3_accuracy", "precision", "recall", "f1", "mae", "mse", "rmse", "r2")

SEED_LAYERS = [
    {"type": "Linear", "in_features": 784, "out_features": 500},
    "ReLU",
    {"type": "Linear", "in_features": 500, "out_features": 10},
]

SCHEMA = Section({
    "name": Str("mnist-mlp", pattern=r"^[A-Za-z0-9._-]+$", max_length=100),
    "seed": Int(0, low=0, high=2**32 - 1),
    "dialect": Str("torch", choices=("torch", "keras")),
    "data": Section({
        "source": Str("digits", choices=SOURCES),
        "path": Str(None, nullable=True),
        "test_path": Str(None, nullable=True),
        "download": Bool(False),
        "layout": Str("flat", choices=("flat", "image")),
        "normalize": Str("scale", choices=("scale", "standardize", "none")),
        "target": StrOrInt(None, nullable=True),
        "text_column": Str("text"),
        "num_words": Int(10000, low=2),
        "maxlen": Int(100, low=1),
        "test_split": Number(0.2, low=0, high=1, low_open=True, high_open=True),
        "validation": Str("test", choices=("test", "split", "none")),
        "validation_split": Number(0.1, low=0, high=1, low_open=True, high_open=True),
        "limit": Int(None, low=1, nullable=True),
        "test_limit": Int(None, low=1, nullable=True),
    }),
    "model": Section({"layers": ListOf(AnyValue(), default=SEED_LAYERS, min_items=1)}),
    "loss": Str("cross_entropy", choices=LOSSES),
    "metrics": ListOf(Str(choices=METRICS), default=["accuracy"]),
    "optimizer": Mapping({"name": "adam", "lr": 0.001}),
    "schedule": Mapping(None, nullable=True),
    "training": Section({
        "epochs": Int(5, low=1, high=1_000_000),
        "batch_size": Int(100, low=1, high=1_000_000),
        "grad_clip": Number(None, low=0, low_open=True, nullable=True),
        "shuffle": Bool(True),
        "verbose": Int(1, low=0, high=2),
        "checkpoint": Bool(False),
        "resume": Bool(False),
    }),
    "callbacks": Section({
        "early_stopping": Section({
            "monitor": Str("val_loss"),
            "patience": Int(3, low=0),
            "min_delta": Number(0.0, low=0),
            "mode": Str("auto", choices=("auto", "min", "max")),
            "restore_best_weights": Bool(True),
        }, nullable=True, enabled_by_true=True),
        "terminate_on_nan": Bool(True),
        "gradient_monitor": Bool(False),
        "tensorboard": Bool(False),
    }),
    "cv": Section({"folds": Int(3, low=2, high=100)}),
    "search": Section({
        "grid": Mapping({}),
        "folds": Int(3, low=2, high=100),
        "scoring": Str(None, nullable=True),
    }, nullable=True),
    "dask": Section({"scheduler": Str(None, nullable=True, max_length=500)}, nullable=True),
})  # fmt: skip


def defaults():
    """The resolved default config: the seed MLP on the embedded digits."""
    return validate({}, build=False)


def merge(base, config):
    """``config`` laid over ``base`` section by section (lists, values and free mappings replace)."""
    if not isinstance(config, dict):
        return copy.deepcopy(config)
    out = copy.deepcopy(base)
    for key, value in config.items():
        field = SCHEMA.fields.get(key)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and isinstance(field, Section):
            inner = dict(out[key])
            for k, v in value.items():
                sub = field.fields.get(k)
                if isinstance(v, dict) and isinstance(inner.get(k), dict) and isinstance(sub, Section):
                    inner[k] = {**inner[k], **copy.deepcopy(v)}
                else:
                    inner[k] = copy.deepcopy(v)
            out[key] = inner
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve(config, overrides=(), build=True):
    """Defaults, then ``config``, then the ``--set`` overrides; validated (see :func:`validate`)."""
    if not isinstance(config, dict):
        raise ConfigError("", f"a config is a mapping of sections; got {_kind(config)}")
    return validate(apply_overrides(merge(defaults(), config), overrides), build=build)


# ----- layers, optimiser, schedule: arguments against signatures ---------------------------------
def _layer_registry(dialect):
    if dialect == "keras":
        try:
            from .keras import layers as keras_layers
        except ImportError as error:
            raise ConfigError("dialect", f"the Keras dialect is not available in this shendu ({error}); use dialect: torch") from None
        namespace = vars(keras_layers)
    else:
        from . import nn

        namespace = vars(nn)
    from .nn.module import Module, ModuleDict, ModuleList, Sequential

    return {
        name: value for name, value in namespace.items()
        if isinstance(value, type) and issubclass(value, Module) and not name.startswith("_")
        and value not in (Sequential, ModuleList, ModuleDict, Module) and not name.endswith(("Loss", "Base"))
    }  # fmt: skip


def _close_names(name, names):
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _check_arguments(klass, arguments, path, skip=()):
    """Every key must be a parameter of ``klass``; values must fit the defaults' types."""
    try:
        signature = inspect.signature(klass)
    except (TypeError, ValueError):
        return
    parameters = {n: p for n, p in signature.parameters.items() if n not in skip and not n.startswith("_")
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}  # fmt: skip
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for key, value in arguments.items():
        where = _join(path, key)
        if key not in parameters:
            if takes_kwargs:
                continue
            allowed = ", ".join(parameters) or "none"
            raise ConfigError(where, f"unknown argument of {klass.__name__}{_close_names(key, list(parameters))}; allowed: {allowed}")
        default = parameters[key].default
        if default is inspect.Parameter.empty or default is None:
            continue
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(where, f"expected true or false; got {_kind(value)}")
        elif isinstance(default, numbers.Integral) and isinstance(value, bool):
            raise ConfigError(where, f"expected a number; got {_kind(value)}")
        elif isinstance(default, numbers.Real) and not isinstance(value, (numbers.Real, list, tuple)):
            raise ConfigError(where, f"expected a number; got {_kind(value)}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(where, f"expected a text; got {_kind(value)}")
    missing = [n for n, p in parameters.items() if p.default is inspect.Parameter.empty and n not in arguments]
    if missing:
        raise ConfigError(path, f"{klass.__name__} needs {', '.join(missing)}")


def _layer_spec(item, path, registry):
    if isinstance(item, str):
        name, arguments = item, {}
    elif isinstance(item, dict):
        if "type" not in item:
            raise ConfigError(path, "a layer needs a 'type' (e.g. {type: Linear, in_features: 784, out_features: 500})")
        arguments = {k: v for k, v in item.items() if k != "type"}
        name = item["type"]
    else:
        raise ConfigError(path, f"expected a layer name or a mapping with 'type'; got {_kind(item)}")
    if not isinstance(name, str) or name not in registry:
        shown = name if isinstance(name, str) else _kind(name)
        raise ConfigError(_join(path, "type"), f"unknown layer {shown!r}{_close_names(str(name), list(registry))}; "
                          f"known: {', '.join(sorted(registry))}")  # fmt: skip
    klass = registry[name]
    _check_arguments(klass, arguments, path, skip=("device", "dtype"))
    return klass, arguments


def build_model(config):
    """The model of a resolved config (``ConfigError`` naming the layer if its arguments are refused)."""
    from .nn import Sequential

    registry = _layer_registry(config["dialect"])
    layers = []
    for index, item in enumerate(config["model"]["layers"]):
        path = f"model.layers[{index}]"
        klass, arguments = _layer_spec(item, path, registry)
        arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in arguments.items()}
        try:
            layers.append(klass(**arguments))
        except (TypeError, ValueError) as error:
            raise ConfigError(path, f"{klass.__name__} refused its arguments: {error}") from None
    if config["dialect"] == "keras":
        try:
            from .keras import Sequential as KerasSequential

            return KerasSequential(layers)
        except ImportError:
            pass
    return Sequential(*layers)


def _named(section, table, path, what):
    if not isinstance(section, dict) or "name" not in section:
        raise ConfigError(path, f"expected a mapping with a 'name' ({', '.join(table)})")
    name = section["name"]
    if not isinstance(name, str) or name.lower() not in table:
        raise ConfigError(_join(path, "name"), f"unknown {what} {name!r}; known: {', '.join(table)}")
    return table[name.lower()], {k: v for k, v in section.items() if k != "name"}


def build_optimizer(config, parameters):
    from . import optim

    class_name, arguments = _named(config["optimizer"], OPTIMIZERS, "optimizer", "optimizer")
    klass = getattr(optim, class_name)
    _check_arguments(klass, arguments, "optimizer", skip=("params",))
    if "lr" in arguments:
        Number(low=0, low_open=True).check(arguments["lr"], "optimizer.lr")
    for key in ("weight_decay", "momentum"):
        if key in arguments:
            Number(low=0).check(arguments[key], f"optimizer.{key}")
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in arguments.items()}
    try:
        return klass(parameters, **arguments)
    except (TypeError, ValueError) as error:
        raise ConfigError("optimizer", f"{class_name} refused its arguments: {error}") from None


def build_scheduler(config, optimizer):
    from .optim import lr_scheduler

    if config["schedule"] is None:
        return None
    class_name, arguments = _named(config["schedule"], SCHEDULES, "schedule", "schedule")
    klass = getattr(lr_scheduler, class_name)
    if class_name == "CosineAnnealingLR":
        arguments.setdefault("T_max", config["training"]["epochs"])
    _check_arguments(klass, arguments, "schedule", skip=("optimizer", "last_epoch"))
    try:
        return klass(optimizer, **arguments)
    except (TypeError, ValueError) as error:
        raise ConfigError("schedule", f"{class_name} refused its arguments: {error}") from None


class ProbabilityCrossEntropy:
    """Cross-entropy of a model that already outputs probabilities (Keras' categorical_crossentropy).

    Class-index targets, or one-hot / probability rows. The log is clamped at 1e-7 as Keras does.
    """

    def __call__(self, output, target):
        from .ops import clamp, log

        log_p = log(clamp(output, 1e-7, 1.0))
        if target.ndim == output.ndim:
            return -(target * log_p).sum(dim=-1).mean()
        from .nn.functional import nll_loss

        return nll_loss(log_p, target)


def build_loss(config):
    from .train.trainer import _resolve_loss

    name = config["loss"]
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        return ProbabilityCrossEntropy()
    return _resolve_loss(name)


# ----- the whole check ---------------------------------------------------------------------------------
def _check_data(data):
    source = data["source"]
    if source in ("csv", "text"):
        if not data["path"]:
            raise ConfigError("data.path", f"data.source {source!r} needs a file: data.path")
    if source == "mnist" and not data["path"]:
        raise ConfigError("data.path", "data.source 'mnist' needs the folder holding MNIST/raw/: data.path (or use source: digits)")
    for key in ("path", "test_path"):
        path = data[key]
        if path is None:
            continue
        if source in ("csv", "text") or key == "test_path":
            if not os.path.isfile(path):
                raise ConfigError(f"data.{key}", f"file {path!r} does not exist" if not os.path.exists(path) else f"{path!r} is not a file")
            if not os.access(path, os.R_OK):
                raise ConfigError(f"data.{key}", f"file {path!r} cannot be read (permission denied)")
        elif not data["download"] and not os.path.isdir(path):
            raise ConfigError(f"data.{key}", f"folder {path!r} does not exist (set data.download: true to fetch the files)")
    if data["test_path"] is not None and source not in ("csv", "text"):
        raise ConfigError("data.test_path", f"only csv and text sources take a separate test file; {source!r} has its own test split")
    if data["layout"] == "image" and source in ("csv", "text"):
        raise ConfigError("data.layout", f"layout 'image' is for image sources (digits, mnist, fashion-mnist), not {source!r}")


def validate(config, build=True):
    """Check ``config`` completely and return it resolved (every default filled in).

    Args:
        config: the parsed file, with overrides applied.
        build: also build the model, the optimiser and the schedule once (so their own argument
            checks run before any data is read). Defaults to True.

    Raises:
        ConfigError: naming the field path and what is allowed.
    """
    if not isinstance(config, dict):
        raise ConfigError("", f"a config is a mapping of sections; got {_kind(config)}")
    resolved = SCHEMA.check(config, "")
    if isinstance(resolved["optimizer"], dict) and "name" not in resolved["optimizer"]:
        resolved["optimizer"] = {"name": "adam", **resolved["optimizer"]}
    _check_data(resolved["data"])
    for section in ("optimizer", "schedule"):
        value = resolved[section]
        if value is not None:
            _named(value, OPTIMIZERS if section == "optimizer" else SCHEDULES, section, section)
    if resolved["search"] is not None:
        _check_grid(resolved)
    if build:
        from .random import manual_seed

        manual_seed(resolved["seed"])
        model = build_model(resolved)
        parameters = list(model.parameters())
        if not parameters and resolved["dialect"] == "torch":
            raise ConfigError("model.layers", "the model has no trainable parameters; add a Linear, Conv2d, ... layer")
        if parameters:
            optimizer = build_optimizer(resolved, parameters)
            build_scheduler(resolved, optimizer)
    return resolved


def _check_grid(resolved):
    grid = resolved["search"]["grid"]
    if not grid:
        raise ConfigError("search.grid", "give at least one field path with a list of values, e.g. {optimizer.lr: [0.001, 0.01]}")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"search.grid.{key}", f"expected a non-empty list of values; got {_kind(values)}")
        parts = parse_override(f"{key}=0")[0]
        for value in values:  # every point of the grid must itself be a valid config
            candidate = apply_overrides({k: v for k, v in resolved.items() if k != "search"}, [(parts, value)])
            try:
                validate(candidate, build=False)
            except ConfigError as error:
                raise ConfigError(f"search.grid.{key}", f"value {value!r} gives an invalid config: {error}") from None


# ----- data ----------------------------------------------------------------------------------------
class Data:
    """The arrays of a run, preprocessed for the model, and what a client needs to do the same.

    Attributes:
        x_train, y_train, x_test, y_test: model-ready arrays.
        class_names: labels of the classes (None for regression).
        input_shape: one sample's shape.
        preprocess: plain data describing ``raw → model input`` (stored in the model's metadata).
        tokenizer: the fitted :class:`shendu.text.Tokenizer` of a text source (else None).
    """

    def __init__(self, x_train, y_train, x_test, y_test, class_names, preprocess, tokenizer=None):
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.class_names, self.preprocess, self.tokenizer = class_names, preprocess, tokenizer
        self.input_shape = list(x_train.shape[1:]) if x_train is not None else list(x_test.shape[1:])

    @property
    def task(self):
        return "classification" if self.class_names is not None else "regression"


def _image_arrays(data):
    from .vision import datasets

    source = data["source"]
    if source == "digits":
        (x_train, y_train), (x_test, y_test) = datasets.load_digits()
        names = [str(i) for i in range(10)]
    elif source == "mnist":
        train = datasets.MNIST(data["path"], train=True, download=data["download"])
        test = datasets.MNIST(data["path"], train=False, download=data["download"])
        (x_train, y_train), (x_test, y_test) = ((d.data.numpy(), d.targets.numpy()) for d in (train, test))
        names = [str(i) for i in range(10)]
    else:
        (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist(data["path"], download=data["download"])
        names = list(datasets.FashionMNIST.classes)
    return x_train, y_train, x_test, y_test, names


def image_preprocess(data, x_train, channels_last=False):
    """``model input = (pixel/255 − mean) / std``, laid out flat (N, 784) or as images: (N, 1, 28, 28),
    or (N, 28, 28, 1) for the Keras dialect (``channels_last``)."""
    import numpy as np

    height, width = x_train.shape[1:3]
    if data["normalize"] == "standardize":
        scaled = x_train.astype(np.float64) / 255.0
        mean, std = float(scaled.mean()), float(scaled.std()) or 1.0
    elif data["normalize"] == "none":
        mean, std = 0.0, 1.0 / 255.0
    else:
        mean, std = 0.0, 1.0
    if data["layout"] == "flat":
        shape = [height * width]
    else:
        shape = [height, width, 1] if channels_last else [1, height, width]
    return {"kind": "image", "height": int(height), "width": int(width), "mean": round(mean, 6), "std": round(std, 6),
            "input_shape": shape, "invert": False}  # fmt: skip


def apply_preprocess(preprocess, raw, tokenizer=None):
    """Raw data (pixels 0-255, table rows, texts) → model input, as recorded in ``preprocess``."""
    import numpy as np

    kind = (preprocess or {}).get("kind")
    if kind == "image":
        x = (np.asarray(raw, dtype=np.float32) / 255.0 - np.float32(preprocess["mean"])) / np.float32(preprocess["std"])
        return x.reshape((len(x), *preprocess["input_shape"])).astype(np.float32)
    if kind == "table":
        x = np.asarray(raw, dtype=np.float64)
        return ((x - np.asarray(preprocess["mean"])) / np.asarray(preprocess["std"])).astype(np.float32)
    if kind == "text":
        from .text import pad_sequences

        if tokenizer is None:
            raise ValueError("text input needs the model's tokenizer (tokenizer.json in the model folder)")
        sequences = tokenizer.texts_to_sequences(list(raw))
        return pad_sequences(sequences, maxlen=preprocess["maxlen"], dtype="int64")
    return np.asarray(raw)


def _split(n, fraction, seed):
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    cut = n - max(1, int(round(n * fraction)))
    if cut < 1:
        raise ConfigError("data.test_split", f"{n} rows are too few to split off a test set")
    return order[:cut], order[cut:]


def _read_table(path, data, field="data.path"):
    from .preprocessing import load_csv

    target = data["target"] if data["target"] is not None else -1
    try:
        return load_csv(path, target=target)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(field, f"cannot read {path!r}: {error}") from None
    except (ValueError, TypeError) as error:
        # load_csv's own words name the target ("load_csv: target=..."/"... has no column ..."); every
        # other message is about the file's content: a cell, a row, its length.
        about_target = str(error).startswith("load_csv:")
        raise ConfigError("data.target" if about_target else field, str(error)) from None


def _read_texts(path, data):
    import csv

    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    target = data["target"] if data["target"] is not None else "label"
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError("data.path", f"cannot read {path!r}: {error}") from None
    if not rows:
        raise ConfigError("data.path", f"{path!r} has no rows")
    for column, key in ((data["text_column"], "data.text_column"), (target, "data.target")):
        if column not in rows[0]:
            raise ConfigError(key, f"{path!r} has no column {column!r}; columns are {list(rows[0])}")
    return [r[data["text_column"]] or "" for r in rows], [r[target] for r in rows]


def _class_indices(labels, names=None):
    import numpy as np

    labels = [str(v) for v in labels]
    names = names if names is not None else sorted(set(labels), key=lambda v: (len(v), v) if v.lstrip("-").isdigit() else (1e9, v))
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ConfigError("data.target", f"labels {unknown[:5]} are not among the training classes {names[:10]}")
    return np.asarray([index[v] for v in labels], dtype=np.int64), names


def load_data(config, preprocess=None, tokenizer=None, class_names=None, train=True):
    """The run's arrays (see :class:`Data`); ``preprocess``/``tokenizer``/``class_names`` from a saved
    model are reused instead of being fitted (for ``shendu evaluate``)."""
    import numpy as np

    data = config["data"]
    source = data["source"]
    seed = config["seed"]
    if source in ("digits", "mnist", "fashion-mnist"):
        try:
            x_train, y_train, x_test, y_test, names = _image_arrays(data)
        except (OSError, ValueError) as error:
            raise ConfigError("data.path", f"cannot read the {source} files: {error}") from None
        preprocess = preprocess or image_preprocess(data, x_train, channels_last=config["dialect"] == "keras")
        class_names = class_names or names
    elif source == "csv":
        x, y = _read_table(data["path"], data)
        if data["test_path"]:
            x_train, y_train = x, y
            x_test, y_test = _read_table(data["test_path"], data, "data.test_path")
        else:
            train_idx, test_idx = _split(len(x), data["test_split"], seed)
            x_train, y_train, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
        if y_train.dtype.kind in "iu" and config["loss"] not in ("mse", "mae", "huber"):
            names = class_names or [str(v) for v in sorted(set(y_train.tolist()))]
            y_train, class_names = _class_indices(y_train.tolist(), names)
            y_test, _ = _class_indices(y_test.tolist(), names)
        else:
            class_names = None
            y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
        if preprocess is None:
            if data["normalize"] == "standardize":
                mean, std = x_train.mean(axis=0), x_train.std(axis=0)
            elif data["normalize"] == "scale":
                mean, std = x_train.min(axis=0), x_train.max(axis=0) - x_train.min(axis=0)
            else:
                mean, std = np.zeros(x_train.shape[1]), np.ones(x_train.shape[1])
            std = np.where(std > 0, std, 1.0)
            preprocess = {"kind": "table", "mean": [float(v) for v in mean], "std": [float(v) for v in std]}
    else:  # text
        from .text import Tokenizer

        texts, labels = _read_texts(data["path"], data)
        if data["test_path"]:
            train_texts, train_labels = texts, labels
            test_texts, test_labels = _read_texts(data["test_path"], data)
        else:
            train_idx, test_idx = _split(len(texts), data["test_split"], seed)
            train_texts, train_labels = [texts[i] for i in train_idx], [labels[i] for i in train_idx]
            test_texts, test_labels = [texts[i] for i in test_idx], [labels[i] for i in test_idx]
        y_train, class_names = _class_indices(train_labels, class_names)
        y_test, _ = _class_indices(test_labels, class_names)
        if tokenizer is None:
            tokenizer = Tokenizer(num_words=data["num_words"])
            tokenizer.fit_on_texts(train_texts)
        preprocess = preprocess or {"kind": "text", "maxlen": data["maxlen"], "tokenizer": "tokenizer.json"}
        x_train, x_test = train_texts, test_texts
    x_train = apply_preprocess(preprocess, x_train, tokenizer) if train else None
    x_test = apply_preprocess(preprocess, x_test, tokenizer)
    if data["limit"] is not None and train:
        x_train, y_train = x_train[: data["limit"]], y_train[: data["limit"]]
    if data["test_limit"] is not None:
        x_test, y_test = x_test[: data["test_limit"]], y_test[: data["test_limit"]]
    if class_names is None and config["loss"] in ("mse", "mae", "huber"):
        y_train = None if y_train is None else np.asarray(y_train, np.float32).reshape(-1, 1)
        y_test = np.asarray(y_test, np.float32).reshape(-1, 1)
    return Data(x_train, y_train if train else None, x_test, y_test, class_names, preprocess, tokenizer)
