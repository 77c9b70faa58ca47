import os

import numpy as np
import pytest

import shendu

os.environ.setdefault("KERAS_BACKEND", "torch")  # real Keras 3, the Keras dialect's oracle, runs on torch

try:
    import torch

    torch.set_num_threads(1)  # two xdist workers share two cores
except ImportError:  # torch is a test-only dependency
    torch = None


@pytest.fixture(autouse=True)
def _seed_everything():
    shendu.manual_seed(0)
    if torch is not None:
        torch.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
