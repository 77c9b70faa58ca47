"""Utilities for training modules: gradient clipping, parameter vectors."""

from .clip_grad import *
