"""``shendu.keras.utils`` gives real Keras 3's results."""

import os

import numpy as np
import pytest

from shendu.keras import utils

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

SEQUENCES = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"maxlen": 3}, {"padding": "post"}, {"truncating": "post", "maxlen": 2}, {"value": -1, "maxlen": 6},
     {"dtype": "float32", "padding": "post", "value": 0.5}],
)  # fmt: skip
def test_pad_sequences_matches_keras(kwargs):
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    got = utils.pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
