"""``shendu.keras.random``: Keras's shapes, dtypes, seeding rules and distributions."""

import os

import numpy as np
import pytest

import shendu
from shendu.keras import ops, random

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

DRAWS = [
    ("normal", ((4, 3),), {"mean": 1.0, "stddev": 2.0}), ("uniform", ((5,),), {"minval": -1.0, "maxval": 3.0}),
    ("randint", ((2, 2), 0, 10), {}), ("truncated_normal", ((6,),), {}), ("normal", ((2,),), {"dtype": "float64"}),
    ("gamma", ((3,), 2.0), {}), ("beta", ((3,), 2.0, 3.0), {}), ("binomial", ((3,), 5, 0.5), {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "kwargs"), DRAWS, ids=[d[0] for d in DRAWS])
def test_shapes_dtypes_and_int_seeds_as_keras(name, args, kwargs):
    expected = getattr(keras.random, name)(*args, seed=1, **kwargs).detach().numpy()
    got = getattr(random, name)(*args, seed=1, **kwargs)
    assert got.numpy().shape == expected.shape and got.numpy().dtype == expected.dtype
    np.testing.assert_array_equal(got.numpy(), getattr(random, name)(*args, seed=1, **kwargs).numpy())


def test_seed_generator_advances_and_global_seed_reproduces():
    generator = random.SeedGenerator(7)
    first, second = random.normal((3,), seed=generator), random.normal((3,), seed=generator)
    assert not np.array_equal(first.numpy(), second.numpy())
    again = random.SeedGenerator(7)
    np.testing.assert_array_equal(random.normal((3,), seed=again).numpy(), first.numpy())
    shendu.manual_seed(3)
    a = random.uniform((4,)).numpy()
    shendu.manual_seed(3)
    np.testing.assert_array_equal(random.uniform((4,)).numpy(), a)


def test_distributions_have_keras_moments():
    samples = random.normal((200_000,), mean=1.0, stddev=2.0, seed=0).numpy()
    assert abs(samples.mean() - 1.0) < 0.02 and abs(samples.std() - 2.0) < 0.02
    bounded = random.truncated_normal((100_000,), stddev=0.5, seed=0).numpy()
    assert np.abs(bounded).max() <= 1.0 and abs(bounded.std() - 0.5 * 0.8796) < 0.005
    keras_bounded = keras.random.truncated_normal((100_000,), stddev=0.5, seed=0).detach().numpy()
    assert abs(bounded.std() - keras_bounded.std()) < 0.005
    integers = random.randint((10_000,), 3, 7, seed=0).numpy()
    assert set(np.unique(integers)) == {3, 4, 5, 6}


def test_dropout_shuffle_categorical():
    x = ops.ones((1000, 10))
    dropped = random.dropout(x, 0.25, seed=0).numpy()
    assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.75)} and abs((dropped == 0).mean() - 0.25) < 0.02
    rows = random.dropout(x, 0.5, noise_shape=(1000, 1), seed=0).numpy()
    assert all(len(set(row)) == 1 for row in rows)
    shuffled = random.shuffle(ops.arange(10), seed=0).numpy()
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.dtype == np.int32
    draws = random.categorical(np.log([[0.1, 0.9], [1.0, 1e-9]]), 2000, seed=0).numpy()
    assert draws.shape == (2, 2000) and draws.dtype == np.int32
    assert abs(draws[0].mean() - 0.9) < 0.03 and draws[1].max() == 0
    x = shendu.ones(4, requires_grad=True)
    random.dropout(x, 0.5, seed=1).sum().backward()
    assert set(x.grad.numpy().tolist()) <= {0.0, 2.0}


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1. Received: rate=1.5"):
        random.dropout(ops.ones(3), 1.5)
    with pytest.raises(ValueError, match="seed must be None, an int or a SeedGenerator; got str"):
        random.normal((2,), seed="x")
    with pytest.raises(ValueError, match="Expected a float dtype; got int32"):
        random.normal((2,), dtype="int32")
