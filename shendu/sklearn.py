"""scikit-learn estimators around shendu networks: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They follow scikit-learn's estimator contract (hyper-parameters are constructor arguments,
``get_params`` / ``set_params``, learned state in attributes ending with ``_``, inputs checked by
scikit-learn's own validation, so they pass ``check_estimator``), so ``GridSearchCV``,
``cross_val_score``, ``Pipeline`` and ``clone`` work on them, in parallel through joblib too (004
§grid search: ``optimizer``, ``activation``, ``learning_rate``, ``cv=3``). Needs the ``sklearn`` extra.

Without ``module=`` they train a built-in MLP (``hidden_sizes``, ``activation``, ``dropout``); as in
skorch, ``module=`` takes any ``shendu.nn.Module`` class (or instance), and prefixed parameters route
to its parts: ``module__hidden=64`` to the module's constructor, ``criterion__weight=...`` to the
loss, ``optimizer__momentum=0.9`` to the optimiser — so a grid search can range over them.

A fitted estimator can be pickled by joblib/scikit-learn: its network travels as plain data (the
architecture config or, for a module class of the user's, its ``state_dict``, as safetensors
bytes), never as pickled shendu objects.

Example:
    >>> from sklearn.model_selection import GridSearchCV
    >>> search = GridSearchCV(NeuralNetClassifier(epochs=5),
    ...                       {"optimizer": ["adam", "rmsprop"], "activation": ["relu", "tanh"],
    ...                        "learning_rate": [1e-3, 1e-2]}, cv=3, n_jobs=2)
    >>> search.fit(x, y).best_params_
"""

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("shendu.sklearn needs scikit-learn 1.6 or newer: pip install 'shendu[sklearn]'") from None

import copy
import inspect

import numpy as np

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "ACTIVATIONS", "OPTIMIZERS"]

#: activation name -> shendu.nn class name
ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
    "selu": "SELU", "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "softplus": "Softplus", "identity": "Identity",
}  # fmt: skip
#: optimizer name -> shendu.optim class name
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
#: prefixes of the routed parameters (as skorch's)
ROUTED_PREFIXES = ("module__", "criterion__", "optimizer__")


