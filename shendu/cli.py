"""The ``shendu`` command: train from a config, evaluate, predict, summarise, serve, export, explain.

Run ``shendu --help`` (or ``python -m shendu.cli --help``). With no config, ``shendu train``
trains the seed MLP of 000 (784-500-10, ReLU, cross-entropy, Adam 1e-3, batch 100, 5 epochs) on
the embedded MNIST digits, evaluates it on the 2,000 test digits, saves it to ``runs/mnist-mlp``
and prints the accuracy.

Exit codes: 0 success, 1 a failure while working (data that cannot be read, a model that cannot
be loaded, ...), 2 a usage or config error found before any work started (one message naming the
field and what is allowed, no traceback).
"""

import argparse
import contextlib
import csv
import json
import os
import sys
import time
import warnings

from . import __version__
from .config import ConfigError
from .io.files import bounded_message, brief

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
TRAIN_CONFIG = "train-config.json"
TOKENIZER = "tokenizer.json"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp")


class CommandError(Exception):
    """A failure to report as one line (exit code ``code``), never as a traceback."""

    def __init__(self, message, code=EXIT_FAILURE):
        super().__init__(message)
        self.code = code


def _rank():
    """This process's rank when the command runs as several MPI processes (0 otherwise)."""
    from . import distributed

    return distributed.get_rank() if distributed.is_initialized() else 0


def _print(*args, **kwargs):
    if _rank() == 0:  # several processes: only rank 0 speaks
        print(*args, **kwargs, flush=True)


# ----- config handling ------------------------------------------------------------------------------
def _resolve_config(spec, sets, build=True):
    from . import config as cfg

    raw = cfg.load_file(cfg.resolve_config_path(spec)) if spec else {}
    overrides = [cfg.parse_override(s) for s in sets or ()]
    return cfg.resolve(raw, overrides, build=build)


def _load_model_dir(model_dir):
    from .io import ModelFormatError, load_model
    from .io.serialization import SerializationError

    if not os.path.isdir(model_dir):
        raise CommandError(f"{model_dir}: no such model folder (train one with `shendu train --out {model_dir}`)", EXIT_USAGE)
    try:
        model, metadata = load_model(model_dir, with_metadata=True)
    except (FileNotFoundError, ModelFormatError, SerializationError, OSError) as error:
        raise CommandError(f"cannot load the model in {model_dir}: {error}") from None
    train_config = None
    path = os.path.join(model_dir, TRAIN_CONFIG)
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                train_config = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {path}: {error}") from None
    return model, metadata, train_config


def _tokenizer(model_dir, metadata):
    preprocess = (metadata.get("extra") or {}).get("preprocess") or {}
    if preprocess.get("kind") != "text":
        return None
    from .text import tokenizer_from_json

    path = os.path.join(model_dir, preprocess.get("tokenizer", TOKENIZER))
    try:
        with open(path, encoding="utf-8") as handle:
            return tokenizer_from_json(handle.read())
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read the model's tokenizer {path}: {error}") from None


# ----- train ----------------------------------------------------------------------------------------
def _logged_names(config, metrics):
    """The names training logs each epoch: the loss, each metric, and their ``val_`` twins with validation."""
    from .train.metrics import get_metric

    names = ["loss"] + [get_metric(m).name for m in metrics]
    return names + ["val_" + n for n in names] if config["data"]["validation"] != "none" else names


def _callbacks(config, out, metrics):
    from .train import CSVLogger, EarlyStopping, GradientMonitor, TensorBoard, TerminateOnNaN

    section = config["callbacks"]
    callbacks = [CSVLogger(os.path.join(out, "history.csv"))]
    if section["terminate_on_nan"]:
        callbacks.append(TerminateOnNaN())
    stopping = section["early_stopping"]
    if stopping is not None:
        monitor = stopping["monitor"]
        if config["data"]["validation"] == "none" and monitor.startswith("val_"):
            monitor = monitor[4:]
        logged = _logged_names(config, metrics)
        if monitor not in logged:
            raise ConfigError("callbacks.early_stopping.monitor", f"{brief(monitor)} is not logged by this run; choose one of {', '.join(logged)}")
        callbacks.append(EarlyStopping(monitor=monitor, patience=stopping["patience"], min_delta=stopping["min_delta"],
                                       mode=stopping["mode"], restore_best_weights=stopping["restore_best_weights"]))  # fmt: skip
    if section["gradient_monitor"]:
        callbacks.append(GradientMonitor())
    if section["tensorboard"]:
        callbacks.append(TensorBoard(os.path.join(out, "tensorboard")))
    return callbacks


