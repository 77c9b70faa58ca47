"""Optimisers and learning-rate schedules (the ``torch.optim`` dialect).

Example:
    >>> from shendu import optim
    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler", "required"]
