"""scikit-learn estimators around a function that builds a Keras model: ``KerasClassifier`` and ``KerasRegressor``.

They follow the Keras/scikeras wrappers: the first argument (``model=``, or ``build_fn=`` as in
Keras 2) is the building function (or a model to clone); every other keyword is a
hyper-parameter that scikit-learn can set — so ``GridSearchCV`` searches them (004):

- a parameter named like an argument of the building function is passed to it
  (``activation``, ``optimizer``, ``units``, ...);
- ``epochs``, ``batch_size``, ``verbose``, ``validation_split``, ``shuffle``, ``callbacks`` and
  ``class_weight`` go to ``fit``;
- ``optimizer``, ``loss``, ``metrics`` and ``learning_rate`` not taken by the building function
  go to ``compile`` (when the function returns an uncompiled model they compile it; a learning
  rate is applied to the compiled optimizer);
- prefixed names route explicitly: ``model__units``, ``fit__epochs``, ``compile__loss``,
  ``optimizer__learning_rate``.

Needs the ``sklearn`` extra. A fitted estimator pickles (joblib sends it between processes) as
plain data — the model's config and safetensors bytes — never as pickled shendu objects.

Example:
    >>> def create_model(optimizer="adam", activation="relu", learning_rate=0.001):
    ...     model = Sequential([Dense(32, activation=activation, input_shape=(64,)), Dense(10, activation="softmax")])
    ...     opt = {"adam": Adam, "rmsprop": RMSprop}[optimizer](learning_rate=learning_rate)
    ...     model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ...     return model
    >>> model = KerasClassifier(model=create_model, epochs=5, batch_size=32, verbose=0)
    >>> grid = GridSearchCV(estimator=model, param_grid={"optimizer": ["adam", "rmsprop"],
    ...                     "activation": ["relu", "tanh"], "learning_rate": [0.001, 0.01]}, cv=3)
    >>> grid.fit(x_train, y_train).best_params_
"""

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("shendu.keras.wrappers needs scikit-learn 1.6 or newer: pip install 'shendu[sklearn]'") from None

import inspect
import warnings

import numpy as np

from .models import Model, clone_model

__all__ = ["KerasClassifier", "KerasRegressor"]

_FIT_PARAMS = {"epochs", "batch_size", "verbose", "validation_split", "shuffle", "callbacks", "class_weight",
               "validation_data", "initial_epoch", "validation_batch_size"}  # fmt: skip
_COMPILE_PARAMS = {"optimizer", "loss", "metrics", "learning_rate"}
#: the arguments scikeras gives a building function that asks for them
_BUILD_EXTRAS = ("meta", "compile_kwargs", "params")