def _fit(config, data, out, verbose):
    from . import config as cfg
    from .random import manual_seed
    from .train import Trainer

    training = config["training"]
    metrics = list(config["metrics"]) if data.task == "classification" else [m for m in config["metrics"] if m in ("mae", "mse", "rmse", "r2")]
    callbacks = _callbacks(config, out, metrics)  # its settings are checked before any work
    manual_seed(config["seed"])
    model = cfg.build_model(config)
    _dry_run(model, data.x_train[:2], data.y_train[:2], cfg.build_loss(config))
    optimizer = cfg.build_optimizer(config, model.parameters())
    scheduler = cfg.build_scheduler(config, optimizer)
    trainer = Trainer(model, cfg.build_loss(config), optimizer, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, grad_clip=training["grad_clip"])  # fmt: skip
    validation = config["data"]["validation"]
    checkpoint = os.path.join(out, "train.ckpt") if training["checkpoint"] else None
    resume = checkpoint if training["resume"] and checkpoint and os.path.exists(checkpoint) else None
    history = trainer.fit(
        (data.x_train, data.y_train), epochs=training["epochs"], batch_size=training["batch_size"],
        validation_data=(data.x_test, data.y_test) if validation == "test" else None,
        validation_split=config["data"]["validation_split"] if validation == "split" else 0.0,
        shuffle=training["shuffle"], verbose=verbose, seed=config["seed"], checkpoint=checkpoint, resume_from=resume,
    )  # fmt: skip
    return model, trainer, history, metrics


def _dry_run(model, x, y, loss_fn):
    """Run two samples through the model and the loss before training: a model that does not take the
    data (or a loss that does not fit its output) is a config error, found before any work. Keras-dialect
    layers also create their weights here, on their first call."""
    from .autograd import no_grad
    from .tensor import Tensor

    try:
        with no_grad():
            output = model(Tensor(x))
    except (ValueError, TypeError, IndexError, RuntimeError) as error:
        raise ConfigError("model.layers", f"the model does not take the data's samples of shape {list(x.shape[1:])}: {error}") from None
    if y is None or loss_fn is None:
        return
    try:
        with no_grad():
            loss_fn(output[0] if isinstance(output, (tuple, list)) else output, Tensor(y))
    except (ValueError, TypeError, IndexError, RuntimeError) as error:
        shape = list(output[0].shape if isinstance(output, (tuple, list)) else output.shape)
        raise ConfigError("loss", f"the loss does not fit the model's output of shape {shape} and the targets: {error}") from None


def _format_metrics(results):
    return "  ".join(f"{k}={v:.4f}" for k, v in results.items() if isinstance(v, float))


def cmd_train(args):
    from . import config as cfg
    from .io import save_model

    config = _resolve_config(args.config, args.set)
    out = args.out or os.path.join("runs", config["name"])
    if os.path.exists(out) and not os.path.isdir(out):
        raise CommandError(f"--out {out}: exists and is not a folder", EXIT_USAGE)
    started = time.perf_counter()
    _print(f"shendu {__version__} · training {config['name']!r} → {out}")
    try:
        data = cfg.load_data(config)
    except ConfigError:
        raise
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot load the data ({config['data']['source']}): {error}") from None
    _print(f"data: {config['data']['source']}: {len(data.x_train)} training and {len(data.x_test)} test samples, "
           f"input shape {data.input_shape}" + (f", {len(data.class_names)} classes" if data.class_names else ""))  # fmt: skip
    os.makedirs(out, exist_ok=True)
    verbose = config["training"]["verbose"] if not args.quiet else 0
    model, trainer, history, metrics = _fit(config, data, out, verbose)
    results = trainer.evaluate((data.x_test, data.y_test), metrics=metrics)
    results = {k: float(v) for k, v in results.items() if isinstance(v, (int, float))}
    extra = {"preprocess": data.preprocess, "train_config": TRAIN_CONFIG, "epochs_trained": len(history.epoch)}
    if _rank() != 0:  # several processes: rank 0 writes the model, the others are done
        return EXIT_OK
    with warnings.catch_warnings(record=True) as caught:  # a NaN metric is stored as null: say so, in one line
        warnings.simplefilter("always")
        save_model(model, out, metrics=results, class_names=data.class_names, input_shape=data.input_shape, metadata=extra)
    for warning in caught:
        print(f"shendu train: warning: {warning.message}", file=sys.stderr, flush=True)
    _write_json(os.path.join(out, TRAIN_CONFIG), config)
    if data.tokenizer is not None:
        _write_text(os.path.join(out, TOKENIZER), data.tokenizer.to_json())
    written = ["config.json", "model.safetensors", "metadata.json", "history.csv", TRAIN_CONFIG]
    if history.epoch:
        try:
            history.plot(os.path.join(out, "curves.png"), title=config["name"])
            written.append("curves.png")
        except ImportError:
            _print("(no curves.png: install matplotlib, the [plot] extra, to draw the training curves)")
    seconds = time.perf_counter() - started
    _print(f"test: {_format_metrics(results)}  ({len(data.x_test)} samples)")
    if "accuracy" in results:
        _print(f"accuracy: {100 * results['accuracy']:.2f}%")
    _print(f"saved to {out}/ ({', '.join(written)}) in {seconds:.1f} s")
    return EXIT_OK


