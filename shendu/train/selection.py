"""Model selection: k-fold cross-validation and grid search over hyper-parameters (000 §4.3.4).

Both take a ``build_fn`` that makes a fresh model for each fold. It may return just the
model — the loss then defaults to cross-entropy for integer targets and MSE otherwise, and the
optimiser is made from ``optimizer`` (a name such as ``"adam"``, an optimiser class, or a
function of the parameters) with ``learning_rate`` — or a ``(model, loss_fn, optimizer)`` tuple.

Example:
    >>> def build(hidden=64):
    ...     return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    >>> result = cross_validate(build, x, y, cv=3, epochs=5, metrics=["accuracy"])
    >>> print(result)
    accuracy: 0.951 ± 0.006 (3 folds)  loss: 0.170 ± 0.012 (3 folds)
    >>> search = grid_search(build, {"hidden": [32, 64], "learning_rate": [1e-3, 1e-2]}, x, y, cv=3)
    >>> search.best_params
"""

import inspect
import itertools
import math
import threading

import numpy as np

from .. import random as _random
from .trainer import Trainer, _to_array

__all__ = ["cross_validate", "grid_search", "CVResult", "GridSearchResult", "make_optimizer"]

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
_FIT_KEYS = ("epochs", "batch_size", "learning_rate", "optimizer", "lr")


def make_optimizer(optimizer, parameters, learning_rate):
    """An optimiser from a name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"``), a class or a factory."""
    from .. import optim

    parameters = list(parameters)
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(_OPTIMIZERS)}")
        return getattr(optim, _OPTIMIZERS[key])(parameters, lr=learning_rate)
    if isinstance(optimizer, type):
        return optimizer(parameters, lr=learning_rate)
    if callable(optimizer):
        return optimizer(parameters)
    raise TypeError(f"optimizer must be a name, an optimizer class or a function; got {type(optimizer).__name__}")


class CVResult:
    """Per-fold metrics with their mean and standard deviation.

    Attributes:
        folds: one dict of metrics per fold.
        mean: metric -> mean over folds.
        std: metric -> population standard deviation over folds.
    """

    def __init__(self, folds):
        self.folds = folds
        keys = [k for k in folds[0] if all(np.ndim(f.get(k, 0)) == 0 for f in folds)] if folds else []
        self.mean = {k: float(np.mean([f[k] for f in folds])) for k in keys}
        self.std = {k: float(np.std([f[k] for f in folds])) for k in keys}

    def __getitem__(self, key):
        return self.mean[key]

    def summary(self):
        return "  ".join(f"{k}: {self.mean[k]:.3f} ± {self.std[k]:.3f} ({len(self.folds)} folds)" for k in self.mean)

    __str__ = summary

    def __repr__(self):
        return f"CVResult({self.summary()})"

    def to_dict(self):
        return {"folds": self.folds, "mean": self.mean, "std": self.std}


def _call_build(build_fn, params):
    try:
        signature = inspect.signature(build_fn)
        accepts_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        names = set(signature.parameters)
    except (TypeError, ValueError):
        accepts_all, names = True, set()
    given = {k: v for k, v in params.items() if accepts_all or k in names}
    return build_fn(**given)


def _is_classification(y):
    return y.dtype.kind in "iub" and y.ndim == 1