class _KerasEstimator(BaseEstimator):
    """The shared part. Hyper-parameters left at None are left to the model (its compile) or to Keras' ``fit``."""

    def __init__(self, model=None, *, build_fn=None, warm_start=False, random_state=None, optimizer=None, loss=None,
                 metrics=None, batch_size=None, validation_batch_size=None, verbose=0, callbacks=None,
                 validation_split=0.0, shuffle=True, epochs=1, class_weight=None, **kwargs):  # fmt: skip
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.epochs = epochs
        self.class_weight = class_weight
        self._sk_params = list(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    # ----- scikit-learn's parameter protocol (with the extra keyword parameters) ------------------
    def get_params(self, deep=True):
        return {**super().get_params(deep=deep), **{key: getattr(self, key) for key in self._sk_params}}

    def set_params(self, **params):
        known = set(super().get_params(deep=False))
        for key, value in params.items():
            if key not in known and key not in self._sk_params:
                self._sk_params.append(key)
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ----- building ---------------------------------------------------------------------------------
    def _builder(self):
        builder = self.model if self.model is not None else self.build_fn
        if builder is None:
            raise ValueError(f"{type(self).__name__} needs model= (a function that builds a Keras model, or a model)")
        if not (callable(builder) or isinstance(builder, Model)):
            raise TypeError(f"model must be a function returning a Keras model, or a model. Received: {builder!r}")
        return builder

    def _split_params(self, builder):
        """(build kwargs, compile kwargs, fit kwargs, optimizer kwargs) from the hyper-parameters."""
        explicit = {key: value for key, value in super().get_params(deep=False).items()
                    if key not in ("model", "build_fn", "warm_start", "random_state") and value is not None}  # fmt: skip
        params = {**explicit, **{key: getattr(self, key) for key in self._sk_params}}
        accepted, takes_any = set(), False
        if callable(builder) and not isinstance(builder, Model):
            signature = inspect.signature(builder)
            accepted = {n for n, p in signature.parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
            takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        build, compile_, fit, opt = {}, {}, {}, {}
        for key, value in params.items():
            if key.startswith(("model__", "build__")):
                build[key.split("__", 1)[1]] = value
            elif key.startswith("fit__"):
                fit[key[5:]] = value
            elif key.startswith("compile__"):
                compile_[key[9:]] = value
            elif key.startswith("optimizer__"):
                opt[key[11:]] = value
            elif key in accepted and key not in _BUILD_EXTRAS:
                build[key] = value
            elif key in _FIT_PARAMS:
                fit[key] = value
            elif key in _COMPILE_PARAMS:
                compile_[key] = value
            elif takes_any:
                build[key] = value
            else:
                legal = sorted(accepted | _FIT_PARAMS | _COMPILE_PARAMS)
                raise ValueError(f"{key} is not a legal parameter of {type(self).__name__}: it is not an argument of "
                                 f"the model-building function nor of fit/compile. Legal parameters: {legal}")  # fmt: skip
        if "learning_rate" in compile_:
            opt.setdefault("learning_rate", compile_.pop("learning_rate"))
        extras = {"meta": self._meta(), "compile_kwargs": dict(compile_), "params": params}
        build.update({name: extras[name] for name in _BUILD_EXTRAS if name in accepted})
        return build, compile_, fit, opt

    def _meta(self):
        """What scikeras calls ``meta``: what ``fit`` learned of the data, for the building function."""
        names = ("n_features_in_", "X_shape_", "X_dtype_", "y_dtype_", "y_ndim_", "target_type_", "classes_",
                 "n_classes_", "n_outputs_", "n_outputs_expected_")  # fmt: skip
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    def _build_model(self):
        from .. import random as shendu_random

        if self.random_state is not None:
            shendu_random.manual_seed(int(self.random_state))
        builder = self._builder()
        build, compile_, fit, opt = self._split_params(builder)
        if isinstance(builder, Model):
            model = clone_model(builder)
        else:
            model = builder(**build)
        if not isinstance(model, Model):
            raise TypeError(f"the model-building function must return a keras Model; it returned {type(model).__name__}")
        if not model.compiled or compile_:
            settings = model._compile_args if model.compiled else {}
            model.compile(optimizer=compile_.get("optimizer", settings.get("optimizer", "rmsprop")),
                          loss=compile_.get("loss", settings.get("loss") or self._default_loss_for(model)),
                          metrics=compile_.get("metrics", settings.get("metrics")))  # fmt: skip
        for key, value in opt.items():
            if key in ("learning_rate", "lr"):
                model.optimizer.learning_rate = value
            elif hasattr(model.optimizer, key):
                setattr(model.optimizer, key, value)
            else:
                raise ValueError(f"optimizer__{key}: {type(model.optimizer).__name__} has no argument {key!r}")
        return model, fit

    def _default_loss_for(self, model):
        return "mse"

    # ----- data -------------------------------------------------------------------------------------
    def _validate_fit(self, X, y, sample_weight, **y_checks):
        """X, y (and sample weights) through scikit-learn's checks; records the ``meta`` attributes."""
        if _several_inputs(X):
            X = [np.asarray(x, dtype=np.float32) for x in X]
            y = np.asarray(y)
            if any(len(x) != len(y) for x in X):
                raise ValueError(f"every input needs one row per label ({len(y)}); got {[len(x) for x in X]}")
            self.n_features_in_ = None
            self.X_shape_, self.X_dtype_ = [x.shape for x in X], [x.dtype for x in X]
        else:
            X, y = validate_data(self, X, y, dtype=np.float32, allow_nd=True, multi_output=True, **y_checks)
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X[0] if isinstance(X, list) else X, dtype=np.float32)
        self.y_dtype_, self.y_ndim_ = y.dtype, y.ndim
        self.target_type_ = type_of_target(y)
        return X, y, sample_weight

    def _fit_model(self, X, target, sample_weight, fit_kwargs):
        """Build (or, with ``warm_start``, keep) the model and train it with Keras' ``fit``."""
        if self.warm_start and hasattr(self, "model_"):
            model, fit = self.model_, self._split_params(self._builder())[2]
        else:
            model, fit = self._build_model()
        target = self._model_target(model, target)
        fit = {**fit, **fit_kwargs}
        if sample_weight is not None:
            fit["sample_weight"] = sample_weight
        history = model.fit(X, target, **fit)
        self.model_ = model
        self.history_ = dict(history.history)
        return self

    def _model_target(self, model, target):
        return target

    def _predict_raw(self, X):
        check_is_fitted(self, "model_")
        if _several_inputs(X):
            X = [np.asarray(x, dtype=np.float32) for x in X]
        else:
            X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
        batch_size = self.batch_size or 256
        return self.model_.predict(X, batch_size=batch_size, verbose=0)

    # ----- pickling as data ----------------------------------------------------------------------------
    def __getstate__(self):
        from ..io.model_files import pack_fitted_model

        return pack_fitted_model(self.__dict__)

    def __setstate__(self, state):
        from ..io.model_files import unpack_fitted_model

        self.__dict__.update(unpack_fitted_model(state))


def _several_inputs(X):
    """A list of arrays, one per model input (each with one row per sample) — not a list of sample rows."""
    return (isinstance(X, (list, tuple)) and len(X) > 0 and all(isinstance(x, np.ndarray) and x.ndim >= 2 for x in X)
            and len({len(x) for x in X}) == 1)  # fmt: skip


class KerasClassifier(ClassifierMixin, _KerasEstimator):
    """A scikit-learn classifier around a Keras model-building function (scikeras' interface).

    Args:
        model: a function returning a Keras model (compiled or not), or a model to clone. ``build_fn=``
            is the Keras 2 spelling. A function that has a ``meta`` argument receives what ``fit`` learned
            of the data (``n_features_in_``, ``n_classes_``, ``classes_``, ``target_type_``, ``X_shape_``, ...),
            as scikeras gives it; ``compile_kwargs`` and ``params`` likewise.
        optimizer, loss, metrics: given to ``compile`` (or to the building function if it takes them);
            None leaves the model's own. epochs, batch_size, verbose, callbacks, validation_split,
            validation_batch_size, shuffle, class_weight: given to ``fit`` (None: Keras' defaults).
        warm_start: a second ``fit`` continues training the fitted model instead of building a new one.
        random_state: seeds the weights and the data order.
        **kwargs: more hyper-parameters, routed to the building function, ``fit`` or ``compile`` (see the module).

    Labels may be any values (strings, ints); ``classes_`` keeps them. Targets are given to the
    model as the compiled loss expects: one-hot for ``categorical_crossentropy``, class ids for
    ``sparse_categorical_crossentropy``, 0/1 for ``binary_crossentropy``. An uncompiled model is
    compiled with ``sparse_categorical_crossentropy`` (``binary_crossentropy`` for one sigmoid unit).

    Attributes:
        classes_: the class labels, in the order of ``predict_proba``'s columns.
        n_classes_: their number.
        model_: the trained Keras model.
        history_: its ``history.history``.
    """

    def _default_loss_for(self, model):
        layers = model.layers
        last = layers[-1] if layers else None
        units = getattr(last, "units", None)
        if units == 1 and getattr(last, "_activation_name", None) == "sigmoid":
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Train on ``X`` and labels ``y`` (or one-hot rows, as Keras 2's wrapper took them: classes 0..k-1)."""
        X, y, sample_weight = self._validate_fit(X, y, sample_weight)
        check_classification_targets(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected: it is ravelled.",
                          DataConversionWarning, stacklevel=2)  # fmt: skip
            y = y.ravel()
        if y.ndim == 2:
            if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
                raise ValueError("y with several columns must be one-hot rows (multi-label targets are not supported)")
            self.classes_, encoded = np.arange(y.shape[1]), y.argmax(axis=1)
        else:
            self.classes_, encoded = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        self.n_outputs_, self.n_outputs_expected_ = 1, 1
        return self._fit_model(X, encoded.astype(np.int64), sample_weight, kwargs)

    def _model_target(self, model, target):
        """Class ids, one-hot for a model compiled with categorical cross-entropy."""
        from .losses import CategoricalCrossentropy
        from .utils import to_categorical

        return to_categorical(target, self.n_classes_) if isinstance(model._loss_object, CategoricalCrossentropy) else target

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        out = np.asarray(self._predict_raw(X), dtype=np.float64)
        if out.ndim == 1 or out.shape[-1] == 1:
            p = out.reshape(len(out))
            return np.stack([1 - p, p], axis=1) if self.n_classes_ == 2 else np.ones((len(out), 1))
        return out

    def predict(self, X):
        """The most probable class label of each sample."""
        probabilities = self.predict_proba(X)
        return self.classes_[probabilities.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``X`` against labels ``y`` (class labels, or one-hot rows as ``fit`` takes)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = self.classes_[y.argmax(axis=1)]
        return super().score(X, y, sample_weight=sample_weight)


class KerasRegressor(RegressorMixin, _KerasEstimator):
    """A scikit-learn regressor around a Keras model-building function (arguments as :class:`KerasClassifier`).

    An uncompiled model is compiled with ``mse``. ``y`` may have several columns. ``score`` is R².
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Train on ``X`` and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        X, y, sample_weight = self._validate_fit(X, y, sample_weight, y_numeric=True)
        y = y.astype(np.float32)
        self.n_outputs_ = self.n_outputs_expected_ = 1 if y.ndim == 1 else y.shape[1]
        return self._fit_model(X, y, sample_weight, kwargs)

    def predict(self, X):
        """Predicted targets (float64, as scikit-learn's regressors), shaped like the ``y`` given to ``fit``."""
        out = np.asarray(self._predict_raw(X), dtype=np.float64)
        return out.reshape(len(out)) if self.y_ndim_ == 1 and out.ndim == 2 and out.shape[1] == 1 else out
