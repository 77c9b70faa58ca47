"""Training, evaluation and model selection (``shendu.train``).

- :func:`fit` / :func:`evaluate` / :func:`predict` and the :class:`Trainer` behind them;
- :mod:`~shendu.train.metrics`: accuracy, top-k accuracy, precision/recall/F1, confusion
  matrix, MAE, MSE, R²;
- :mod:`~shendu.train.callbacks`: EarlyStopping, ModelCheckpoint, LearningRateScheduler,
  TerminateOnNaN, CSVLogger, TensorBoard, ProgressBar, GradientMonitor, History;
- :mod:`~shendu.train.selection`: :func:`cross_validate` and :func:`grid_search`.
"""

from . import callbacks, metrics, selection
from .callbacks import (
    Callback, CallbackList, CSVLogger, EarlyStopping, GradientMonitor, GradientWarning, History, LambdaCallback,
    LearningRateScheduler, ModelCheckpoint, ProgressBar, TensorBoard, TerminateOnNaN,
)  # fmt: skip
from .metrics import Metric, get_metric
from .selection import CVResult, cross_validate, grid_search
from .trainer import Trainer, evaluate, fit, predict

__all__ = [
    "Trainer", "fit", "evaluate", "predict", "History", "Callback", "CallbackList", "EarlyStopping",
    "ModelCheckpoint", "LearningRateScheduler", "TerminateOnNaN", "CSVLogger", "TensorBoard", "ProgressBar",
    "GradientMonitor", "GradientWarning", "LambdaCallback", "Metric", "get_metric", "cross_validate",
    "grid_search", "CVResult", "metrics", "callbacks", "selection",
]  # fmt: skip