def cross_validate(build_fn, X, y, cv=5, *, params=None, loss_fn=None, optimizer="adam", learning_rate=1e-3,
                   epochs=10, batch_size=32, metrics=None, seed=0, shuffle=True, stratified=None, verbose=0,
                   callbacks=None, n_jobs=None):  # fmt: skip
    """Train a fresh model on each of ``cv`` folds and measure it on the held-out fold.

    Args:
        build_fn: makes the model (or ``(model, loss_fn, optimizer)``); it receives the entries of
            ``params`` that it names.
        X, y: the data (arrays or tensors).
        cv: the number of folds, or a splitter with ``split(X, y)`` (e.g. ``shendu.preprocessing.KFold``).
            Defaults to 5.
        params: hyper-parameters: ``epochs``, ``batch_size``, ``learning_rate`` and ``optimizer``
            override the arguments of the same names; the rest go to ``build_fn``. Defaults to None.
        loss_fn: the loss when ``build_fn`` returns only a model. Defaults to cross-entropy for
            integer class labels, MSE otherwise.
        optimizer, learning_rate: the optimiser when ``build_fn`` returns only a model.
            Defaults to "adam", 1e-3.
        epochs, batch_size: training length and batch size per fold. Defaults to 10, 32.
        metrics: measured on each held-out fold (with the loss). Defaults to ["accuracy"] for
            classification, ["mae", "r2"] otherwise.
        seed: fold splitting, weight initialisation and data order; fold ``k`` uses ``seed + k``.
            Defaults to 0.
        shuffle: shuffle before cutting folds. Defaults to True.
        stratified: keep class proportions in each fold. Defaults to True for classification.
        verbose: 1 prints each fold's result. Defaults to 0.
        callbacks: a function returning fresh callbacks for each fold. Defaults to None.
        n_jobs: run the folds through joblib on this many workers (-1: all); inside
            ``joblib.parallel_backend("dask")`` they run on a Dask cluster. Every fold gives the
            same numbers wherever it runs. Defaults to None (one after another, here).

    Returns:
        a :class:`CVResult`.
    """
    from ..preprocessing import KFold, StratifiedKFold

    X_arrays = tuple(_to_array(a, "X") for a in X) if isinstance(X, tuple) else (_to_array(X, "X"),)
    y = _to_array(y, "y")
    params = dict(params or {})
    epochs = params.pop("epochs", epochs)
    batch_size = params.pop("batch_size", batch_size)
    learning_rate = params.pop("learning_rate", params.pop("lr", learning_rate))
    optimizer = params.pop("optimizer", optimizer)
    classification = _is_classification(y)
    if metrics is None:
        metrics = ["accuracy"] if classification else ["mae", "r2"]
    if isinstance(cv, int) and not isinstance(cv, bool):
        stratify = classification if stratified is None else stratified
        splitter = (StratifiedKFold if stratify else KFold)(cv, shuffle=shuffle, random_state=seed if shuffle else None)
    elif hasattr(cv, "split") and not isinstance(cv, (str, bytes)):
        splitter = cv
    else:
        raise TypeError(f"cv must be an int or a splitter with split(X, y); got {type(cv).__name__}")
    settings = {"params": params, "optimizer": optimizer, "learning_rate": learning_rate, "loss_fn": loss_fn,
                "classification": classification, "metrics": metrics, "callbacks": callbacks, "epochs": epochs,
                "batch_size": batch_size, "seed": int(seed)}  # fmt: skip
    splits = list(splitter.split(X_arrays[0], y))
    if n_jobs in (None, 1):
        folds = [_run_fold(build_fn, X_arrays, y, fold, train_idx, test_idx, settings) for fold, (train_idx, test_idx) in enumerate(splits)]
    else:
        import joblib

        folds = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_run_fold)(build_fn, X_arrays, y, fold, train_idx, test_idx, settings)
            for fold, (train_idx, test_idx) in enumerate(splits)
        )
    if verbose:
        for fold, result in enumerate(folds):
            shown = ", ".join(f"{k}={v:.4f}" for k, v in result.items() if np.ndim(v) == 0)
            print(f"fold {fold + 1}: {shown}")
    if not folds:
        raise ValueError("cross_validate: the splitter produced no folds")
    return CVResult(folds)


_FOLD_LOCK = threading.Lock()


