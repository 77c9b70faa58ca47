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
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("shendu.keras.wrappers needs scikit-learn: pip install 'shendu[sklearn]'") from None

import inspect

import numpy as np

from .models import Model, clone_model

__all__ = ["KerasClassifier", "KerasRegressor"]

_FIT_PARAMS = {"epochs", "batch_size", "verbose", "validation_split", "shuffle", "callbacks", "class_weight",
               "validation_data", "initial_epoch"}  # fmt: skip
_COMPILE_PARAMS = {"optimizer", "loss", "metrics", "learning_rate"}
_PREFIXES = ("model__", "fit__", "compile__", "optimizer__", "build__")


class _KerasEstimator(BaseEstimator):
    _default_loss = "mse"

    def __init__(self, model=None, build_fn=None, **sk_params):
        self.model = model
        self.build_fn = build_fn
        self._sk_params = list(sk_params)
        for key, value in sk_params.items():
            setattr(self, key, value)

    # ----- scikit-learn's parameter protocol ------------------------------------------------------
    def get_params(self, deep=True):
        params = {"model": self.model, "build_fn": self.build_fn}
        params.update({key: getattr(self, key) for key in self._sk_params})
        return params

    def set_params(self, **params):
        for key, value in params.items():
            if key not in ("model", "build_fn") and key not in self._sk_params:
                self._sk_params.append(key)
            setattr(self, key, value)
        return self

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
        params = {key: getattr(self, key) for key in self._sk_params}
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
            elif key in accepted:
                build[key] = value
            elif key in _FIT_PARAMS:
                fit[key] = value
            elif key in _COMPILE_PARAMS:
                compile_[key] = value
            elif key == "random_state":
                continue
            elif takes_any:
                build[key] = value
            else:
                legal = sorted(accepted | _FIT_PARAMS | _COMPILE_PARAMS | {"random_state"})
                raise ValueError(f"{key} is not a legal parameter of {type(self).__name__}: it is not an argument of "
                                 f"the model-building function nor of fit/compile. Legal parameters: {legal}")  # fmt: skip
        if "learning_rate" in compile_:
            opt.setdefault("learning_rate", compile_.pop("learning_rate"))
        return build, compile_, fit, opt

    def _build_model(self, n_outputs_hint):
        from .. import random as shendu_random

        state = getattr(self, "random_state", None)
        if state is not None:
            shendu_random.manual_seed(int(state))
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
                          loss=compile_.get("loss", settings.get("loss") or self._default_loss_for(model, n_outputs_hint)),
                          metrics=compile_.get("metrics", settings.get("metrics")))  # fmt: skip
        for key, value in opt.items():
            if key in ("learning_rate", "lr"):
                model.optimizer.learning_rate = value
            elif hasattr(model.optimizer, key):
                setattr(model.optimizer, key, value)
            else:
                raise ValueError(f"optimizer__{key}: {type(model.optimizer).__name__} has no argument {key!r}")
        return model, fit

    def _default_loss_for(self, model, n_outputs_hint):
        return self._default_loss

    def _fit_model(self, X, target, n_outputs_hint, fit_kwargs=None):
        model, fit = self._build_model(n_outputs_hint)
        fit = {**fit, **(fit_kwargs or {})}
        fit.setdefault("verbose", 0)
        history = model.fit(X, target, **fit)
        self.model_ = model
        self.history_ = dict(history.history)
        return self

    def _predict_raw(self, X):
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first.")
        batch_size = getattr(self, "batch_size", None) or 256
        return self.model_.predict(_features(X), batch_size=batch_size, verbose=0)

    # ----- pickling as data ----------------------------------------------------------------------------
    def __getstate__(self):
        from ..io.model_files import pack_fitted_model

        return pack_fitted_model(self.__dict__)

    def __setstate__(self, state):
        from ..io.model_files import unpack_fitted_model

        self.__dict__.update(unpack_fitted_model(state))


def _features(X):
    if isinstance(X, (list, tuple)) and X and all(isinstance(x, np.ndarray) for x in X):
        return list(X)
    return np.asarray(X)


class KerasClassifier(ClassifierMixin, _KerasEstimator):
    """A scikit-learn classifier around a Keras model-building function.

    Args:
        model: a function returning a Keras model (compiled or not), or a model to clone. ``build_fn=``
            is the Keras 2 spelling.
        **sk_params: hyper-parameters, routed to the building function, ``fit`` or ``compile`` (see the module).

    Labels may be any values (strings, ints); ``classes_`` keeps them. Targets are given to the
    model as the compiled loss expects: one-hot for ``categorical_crossentropy``, class ids for
    ``sparse_categorical_crossentropy``, 0/1 for ``binary_crossentropy``. An uncompiled model is
    compiled with ``sparse_categorical_crossentropy`` (``binary_crossentropy`` for one sigmoid unit).

    Attributes:
        classes_, n_classes_, model_ (the trained Keras model), history_ (its ``history.history``).
    """

    def _default_loss_for(self, model, n_outputs_hint):
        layers = model.layers
        last = layers[-1] if layers else None
        units = getattr(last, "units", None)
        if units == 1 and getattr(last, "_activation_name", None) == "sigmoid":
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def fit(self, X, y, **kwargs):
        """Train on ``X`` and labels ``y``."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows, as Keras 2's wrapper took them: classes 0..k-1
            self.classes_, encoded = np.arange(y.shape[1]), y.argmax(axis=1)
        else:
            y = y.reshape(len(y))
            self.classes_, encoded = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        X = _features(X)
        model, fit = self._build_model(self.n_classes_)
        from .losses import CategoricalCrossentropy

        target = encoded.astype(np.int64)
        if isinstance(model._loss_object, CategoricalCrossentropy):
            from .utils import to_categorical

            target = to_categorical(target, self.n_classes_)
        fit = {**fit, **kwargs}
        fit.setdefault("verbose", 0)
        history = model.fit(X, target, **fit)
        self.model_ = model
        self.history_ = dict(history.history)
        return self

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        out = np.asarray(self._predict_raw(X), dtype=np.float64)
        if out.ndim == 1 or out.shape[-1] == 1:
            p = out.reshape(len(out))
            return np.stack([1 - p, p], axis=1)
        return out

    def predict(self, X):
        """The most probable class label of each sample."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``X`` against labels ``y`` (class labels, or one-hot rows as ``fit`` takes)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = self.classes_[y.argmax(axis=1)]
        return super().score(X, y, sample_weight=sample_weight)


class KerasRegressor(RegressorMixin, _KerasEstimator):
    """A scikit-learn regressor around a Keras model-building function (arguments as :class:`KerasClassifier`).

    An uncompiled model is compiled with ``mse``. ``score`` is R².
    """

    def fit(self, X, y, **kwargs):
        """Train on ``X`` and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        y = np.asarray(y, dtype=np.float32)
        self.y_ndim_ = y.ndim
        return self._fit_model(_features(X), y, 1 if y.ndim == 1 else y.shape[1], kwargs)

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` given to ``fit``."""
        out = np.asarray(self._predict_raw(X))
        return out.reshape(len(out)) if self.y_ndim_ == 1 and out.ndim == 2 and out.shape[1] == 1 else out