class _NeuralNet(BaseEstimator):
    """The shared part: a network trained by :class:`shendu.train.Trainer` on validated arrays."""

    def __init__(self, module=None, criterion=None, hidden_sizes=(100,), activation="relu", optimizer="adam",
                 learning_rate=1e-3, epochs=10, batch_size=32, weight_decay=0.0, dropout=0.0, validation_split=0.0,
                 random_state=None, verbose=0, **routed):  # fmt: skip
        self.module = module
        self.criterion = criterion
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.validation_split = validation_split
        self.random_state = random_state
        self.verbose = verbose
        self._routed = dict(routed)

    # ----- scikit-learn's parameter protocol, with the routed ``prefix__name`` parameters ------
    def get_params(self, deep=True):
        return {**super().get_params(deep=deep), **self._routed}

    def set_params(self, **params):
        routed = {key: params.pop(key) for key in list(params) if key.startswith(ROUTED_PREFIXES)}
        self._routed.update(routed)
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _routed_for(self, prefix):
        unknown = [key for key in self._routed if not key.startswith(ROUTED_PREFIXES)]
        if unknown:
            raise ValueError(f"{unknown[0]} is not a parameter of {type(self).__name__}: routed parameters start "
                             f"with one of {ROUTED_PREFIXES}")  # fmt: skip
        return {key[len(prefix) :]: value for key, value in self._routed.items() if key.startswith(prefix)}

    # ----- building ------------------------------------------------------------------------
    def _check_params(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}")
        sizes = (self.hidden_sizes,) if isinstance(self.hidden_sizes, int) else tuple(self.hidden_sizes)
        if not all(isinstance(h, (int, np.integer)) and h > 0 for h in sizes):
            raise ValueError(f"hidden_sizes must be positive integers. Received: hidden_sizes={self.hidden_sizes!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={self.dropout!r}")
        return [int(h) for h in sizes]

    def _build_mlp(self, n_in, n_out):
        from . import nn

        layers, width = [], n_in
        for hidden in self._check_params():
            layers += [nn.Linear(width, hidden), getattr(nn, ACTIVATIONS[self.activation])()]
            if self.dropout:
                layers.append(nn.Dropout(self.dropout))
            width = hidden
        layers.append(nn.Linear(width, n_out))
        return nn.Sequential(*layers)

    def _build(self, n_in, n_out):
        """The network to train: the built-in MLP, ``module(**module__...)``, or a copy of a module instance."""
        from .nn import Module

        kwargs = self._routed_for("module__")
        if self.module is None:
            if kwargs:
                raise ValueError(f"module__{next(iter(kwargs))} given but no module=: the built-in MLP takes "
                                 "hidden_sizes, activation and dropout")  # fmt: skip
            return self._build_mlp(n_in, n_out)
        if inspect.isclass(self.module) and issubclass(self.module, Module):
            return self.module(**kwargs)
        if isinstance(self.module, Module):
            if kwargs:
                raise ValueError("module__ parameters need module= to be a class, not an instance")
            return copy.deepcopy(self.module)  # fit never changes its parameters (scikit-learn's contract)
        raise TypeError(f"module must be a shendu.nn.Module class or instance. Received: {self.module!r}")

    def _make_criterion(self, default):
        from .nn import Module

        kwargs = self._routed_for("criterion__")
        criterion = default if self.criterion is None else self.criterion
        if inspect.isclass(criterion) and issubclass(criterion, Module):
            return criterion(**kwargs)
        if kwargs:
            raise ValueError("criterion__ parameters need criterion= to be a class, not an instance")
        if isinstance(criterion, Module) or callable(criterion):
            return criterion
        raise TypeError(f"criterion must be a loss class, instance or function. Received: {criterion!r}")

    def _make_optimizer(self, parameters):
        from . import optim

        if not (isinstance(self.learning_rate, (int, float, np.floating)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be positive. Received: learning_rate={self.learning_rate!r}")
        if isinstance(self.optimizer, str) and self.optimizer.lower() in OPTIMIZERS:
            klass = getattr(optim, OPTIMIZERS[self.optimizer.lower()])
        elif inspect.isclass(self.optimizer) and issubclass(self.optimizer, optim.Optimizer):
            klass = self.optimizer
        else:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected one of {sorted(OPTIMIZERS)} "
                             "or a shendu.optim.Optimizer class")  # fmt: skip
        kwargs = {"lr": float(self.learning_rate), **self._routed_for("optimizer__")}
        if self.weight_decay:
            kwargs["weight_decay"] = float(self.weight_decay)
        return klass(list(parameters), **kwargs)

    # ----- data ------------------------------------------------------------------------------
    def _inputs(self, X, y=None, fitting=False, **y_checks):
        """X (and y) through scikit-learn's validation: 2-D or more, finite, dense, n_features_in_ recorded/checked.

        Without ``module=`` every sample is flattened for the MLP; a custom module gets its arrays as they are.
        """
        checks = {"dtype": np.float32, "allow_nd": True, "reset": fitting}
        if fitting:
            X, y = validate_data(self, X, y, **checks, **y_checks)
        else:
            check_is_fitted(self)
            X = validate_data(self, X, **checks)
        if self.module is None:
            X = X.reshape(len(X), -1)
        return (X, y) if fitting else X

    def _fit(self, X, target, n_out, default_criterion):
        from . import random as shendu_random
        from .train import Trainer

        state = self.random_state
        if isinstance(state, (int, np.integer)):
            seed = int(state)
        elif isinstance(state, np.random.RandomState):
            seed = int(state.randint(2**31))
        else:  # None or a numpy Generator
            seed = int((state if isinstance(state, np.random.Generator) else np.random.default_rng()).integers(2**31))
        shendu_random.manual_seed(seed)
        model = self._build(int(np.prod(X.shape[1:])), n_out)
        self._check_output_width(model, X[:1], n_out)
        trainer = Trainer(model, self._make_criterion(default_criterion), self._make_optimizer(model.parameters()))
        history = trainer.fit((X, target), epochs=int(self.epochs), batch_size=int(self.batch_size),
                              validation_split=self.validation_split, verbose=self.verbose, seed=seed)  # fmt: skip
        self.model_ = model
        self.history_ = history.history
        return self

    def _check_output_width(self, model, first, n_out):
        if self.module is None:
            return
        from .train import predict

        width = int(np.prod(predict(model, first, batch_size=1).shape[1:]))
        if width != n_out:
            what = "classes" if isinstance(self, ClassifierMixin) else "targets"
            raise ValueError(f"the module returns {width} values per sample but y has {n_out} {what}")

    def _forward(self, X):
        from .train import predict

        X = self._inputs(X)  # first: it raises NotFittedError before fit
        out = predict(self.model_, X, batch_size=1024)
        return out.reshape(len(out), -1)

    # ----- pickling as data (joblib sends fitted estimators between processes) -------------
    def __getstate__(self):
        from .io.model_files import pack_fitted_model
        from .io.serialization import save_bytes

        state = super().__getstate__()
        if isinstance(self.module, type) and "model_" in state:  # a class of the user's: its weights suffice
            state = {**state, "model_": {"shendu_state_dict": save_bytes(state["model_"].state_dict())}}
        if self.module is not None and not isinstance(self.module, type):
            state = {**state, "module": _ModuleParameter(self.module)}
        return pack_fitted_model(state)

    def __setstate__(self, state):
        from .io.model_files import unpack_fitted_model
        from .io.serialization import load_bytes

        state = unpack_fitted_model(state)
        if isinstance(state.get("module"), _ModuleParameter):
            state = {**state, "module": state["module"].module}
        packed = state.get("model_")
        super().__setstate__(state)
        if isinstance(packed, dict) and "shendu_state_dict" in packed:
            from .nn.init import skip_init

            with skip_init():
                model = self.module(**self._routed_for("module__"))
            model.load_state_dict(load_bytes(packed["shendu_state_dict"], as_numpy=True))
            self.model_ = model


class _ModuleParameter:
    """A module instance given as ``module=``, pickled as its config and weights (registered classes only)."""

    def __init__(self, module):
        self.module = module

    def __getstate__(self):
        from .io.model_files import ModelFormatError, model_state_to_bytes

        try:
            return model_state_to_bytes(self.module)
        except ModelFormatError:
            raise TypeError(f"a {type(self.module).__name__} instance given as module= cannot be copied to another "
                            "process: give its class (module=MyNet) and its arguments as module__NAME=value") from None  # fmt: skip

    def __setstate__(self, state):
        from .io.model_files import model_from_state_bytes

        self.module = model_from_state_bytes(*state)


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A neural-network classifier trained with cross-entropy (an MLP, or any module given as ``module=``).

    Args:
        module: a ``shendu.nn.Module`` class (built with the ``module__NAME`` parameters) or instance whose
            output is one logit per class; None (the default) builds an MLP.
        criterion: the loss, a class (built with ``criterion__NAME`` parameters) or a callable. Defaults to
            ``shendu.nn.CrossEntropyLoss`` on the logits and class indices.
        hidden_sizes: widths of the MLP's hidden layers. Defaults to (100,).
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"selu"``,
            ``"gelu"``, ``"silu"``/``"swish"``, ``"softplus"`` or ``"identity"``. Defaults to "relu".
        optimizer: ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"`` or a ``shendu.optim``
            class (more arguments as ``optimizer__NAME``). Defaults to "adam".
        learning_rate: the optimiser's step size. Defaults to 1e-3.
        epochs: passes over the data. Defaults to 10.
        batch_size: samples per update. Defaults to 32.
        weight_decay: L2 penalty given to the optimiser. Defaults to 0.
        dropout: dropout after each hidden activation of the MLP. Defaults to 0.
        validation_split: fraction held out to report ``val_`` curves in ``history_``. Defaults to 0.
        random_state: seed for initialisation, dropout and data order. Defaults to None.
        verbose: progress output (0, 1, 2). Defaults to 0.

    Attributes:
        classes_: the class labels.
        model_: the trained network.
        history_: per-epoch loss (and validation) values.
        n_features_in_: input width.
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features, ...) and labels ``y`` (any hashable labels)."""
        from .nn import CrossEntropyLoss

        X, y = self._inputs(X, y, fitting=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return self._fit(X, encoded.astype(np.int64), len(self.classes_), CrossEntropyLoss)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``: softmax(logits)."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class label of each sample."""
        scores = self._forward(X)
        return self.classes_[scores.argmax(axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A neural-network regressor trained with mean squared error (arguments as :class:`NeuralNetClassifier`).

    ``y`` may have several columns (several outputs). Attributes: model_, history_, n_features_in_;
    ``score`` is R².
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features, ...) and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        from .nn import MSELoss

        X, y = self._inputs(X, y, fitting=True, multi_output=True, y_numeric=True)
        y = y.astype(np.float32)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.y_ndim_ = y.ndim
        return self._fit(X, y.reshape(len(y), -1), self.n_outputs_, MSELoss)

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` given to ``fit``."""
        out = self._forward(X).astype(np.float64)  # scikit-learn's regressors predict float64
        return out.reshape(-1) if self.y_ndim_ == 1 else out