def _write_json(path, value):
    _write_text(path, json.dumps(value, indent=2) + "\n")


def _write_text(path, text):
    from .io import atomic_write

    atomic_write(path, text.encode("utf-8"))


# ----- evaluate -------------------------------------------------------------------------------------
def cmd_evaluate(args):
    from . import config as cfg
    from .train import Trainer

    model, metadata, train_config = _load_model_dir(args.model_dir)
    config = cfg.resolve(train_config or {}, build=False) if train_config else cfg.defaults()
    extra = metadata.get("extra") or {}
    if args.data in ("digits", "mnist", "fashion-mnist"):
        config["data"].update(source=args.data, path=args.data_path, test_path=None)
    elif args.data and config["data"]["source"] in ("csv", "text"):
        config["data"]["test_path"] = args.data
    elif args.data:
        raise CommandError(f"--data {args.data}: expected digits, mnist or fashion-mnist (a file only for csv/text models)", EXIT_USAGE)
    config["data"]["test_limit"] = args.limit
    config = cfg.validate(config, build=False)
    try:
        data = cfg.load_data(config, preprocess=extra.get("preprocess"), tokenizer=_tokenizer(args.model_dir, metadata),
                             class_names=metadata.get("class_names"), train=False)  # fmt: skip
    except (OSError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise CommandError(f"cannot load the data: {error}") from None
    expected = metadata.get("input_shape")
    if expected is not None and list(data.x_test.shape[1:]) != list(expected):
        raise CommandError(f"the data has samples of shape {list(data.x_test.shape[1:])}, but the model takes {expected}")
    metrics = config["metrics"] if data.task == "classification" else [m for m in config["metrics"] if m in ("mae", "mse", "rmse", "r2")]
    results = Trainer(model, cfg.build_loss(config)).evaluate((data.x_test, data.y_test), batch_size=args.batch_size, metrics=metrics)
    results = {k: float(v) for k, v in results.items() if isinstance(v, (int, float))}
    _print(f"{args.model_dir}: {_format_metrics(results)}  ({len(data.x_test)} samples of {config['data']['source']})")
    if "accuracy" in results:
        _print(f"accuracy: {100 * results['accuracy']:.2f}%")
    if args.json:
        _print(json.dumps(results))
    return EXIT_OK


# ----- predict --------------------------------------------------------------------------------------
def _read_image(path, preprocess):
    try:
        from PIL import Image
    except ImportError:
        raise CommandError("reading images needs Pillow: pip install 'shendu[images]'") from None
    import numpy as np

    try:
        with Image.open(path) as image:
            grey = image.convert("L")
            size = (preprocess.get("width", 28), preprocess.get("height", 28))
            if grey.size != size:
                grey = grey.resize(size, Image.Resampling.LANCZOS)
            pixels = np.asarray(grey, dtype=np.float32)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read image {path}: {error}") from None
    if pixels.mean() > 127:  # dark ink on light paper: MNIST-style models want light ink on black
        pixels = 255 - pixels
    return pixels


def _read_inputs(paths, preprocess, raw, tokenizer, input_shape):
    """(names, raw samples or model-ready arrays) from .npy, .csv, .txt and image files."""
    import numpy as np

    names, parts = [], []
    kind = (preprocess or {}).get("kind")
    for path in paths:
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file", EXIT_USAGE)
        lower = path.lower()
        if lower.endswith(".npy"):
            try:
                array = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise CommandError(f"cannot read {path}: {error}") from None
            if kind == "image" and not raw:  # raw pixels: (H, W), (N, H, W), (N, H·W), (N, 1, H, W), ...
                pixels = preprocess["height"] * preprocess["width"]
                if array.size % pixels:
                    raise CommandError(f"{path}: {array.shape} is not a stack of {preprocess['height']}×{preprocess['width']} images")
                array = array.reshape(-1, pixels)
            elif array.ndim == len(input_shape):
                array = array[None]
            parts.append(array)
            names += [f"{path}[{i}]" for i in range(len(array))] if len(array) > 1 else [path]
        elif lower.endswith((".csv", ".tsv")):
            rows = _read_csv_rows(path)
            parts.append(rows)
            names += [f"{path}:{i + 1}" for i in range(len(rows))]
        elif lower.endswith(".txt") and kind == "text":
            with open(path, encoding="utf-8") as handle:
                lines = [line.rstrip("\n") for line in handle if line.strip()]
            parts.append(np.asarray(lines, dtype=object))
            names += [f"{path}:{i + 1}" for i in range(len(lines))]
        elif lower.endswith(IMAGE_EXTENSIONS):
            if kind not in ("image", None):
                raise CommandError(f"{path}: an image, but this model takes {kind} input", EXIT_USAGE)
            parts.append(_read_image(path, preprocess or {}).reshape(1, -1))
            names.append(path)
        else:
            raise CommandError(f"{path}: unsupported input; give .npy, .csv, image files or (text models) .txt", EXIT_USAGE)
    if kind == "text":
        samples = np.concatenate([p if p.dtype == object else p.astype(object) for p in parts])
    else:
        try:
            samples = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
        except ValueError as error:
            raise CommandError(f"the inputs do not have one shape: {error}") from None
    return names, samples


def _read_csv_rows(path):
    import numpy as np

    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.reader(handle, delimiter=delimiter) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise CommandError(f"cannot read {path}: {error}") from None

    def numeric(row):
        try:
            [float(v) for v in row]
            return True
        except ValueError:
            return False

    if rows and not numeric(rows[0]):
        rows = rows[1:]  # a header
    for i, row in enumerate(rows):
        if not numeric(row):
            raise CommandError(f"{path}: row {i + 1} holds a value that is not a number: {brief(row)}")
    try:
        return np.asarray([[float(v) for v in row] for row in rows])
    except ValueError:
        raise CommandError(f"{path}: the rows have different lengths") from None


def cmd_predict(args):
    from . import config as cfg
    from .serve.predictor import InputError, Predictor

    model, metadata, _ = _load_model_dir(args.model_dir)
    preprocess = (metadata.get("extra") or {}).get("preprocess")
    tokenizer = _tokenizer(args.model_dir, metadata)
    input_shape = metadata.get("input_shape") or []
    names, samples = _read_inputs(args.inputs, preprocess, args.raw, tokenizer, input_shape)
    if not args.raw and preprocess is not None:
        try:
            samples = cfg.apply_preprocess(preprocess, samples, tokenizer)
        except ValueError as error:
            raise CommandError(f"the inputs do not fit the model's preprocessing: {error}") from None
    predictor = Predictor(model, metadata=metadata, max_batch=max(len(samples), 1))
    try:
        batch = predictor.parse(samples.tolist() if samples.dtype != object else samples, may_hold_booleans=False)
    except InputError as error:
        raise CommandError(f"the inputs do not fit the model: {str(error).replace('data', 'input', 1)}") from None
    results = {"predictions": [], "probabilities": [] if predictor.task == "classification" else None}
    for start in range(0, len(batch), 256):
        part = predictor(batch[start : start + 256])
        results["predictions"] += part["predictions"]
        if part["probabilities"] is not None:
            results["probabilities"] += part["probabilities"]
    classes = predictor.describe()["classes"]
    rows = []
    for i, name in enumerate(names):
        prediction = results["predictions"][i]
        if results["probabilities"] is not None:
            probabilities = results["probabilities"][i]
            label = classes[prediction] if classes and prediction < len(classes) else str(prediction)
            rows.append([name, prediction, label, probabilities[prediction], *probabilities])
            _print(f"{name}: {label}  (p={probabilities[prediction]:.3f})")
        else:
            value = prediction if isinstance(prediction, list) else [prediction]
            rows.append([name, *value])
            _print(f"{name}: {' '.join(f'{v:.6g}' for v in value)}")
    if args.output:
        if results["probabilities"] is not None:
            header = ["input", "prediction", "label", "confidence", *[f"p_{c}" for c in classes]]
        else:
            header = ["input", *[f"y{i}" for i in range(len(rows[0]) - 1)]]
        with open(args.output, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        _print(f"wrote {len(rows)} predictions to {args.output}")
    return EXIT_OK


# ----- summary --------------------------------------------------------------------------------------
def cmd_summary(args):
    model, metadata, train_config = _load_model_dir(args.model_dir)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    _print(f"{args.model_dir}: {type(model).__name__}, {total:,} parameters ({trainable:,} trainable)")
    for key in ("created", "shendu_version", "input_shape"):
        if metadata.get(key) is not None:
            _print(f"  {key.replace('_', ' ')}: {metadata[key]}")
    if metadata.get("class_names"):
        names = metadata["class_names"]
        _print(f"  classes ({len(names)}): {', '.join(map(str, names[:12]))}{' …' if len(names) > 12 else ''}")
    if metadata.get("metrics"):
        _print(f"  metrics: {_format_metrics(metadata['metrics'])}")
    if train_config:
        _print(f"  trained: {train_config['training']['epochs']} epochs, batch {train_config['training']['batch_size']}, "
               f"{train_config['optimizer']}, loss {train_config['loss']}, data {train_config['data']['source']}")  # fmt: skip
    _print("")
    width = max([len(name) for name, _ in model.named_modules() if name] + [5])
    _print(f"{'layer':<{width}}  {'type':<18} {'parameters':>12}")
    for name, module in model.named_modules():
        if not name or module._modules:
            continue
        count = sum(p.numel() for p in module.parameters())
        _print(f"{name:<{width}}  {type(module).__name__:<18} {count:>12,}")
    _print(f"{'total':<{width}}  {'':<18} {total:>12,}")
    if args.verbose:
        _print("")
        _print(repr(model))
    return EXIT_OK


# ----- serve, export, explain -----------------------------------------------------------------------
def cmd_serve(args):
    try:
        import uvicorn

        from .serve import create_app
        from .serve.protocol import header_timeout_protocol
    except ImportError as error:
        raise CommandError(f"shendu serve needs FastAPI and uvicorn: pip install 'shendu[serve]' ({error})") from None
    _check_address(args.host, args.port)
    model, metadata, _ = _load_model_dir(args.model_dir)
    try:
        app = create_app(model, metadata, max_body_bytes=args.max_body_bytes, max_batch=args.max_batch,
                         max_abs_input=args.max_abs_input or None, body_timeout=args.body_timeout)  # fmt: skip
    except ValueError as error:
        raise CommandError(f"cannot serve {args.model_dir}: {error}") from None
    problem = app.state.predictor.problem
    if problem is not None:
        print(f"shendu serve: warning: {problem}; /health answers 503 and predictions 500", file=sys.stderr, flush=True)
    protocol = header_timeout_protocol(args.header_timeout)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level, access_log=not args.no_access_log,
                            limit_concurrency=args.limit_concurrency, timeout_keep_alive=args.keep_alive_timeout,
                            **({"http": protocol} if protocol is not None else {}))  # fmt: skip
    _print(f"serving {args.model_dir} on http://{args.host}:{args.port}/  (API docs at /docs; Ctrl-C stops)")
    uvicorn.Server(config).run()
    return EXIT_OK


def _check_address(host, port):
    """Before any work: the host must resolve (exit 2) and the port be free to listen on (exit 1)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise CommandError(f"--host {brief(host)}: not an address this machine can listen on ({error})", EXIT_USAGE) from None
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    finally:
        probe.close()


def cmd_export(args):
    import numpy as np

    if args.format != "onnx":
        raise CommandError(f"--format {args.format}: only onnx is supported", EXIT_USAGE)
    try:
        from . import onnx as shendu_onnx

        shendu_onnx._require_onnx()
    except ImportError as error:
        raise CommandError(str(error)) from None
    model, metadata, _ = _load_model_dir(args.model_dir)
    shape = metadata.get("input_shape")
    if not shape:
        raise CommandError(f"{args.model_dir}/metadata.json does not give the input shape; export from Python with a sample input")
    from .serve.predictor import Predictor

    predictor = Predictor(model, metadata=metadata)
    rng = np.random.default_rng(0)

    def sample(n):
        if predictor.vocabulary is not None:
            return rng.integers(0, predictor.vocabulary, size=(n, *shape)).astype(np.int64)
        return rng.standard_normal((n, *shape)).astype(predictor.input_dtype)

    output = args.output or os.path.join(args.model_dir, "model.onnx")
    try:
        shendu_onnx.export(model, sample(2), output, opset=args.opset)
    except shendu_onnx.ExportError as error:
        raise CommandError(f"cannot export to ONNX: {error}") from None
    _print(f"wrote {output} ({os.path.getsize(output):,} bytes, opset {args.opset}, dynamic batch)")
    if not args.no_verify:
        try:
            x = sample(3)
            expected = predictor._run(x)
            got = shendu_onnx.run(output, x)[0]
        except ImportError:
            _print("(not verified: install onnxruntime, the [onnx] extra)")
            return EXIT_OK
        difference = float(np.max(np.abs(got.astype(np.float64) - expected))) if got.shape == expected.shape else float("inf")
        _print(f"onnxruntime check: max |shendu − onnxruntime| = {difference:.2e} on a batch of 3")
        if not difference <= 1e-4:
            raise CommandError(f"the ONNX model's outputs differ from shendu's by {difference:.2e}")
    return EXIT_OK


def cmd_explain(args):
    """Hand the rest of the command line to :func:`shendu.explain.main` (its own options and --help)."""
    try:
        from . import explain
    except ImportError as error:
        raise CommandError(f"shendu explain is not available in this installation ({error})") from None
    if not hasattr(explain, "main"):
        raise CommandError("shendu explain is not available yet (shendu.explain has no main)")
    code = explain.main(list(args.explain_args))
    return EXIT_OK if code is None else code


# ----- cv and search ----------------------------------------------------------------------------------
def _cv_result(config, data, folds, verbose, n_jobs=None):
    from . import config as cfg
    from .train import cross_validate

    def build():
        model = cfg.build_model(config)
        _dry_run(model, data.x_train[:2], None, None)
        return model, cfg.build_loss(config), cfg.build_optimizer(config, model.parameters())

    metrics = config["metrics"] if data.task == "classification" else [m for m in config["metrics"] if m in ("mae", "mse", "rmse", "r2")]
    return cross_validate(build, data.x_train, data.y_train, cv=folds, epochs=config["training"]["epochs"],
                          batch_size=config["training"]["batch_size"], metrics=metrics or None, seed=config["seed"],
                          verbose=verbose, n_jobs=n_jobs)  # fmt: skip


@contextlib.contextmanager
def _dask(args, config):
    """With ``--dask-scheduler`` (or the config's ``dask.scheduler``): joblib's Dask backend on that cluster."""
    address = getattr(args, "dask_scheduler", None) or (config.get("dask") or {}).get("scheduler")
    if not address:
        yield None
        return
    try:
        import joblib
        from dask.distributed import Client
    except ImportError:
        raise CommandError("--dask-scheduler needs Dask: pip install 'shendu[dask]'", EXIT_USAGE) from None
    try:
        client = Client(address, timeout=15)
    except (OSError, TimeoutError, ValueError) as error:
        raise CommandError(f"cannot reach the Dask scheduler at {brief(address)}: {error}") from None
    with client, joblib.parallel_backend("dask"):
        _print(f"running on the Dask cluster at {address} ({len(client.scheduler_info()['workers'])} workers)")
        yield client


def cmd_cv(args):
    from . import config as cfg

    config = _resolve_config(args.config, args.set)
    folds = args.folds or config["cv"]["folds"]
    data = cfg.load_data(config)
    _print(f"{folds}-fold cross-validation of {config['name']!r} on {len(data.x_train)} samples "
           f"({config['training']['epochs']} epochs per fold)")  # fmt: skip
    with _dask(args, config) as cluster:
        result = _cv_result(config, data, folds, verbose=1, n_jobs=-1 if cluster is not None else None)
    _print(result.summary())
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        _write_json(os.path.join(args.out, "cv-results.json"), _plain(result.to_dict()))
        _print(f"wrote {os.path.join(args.out, 'cv-results.json')}")
    return EXIT_OK


def cmd_search(args):
    import itertools
    import math

    from . import config as cfg

    config = _resolve_config(args.config, args.set)
    search = config["search"]
    if search is None:
        raise CommandError("search: the config has no search section; add e.g. search: {grid: {optimizer.lr: [0.001, 0.01]}}", EXIT_USAGE)
    data = cfg.load_data(config)
    keys = list(search["grid"])
    combos = list(itertools.product(*(search["grid"][k] for k in keys)))
    _print(f"grid search over {', '.join(keys)}: {len(combos)} combinations × {search['folds']} folds")
    base = {k: v for k, v in config.items() if k != "search"}
    points = []
    for values in combos:
        overrides = [(cfg.parse_override(f"{k}=0")[0], v) for k, v in zip(keys, values)]
        points.append((dict(zip(keys, values)), cfg.validate(cfg.apply_overrides(base, overrides))))
    with _dask(args, config) as cluster:
        if cluster is None:
            measured = [_cv_result(point, data, search["folds"], verbose=0) for _, point in points]
        else:  # every combination's folds become tasks on the cluster
            measured = [_cv_result(point, data, search["folds"], verbose=0, n_jobs=-1) for _, point in points]
    results = []
    for (params, _), result in zip(points, measured):
        results.append((params, result))
        _print(f"  {params}: {result.summary()}")
    scoring = search["scoring"] or next((k for k in results[0][1].mean if k != "loss"), "loss")
    if scoring not in results[0][1].mean:
        raise CommandError(f"search.scoring {scoring!r} is not among the measured {sorted(results[0][1].mean)}", EXIT_USAGE)
    lower_better = scoring in ("loss", "mae", "mse", "rmse")
    ranked = sorted(results, key=lambda r: (r[1].mean[scoring] if math.isfinite(r[1].mean[scoring]) else math.inf * (1 if lower_better else -1)),
                    reverse=not lower_better)  # fmt: skip
    _print(f"\nranked by {scoring} ({'lower' if lower_better else 'higher'} is better):")
    for params, result in ranked:
        _print(f"  {result.mean[scoring]:.4f} ± {result.std[scoring]:.4f}  {params}")
    best_params, best = ranked[0]
    _print(f"best: {best_params} ({scoring} {best.mean[scoring]:.4f})")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "search-results.json")
        _write_json(path, _plain({"scoring": scoring, "results": [{"params": p, **r.to_dict()} for p, r in ranked]}))
        _print(f"wrote {path}")
    return EXIT_OK


def _plain(value):
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----- the parser -------------------------------------------------------------------------------------
def _bounded_int(low, high=None):
    """An argparse type: an integer in [low, high], else a one-line usage error naming the range."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {brief(text)}") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {span}; got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _non_negative_number(text):
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {brief(text)}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0; got {text}")
    return value


_non_negative_number.__name__ = "number"


def _positive_seconds(text):
    value = _non_negative_number(text)
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 and at most 86400; got {text}")
    return value


_positive_seconds.__name__ = "seconds"
_positive = _bounded_int(1)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser():
    from .serve.app import DEFAULT_MAX_ABS_INPUT, DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES

    parser = _Parser(prog="shendu", description="深度 shendu: train, evaluate, serve and export neural networks on NumPy.")
    parser.add_argument("--version", action="version", version=f"shendu {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def dask_option(p):
        p.add_argument("--dask-scheduler", metavar="ADDRESS",
                       help="run the folds on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs the [dask] extra)")  # fmt: skip

    def config_options(p):
        p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                       help="override a config field, e.g. --set training.epochs=3 --set optimizer.lr=0.01")  # fmt: skip

    p = commands.add_parser("train", help="train a model from a config (default: the seed MLP on the embedded digits)")
    p.add_argument("config", nargs="?", help="a YAML/JSON config file or a packaged config name (mnist-mlp, mnist-cnn, ...)")
    config_options(p)
    p.add_argument("--out", metavar="DIR", help="where to write the model (default runs/<name>)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--nproc", type=_positive, default=1, metavar="N",
                   help="train on N processes (data parallel, started with mpiexec; needs the [distributed] extra)")  # fmt: skip
    p.set_defaults(run=cmd_train)

    p = commands.add_parser("evaluate", help="measure a saved model on its test data (or --data)")
    p.add_argument("model_dir")
    p.add_argument("--data", help="a source (digits, mnist, fashion-mnist) or, for a csv/text model, a file")
    p.add_argument("--data-path", help="the folder of an mnist/fashion-mnist source")
    p.add_argument("--limit", type=_positive, help="only the first N test samples")
    p.add_argument("--batch-size", type=_positive, default=256)
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    p.set_defaults(run=cmd_evaluate)

    p = commands.add_parser("predict", help="predict .npy, .csv, image or (text models) .txt inputs")
    p.add_argument("model_dir")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--output", "-o", help="write the predictions to this CSV file")
    p.add_argument("--raw", action="store_true", help="the inputs are already preprocessed for the model")
    p.set_defaults(run=cmd_predict)

    p = commands.add_parser("summary", help="describe a saved model: layers, parameters, metrics")
    p.add_argument("model_dir")
    p.add_argument("--verbose", "-v", action="store_true", help="also print the module tree")
    p.set_defaults(run=cmd_summary)

    p = commands.add_parser("serve", help="serve a saved model over HTTP (POST /predict, the demo page at /)")
    p.add_argument("model_dir")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_bounded_int(0, 65535), default=8000, help="TCP port (0: any free port)")
    p.add_argument("--max-body-bytes", type=_positive, default=DEFAULT_MAX_BODY_BYTES, help="larger request bodies get 413")
    p.add_argument("--max-batch", type=_positive, default=DEFAULT_MAX_BATCH, help="larger batches get 422")
    p.add_argument("--max-abs-input", type=_non_negative_number, default=DEFAULT_MAX_ABS_INPUT,
                   help="input values beyond ±this get 422 (default 1e6; 0 for no bound)")  # fmt: skip
    p.add_argument("--header-timeout", type=_positive_seconds, default=10.0,
                   help="seconds a client has to send its request headers (slower ones get 408; default 10)")
    p.add_argument("--body-timeout", type=_positive_seconds, default=30.0,
                   help="seconds a client has to send the request body (slower ones get 408; default 30)")
    p.add_argument("--keep-alive-timeout", type=_positive_seconds, default=5.0, help="idle keep-alive connections close after this (default 5)")
    p.add_argument("--limit-concurrency", type=_positive, default=100,
                   help="connections and requests served at once; more get 503 (default 100)")  # fmt: skip
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("export", help="export a saved model (ONNX)")
    p.add_argument("model_dir")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--output", "-o", help="the file to write (default MODEL_DIR/model.onnx)")
    p.add_argument("--opset", type=_bounded_int(7, 30), default=17)
    p.add_argument("--no-verify", action="store_true", help="skip the onnxruntime comparison")
    p.set_defaults(run=cmd_export)

    p = commands.add_parser("explain", help="back-propagation step by step (seed 001's worked example)", add_help=False)
    p.add_argument("explain_args", nargs=argparse.REMAINDER)
    p.set_defaults(run=cmd_explain)

    p = commands.add_parser("cv", help="k-fold cross-validation of a config")
    p.add_argument("config", nargs="?")
    config_options(p)
    p.add_argument("--folds", type=_bounded_int(2), help="number of folds (default cv.folds, 3)")
    p.add_argument("--out", metavar="DIR", help="write cv-results.json here")
    dask_option(p)
    p.set_defaults(run=cmd_cv)

    p = commands.add_parser("search", help="grid search over config fields (the config's search section)")
    p.add_argument("config")
    config_options(p)
    p.add_argument("--out", metavar="DIR", help="write search-results.json here")
    dask_option(p)
    p.set_defaults(run=cmd_search)
    return parser


