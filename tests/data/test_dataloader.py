"""Datasets, samplers and the DataLoader: coverage, order, reproducibility, collation (vs PyTorch)."""

import collections

import numpy as np
import pytest
import torch.utils.data as tud

import shendu
from shendu.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, random_split,
)  # fmt: skip


def _dataset(n=103, features=4):
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    return TensorDataset(x, np.arange(n)), x


def _labels(loader):
    return np.concatenate([y.numpy() for _, y in loader])


class Squares(Dataset):
    """A per-sample dataset (no fast path): (float vector, int label)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(3, i * i, np.float32), i


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 10, 103, 500])
def test_each_epoch_visits_every_sample_exactly_once(shuffle, batch_size):
    ds, x = _dataset()
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-103 // batch_size)
        labels = np.concatenate([y.numpy() for _, y in batches])
        assert sorted(labels.tolist()) == list(range(103))
        in_order = labels.tolist() == list(range(103))
        assert in_order is not shuffle
        for xb, yb in batches:  # inputs stay paired with their labels
            np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_batches_are_shendu_tensors_with_the_datasets_dtypes():
    ds, _ = _dataset()
    xb, yb = next(iter(DataLoader(ds, batch_size=8)))
    assert isinstance(xb, shendu.Tensor) and xb.dtype == shendu.float32 and tuple(xb.shape) == (8, 4)
    assert yb.dtype == shendu.int64 and not xb.requires_grad


def test_shuffle_differs_between_epochs_and_repeats_with_a_seed():
    ds, _ = _dataset()
    shendu.manual_seed(1)
    first, second = _labels(DataLoader(ds, 16, shuffle=True)), _labels(DataLoader(ds, 16, shuffle=True))
    shendu.manual_seed(1)
    again = _labels(DataLoader(ds, 16, shuffle=True))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    seeded = DataLoader(ds, 16, shuffle=True, generator=7)
    a, b = _labels(seeded), _labels(seeded)
    assert not np.array_equal(a, b)  # a seeded loader still reshuffles each epoch...
    np.testing.assert_array_equal(a, _labels(DataLoader(ds, 16, shuffle=True, generator=7)))  # ...reproducibly
    g = shendu.Generator().manual_seed(5)
    c = _labels(DataLoader(ds, 16, shuffle=True, generator=g))
    g.manual_seed(5)
    np.testing.assert_array_equal(c, _labels(DataLoader(ds, 16, shuffle=True, generator=g)))


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last_drops_only_the_short_batch(shuffle):
    ds, _ = _dataset()
    loader = DataLoader(ds, batch_size=10, shuffle=shuffle, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 10 and all(len(y) == 10 for _, y in batches)
    assert len(set(_labels(batches).tolist())) == 100


def test_per_sample_path_matches_torch_dataloader():
    ours = list(DataLoader(Squares(7), batch_size=3))
    theirs = list(tud.DataLoader(Squares(7), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (xo, yo), (xt, yt) in zip(ours, theirs):
        np.testing.assert_array_equal(xo.numpy(), xt.numpy())
        np.testing.assert_array_equal(yo.numpy(), yt.numpy())
        assert str(yt.dtype) == "torch." + str(yo.dtype).split(".")[1]


def test_default_collate_follows_torch_for_nested_samples():
    Point = collections.namedtuple("Point", "x y")
    batch = [
        {"image": np.ones((2, 2), np.uint8) * i, "label": i, "weight": 0.5 * i, "name": f"s{i}", "p": Point(i, [i, -i])}
        for i in range(3)
    ]
    ours, theirs = default_collate(batch), tud.default_collate(batch)
    assert ours.keys() == theirs.keys() and ours["name"] == theirs["name"]
    for key in ("image", "label", "weight"):
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
        assert str(ours[key].dtype).split(".")[1] == str(theirs[key].dtype).split(".")[1]
    assert isinstance(ours["p"], Point)
    np.testing.assert_array_equal(ours["p"].y[1].numpy(), theirs["p"].y[1].numpy())
    pair = default_collate([(shendu.zeros(2), True), (shendu.ones(2), False)])
    assert isinstance(pair, list) and pair[1].dtype == shendu.bool


def test_default_collate_errors_are_clear():
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1.*pad_sequences"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


def test_custom_collate_fn_and_batch_sampler():
    ds, _ = _dataset(10)
    loader = DataLoader(ds, batch_sampler=[[0, 9], [3]], collate_fn=lambda samples: [int(y) for _, y in samples])
    assert list(loader) == [[0, 9], [3]] and len(loader) == 2


def test_batch_size_none_yields_single_converted_samples():
    samples = list(DataLoader(Squares(3), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[2][0], shendu.Tensor) and samples[2][1] == 2


def test_iterable_dataset_is_batched_in_order():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_subset_and_concat_keep_the_fast_path_results_equal_to_per_sample():
    ds, x = _dataset(20)
    parts = [Subset(ds, [5, 3, 19]), ConcatDataset([ds, TensorDataset(-x, np.arange(100, 120))])]
    for d in parts:
        fast = list(DataLoader(d, batch_size=7, shuffle=True, generator=0))
        slow = list(DataLoader(d, batch_size=7, shuffle=True, generator=0, collate_fn=default_collate))
        for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
            np.testing.assert_array_equal(xf.numpy(), xs.numpy())
            np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    assert (ds + ds)[25][1].item() == 5


def test_random_split_partitions_with_counts_or_fractions():
    ds, _ = _dataset(10)
    a, b = random_split(ds, [7, 3], generator=0)
    assert len(a) == 7 and len(b) == 3
    got = sorted(int(a[i][1]) for i in range(7)) + sorted(int(b[i][1]) for i in range(3))
    assert sorted(got) == list(range(10))
    sizes = [len(s) for s in random_split(range(11), [0.5, 0.3, 0.2], generator=0)]
    assert sizes == [len(s) for s in tud.random_split(range(11), [0.5, 0.3, 0.2])] == [6, 3, 2]
    again = random_split(ds, [7, 3], generator=0)[0]
    assert [int(again[i][1]) for i in range(7)] == [int(a[i][1]) for i in range(7)]
    with pytest.raises(ValueError, match="does not equal the length of the dataset"):
        random_split(ds, [5, 4])


def test_samplers_produce_the_expected_indices():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert sorted(RandomSampler(range(6), generator=0)) == list(range(6))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=0))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([4, 8, 9], generator=0)) == [4, 8, 9]
    weighted = list(WeightedRandomSampler([0, 0, 1, 0], num_samples=5, generator=0))
    assert weighted == [2] * 5
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    ds, _ = _dataset(10)
    assert sorted(_labels(DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([1, 2, 3])))) == [1, 2, 3]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size should be a positive integer"),
        ({"shuffle": "yes"}, TypeError, "shuffle should be a boolean"),
        ({"shuffle": True, "sampler": [0, 1]}, ValueError, "mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 4}, ValueError, "mutually exclusive"),
        ({"num_workers": -1}, ValueError, "num_workers"),
        ({"collate_fn": 3}, TypeError, "collate_fn should be callable"),
        ({"shuffle": True, "generator": "seed"}, TypeError, "generator must be None, an int seed"),
    ],
)
def test_bad_loader_arguments_name_the_argument(kwargs, error, message):
    ds, _ = _dataset(4)
    with pytest.raises(error, match=message):
        DataLoader(ds, **kwargs)


def test_bad_datasets_are_rejected_with_reasons():
    with pytest.raises(ValueError, match=r"first dimensions are \[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="argument 1 is list"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(TypeError, match="DataLoader expects a dataset"):
        DataLoader(42)
    ds, _ = _dataset(4)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        ds[4]


def test_loader_over_a_dataset_that_requires_grad_keeps_the_graph():
    w = shendu.ones(6, 2, requires_grad=True)
    (xb,) = next(iter(DataLoader(TensorDataset(w), batch_size=6)))
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((6, 2), np.float32))
