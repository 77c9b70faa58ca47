"""Utilities for training modules: gradient clipping, parameter vectors, packed sequences (``rnn``)."""

from . import rnn
from .clip_grad import *