def _under_mpiexec():
    from .distributed import launched_by_mpiexec

    return launched_by_mpiexec()


def _without_nproc(argv):
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept


def _run_distributed(args, argv):
    """``--nproc N``: start N copies of this command under mpiexec. Started by mpiexec: join the others,
    run the command, and on a failure end every process (never leave the others waiting in a collective)."""
    from . import distributed

    if not _under_mpiexec():
        if args.command != "train":
            return _report(args, "--nproc is for train; start other commands with mpiexec yourself", EXIT_USAGE)
        import subprocess

        try:
            command = distributed.launch.mpiexec_command(args.nproc, [sys.executable, "-m", "shendu.cli", *_without_nproc(argv)])
        except distributed.DistributedError as error:
            return _report(args, str(error), EXIT_USAGE)
        return subprocess.call(command)
    try:
        distributed.init_process_group("mpi")
    except distributed.DistributedError as error:
        return _report(args, str(error), EXIT_FAILURE)
    code = _run(args)
    if code not in (EXIT_OK, None) and distributed.get_world_size() > 1:
        distributed.communicator().Abort(code)
    return code


def _report(args, message, code):
    print(f"shendu {args.command}: " + bounded_message(message).replace("\n", " "), file=sys.stderr, flush=True)
    return code


def main(argv=None):
    """Run the ``shendu`` command; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["explain"]:  # every later argument, --help included, belongs to shendu.explain
        args = argparse.Namespace(command="explain", run=cmd_explain, explain_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "nproc", 1) > 1 or _under_mpiexec():
        return _run_distributed(args, argv)
    return _run(args)


def _run(args):
    """Run the parsed command; every failure is one line on stderr and an exit code."""

    def report(message):
        prefix = f"shendu {args.command}" + (f" (rank {_rank()})" if _rank() else "")
        print(f"{prefix}: " + bounded_message(message).replace("\n", " "), file=sys.stderr, flush=True)

    try:
        return args.run(args)
    except ConfigError as error:
        report(f"config error: {error}")
        return EXIT_USAGE
    except CommandError as error:
        report(str(error))
        return error.code
    except KeyboardInterrupt:
        report("interrupted")
        return 130
    except MemoryError:
        report("out of memory (the data, the model or a file is larger than this machine can hold)")
        return EXIT_FAILURE
    except RecursionError:
        report("error: a structure nested too deeply")
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - whatever fails while working is one line, never a traceback
        if os.environ.get("SHENDU_DEBUG"):
            raise
        kind = "" if isinstance(error, (ValueError, TypeError, RuntimeError, OSError, ImportError)) else f"{type(error).__name__}: "
        report(f"error: {kind}{error} (set SHENDU_DEBUG=1 to see where)")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