def _run_fold(build_fn, X_arrays, y, fold, train_idx, test_idx, settings):
    """Train a fresh model on one fold and measure it on the held-out part; returns the results dict.

    The fold seeds shendu's global generator (``seed + fold``), so the same fold gives the same numbers
    wherever it runs: in this process, a joblib worker or a Dask worker. Folds run one at a time in a
    process (a lock), since a generator shared by two threads would make their numbers depend on timing.
    """
    with _FOLD_LOCK:
        _random.manual_seed(settings["seed"] + fold)
        built = _call_build(build_fn, {**settings["params"], "optimizer": settings["optimizer"],
                                       "learning_rate": settings["learning_rate"]})  # fmt: skip
        if isinstance(built, tuple):
            if len(built) != 3:
                raise ValueError("build_fn must return a model or (model, loss_fn, optimizer)")
            model, fold_loss, fold_optimizer = built
        else:
            model = built
            fold_loss = settings["loss_fn"] if settings["loss_fn"] is not None else ("cross_entropy" if settings["classification"] else "mse")
            fold_optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["learning_rate"])
        callbacks = settings["callbacks"]
        trainer = Trainer(model, fold_loss, fold_optimizer, metrics=settings["metrics"], callbacks=callbacks() if callbacks else None)
        pick = (lambda idx: tuple(a[idx] for a in X_arrays)) if len(X_arrays) > 1 else (lambda idx: X_arrays[0][idx])
        target = y.reshape(-1, 1) if not settings["classification"] and y.ndim == 1 and _wants_column(model) else y
        trainer.fit((pick(train_idx), target[train_idx]), epochs=settings["epochs"], batch_size=settings["batch_size"],
                    verbose=0, seed=settings["seed"] + fold)  # fmt: skip
        return trainer.evaluate((pick(test_idx), target[test_idx]))


def _wants_column(model):
    """A regression model with one output unit predicts shape (N, 1): give it (N, 1) targets."""
    last = None
    for module in model.modules():
        if hasattr(module, "out_features"):
            last = module
    return last is not None and last.out_features == 1


class GridSearchResult:
    """Every combination's cross-validation result, best first.

    Attributes:
        results: list of ``(params, CVResult)`` sorted best first.
        best_params, best_score: the winner and its mean score on ``scoring``.
    """

    def __init__(self, results, scoring, mode):
        reverse = mode == "max"
        self.scoring = scoring
        self.results = sorted(results, key=lambda r: r[1].mean[scoring], reverse=reverse)
        self.best_params, best = self.results[0]
        self.best_score = best.mean[scoring]
        self.best_result = best

    def __repr__(self):
        return f"GridSearchResult(best_params={self.best_params}, best_{self.scoring}={self.best_score:.4f})"

    def table(self):
        """One line per combination: the parameters and mean ± std of the score."""
        return "\n".join(
            f"{r.mean[self.scoring]:.4f} ± {r.std[self.scoring]:.4f}  {p}" for p, r in self.results
        )


def grid_search(build_fn, param_grid, X, y, cv=3, scoring=None, **kwargs):
    """Cross-validate every combination of ``param_grid`` and rank them.

    Args:
        build_fn: as for :func:`cross_validate`.
        param_grid: ``{name: [values...]}``; names may be ``build_fn`` arguments or ``epochs``,
            ``batch_size``, ``learning_rate``, ``optimizer``.
        X, y: the data.
        cv: folds per combination. Defaults to 3.
        scoring: the metric to rank by. Defaults to the first metric.
        **kwargs: passed to :func:`cross_validate`.

    Returns:
        a :class:`GridSearchResult`.
    """
    if not isinstance(param_grid, dict) or not param_grid:
        raise ValueError("grid_search: param_grid must be a non-empty dict of lists")
    names = list(param_grid)
    for name in names:
        if not isinstance(param_grid[name], (list, tuple)) or not param_grid[name]:
            raise ValueError(f"grid_search: param_grid[{name!r}] must be a non-empty list")
    results = []
    for values in itertools.product(*(param_grid[n] for n in names)):
        params = dict(zip(names, values))
        results.append((params, cross_validate(build_fn, X, y, cv=cv, params=params, **kwargs)))
    first = results[0][1]
    if scoring is None:
        scoring = next((k for k in first.mean if k != "loss"), "loss")
    if scoring not in first.mean:
        raise ValueError(f"grid_search: scoring {scoring!r} is not among {sorted(first.mean)}")
    from .callbacks import _infer_mode

    mode = _infer_mode(scoring, "auto", "grid_search")
    for _, result in results:
        if not math.isfinite(result.mean[scoring]):
            result.mean[scoring] = -math.inf if mode == "max" else math.inf
    return GridSearchResult(results, scoring, mode)
