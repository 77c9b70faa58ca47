"""scikit-learn estimators around shendu MLPs: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They follow scikit-learn's estimator contract (hyper-parameters are constructor arguments,
``get_params`` / ``set_params``, learned state in attributes ending with ``_``), so
``GridSearchCV``, ``cross_val_score``, ``Pipeline`` and ``clone`` work on them, in parallel
through joblib too (004 §grid search: ``optimizer``, ``activation``, ``learning_rate``, ``cv=3``).
Needs the ``sklearn`` extra.

A fitted estimator can be pickled by joblib/scikit-learn: its network travels as plain data
(the architecture config and safetensors bytes), never as pickled shendu objects.

Example:
    >>> from sklearn.model_selection import GridSearchCV
    >>> search = GridSearchCV(NeuralNetClassifier(epochs=5),
    ...                       {"optimizer": ["adam", "rmsprop"], "activation": ["relu", "tanh"],
    ...                        "learning_rate": [1e-3, 1e-2]}, cv=3, n_jobs=2)
    >>> search.fit(x, y).best_params_
"""

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("shendu.sklearn needs scikit-learn: pip install 'shendu[sklearn]'") from None

import numpy as np

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "ACTIVATIONS", "OPTIMIZERS"]

#: activation name -> shendu.nn class name
ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU",
    "selu": "SELU", "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "softplus": "Softplus", "identity": "Identity",
}  # fmt: skip
#: optimizer name -> shendu.optim class name
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


class _NeuralNet(BaseEstimator):
    """The shared part: an MLP ``n_features -> hidden_sizes... -> n_outputs`` trained by :func:`shendu.train.fit`."""

    def __init__(self, hidden_sizes=(100,), activation="relu", optimizer="adam", learning_rate=1e-3, epochs=10,
                 batch_size=32, weight_decay=0.0, dropout=0.0, validation_split=0.0, random_state=None,
                 verbose=0):  # fmt: skip
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

    # ----- building ------------------------------------------------------------------------
    def _check_params(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}")
        if not (isinstance(self.optimizer, str) and self.optimizer.lower() in OPTIMIZERS):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected one of {sorted(OPTIMIZERS)}")
        sizes = (self.hidden_sizes,) if isinstance(self.hidden_sizes, int) else tuple(self.hidden_sizes)
        if not all(isinstance(h, (int, np.integer)) and h > 0 for h in sizes):
            raise ValueError(f"hidden_sizes must be positive integers. Received: hidden_sizes={self.hidden_sizes!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be positive. Received: learning_rate={self.learning_rate!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={self.dropout!r}")
        return [int(h) for h in sizes]

    def _build(self, n_in, n_out):
        from . import nn

        sizes = self._check_params()
        layers, width = [], n_in
        for hidden in sizes:
            layers += [nn.Linear(width, hidden), getattr(nn, ACTIVATIONS[self.activation])()]
            if self.dropout:
                layers.append(nn.Dropout(self.dropout))
            width = hidden
        layers.append(nn.Linear(width, n_out))
        return nn.Sequential(*layers)

    def _make_optimizer(self, parameters):
        from . import optim

        kwargs = {"lr": float(self.learning_rate)}
        if self.weight_decay:
            kwargs["weight_decay"] = float(self.weight_decay)
        return getattr(optim, OPTIMIZERS[self.optimizer.lower()])(list(parameters), **kwargs)

    def _check_X(self, X, fitting):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            raise ValueError("Expected a 2D array of shape (n_samples, n_features); got a 1D array. "
                             "Reshape it with X.reshape(-1, 1) (one feature) or X.reshape(1, -1) (one sample).")  # fmt: skip
        X = X.reshape(len(X), -1)
        if not np.all(np.isfinite(X)):
            raise ValueError("Input X contains NaN or infinity.")
        if fitting:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
            )
        return X

    def _fit(self, X, target, n_out, loss_fn):
        from . import random as shendu_random
        from .train import Trainer

        state = self.random_state
        if isinstance(state, (int, np.integer)):
            seed = int(state)
        elif isinstance(state, np.random.RandomState):
            seed = int(state.randint(2**31))
        else:  # None or a numpy Generator
            seed = int((state if isinstance(state, np.random.Generator) else np.random.default_rng()).integers(2**31))
        shendu_random.manual_seed(int(seed))
        model = self._build(X.shape[1], n_out)
        trainer = Trainer(model, loss_fn, self._make_optimizer(model.parameters()))
        history = trainer.fit((X, target), epochs=int(self.epochs), batch_size=int(self.batch_size),
                              validation_split=self.validation_split, verbose=self.verbose, seed=int(seed))  # fmt: skip
        self.model_ = model
        self.history_ = history.history
        return self

    def _forward(self, X):
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first.")
        from .train import predict

        return predict(self.model_, self._check_X(X, fitting=False), batch_size=1024)

    # ----- pickling as data (joblib sends fitted estimators between processes) -------------
    def __getstate__(self):
        from .io.model_files import pack_fitted_model

        return pack_fitted_model(super().__getstate__())

    def __setstate__(self, state):
        from .io.model_files import unpack_fitted_model

        super().__setstate__(unpack_fitted_model(state))


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A multi-layer perceptron classifier trained with cross-entropy.

    Args:
        hidden_sizes: widths of the hidden layers. Defaults to (100,).
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"selu"``,
            ``"gelu"``, ``"silu"``/``"swish"``, ``"softplus"`` or ``"identity"``. Defaults to "relu".
        optimizer: ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"`` or ``"adamw"``. Defaults to "adam".
        learning_rate: the optimiser's step size. Defaults to 1e-3.
        epochs: passes over the data. Defaults to 10.
        batch_size: samples per update. Defaults to 32.
        weight_decay: L2 penalty given to the optimiser. Defaults to 0.
        dropout: dropout after each hidden activation. Defaults to 0.
        validation_split: fraction held out to report ``val_`` curves in ``history_``. Defaults to 0.
        random_state: seed for initialisation, dropout and data order. Defaults to None.
        verbose: progress output (0, 1, 2). Defaults to 0.

    Attributes:
        classes_: the class labels. model_: the trained ``shendu.nn.Sequential``.
        history_: per-epoch loss (and validation) values. n_features_in_: input width.
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (any hashable labels)."""
        from .nn import CrossEntropyLoss

        X = self._check_X(X, fitting=True)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1D with one label per sample ({len(X)}); got shape {y.shape}")
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return self._fit(X, encoded.astype(np.int64), len(self.classes_), CrossEntropyLoss())

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class label of each sample."""
        scores = self._forward(X)
        return self.classes_[scores.argmax(axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A multi-layer perceptron regressor trained with mean squared error (arguments as :class:`NeuralNetClassifier`).

    Attributes:
        model_, history_, n_features_in_; ``score`` is R².
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        from .nn import MSELoss

        X = self._check_X(X, fitting=True)
        y = np.asarray(y, dtype=np.float32)
        if len(y) != len(X) or y.ndim not in (1, 2):
            raise ValueError(f"y must have one row per sample ({len(X)}); got shape {y.shape}")
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.y_ndim_ = y.ndim
        return self._fit(X, y.reshape(len(y), -1), self.n_outputs_, MSELoss())

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` given to ``fit``."""
        out = self._forward(X)
        return out.reshape(-1) if self.y_ndim_ == 1 else out
