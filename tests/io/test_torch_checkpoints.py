"""``shendu.load`` reads checkpoints written by ``torch.save`` through a restricted unpickler, never running code."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
from shendu.io import SerializationError


def _models():
    return [
        (lambda lib: lib.nn.Sequential(lib.nn.Conv2d(1, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.Flatten(),
                                       lib.nn.Linear(64, 3)), (2, 1, 6, 6)),  # fmt: skip
        (lambda lib: lib.nn.LSTM(5, 7, num_layers=2, batch_first=True), (2, 3, 5)),
        (lambda lib: lib.nn.Sequential(lib.nn.Embedding(10, 4), lib.nn.Flatten(), lib.nn.Linear(12, 2)), None),
    ]


FORMATS = pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])


def _save(obj, path, legacy):
    """torch.save in its zip format, or in the legacy one (PyTorch < 1.6, or asked for)."""
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)


@FORMATS
@pytest.mark.parametrize(("make", "shape"), _models(), ids=["cnn", "lstm", "embedding"])
def test_a_pytorch_state_dict_loads_into_the_same_shendu_model(tmp_path, make, shape, legacy):
    torch.manual_seed(0)
    reference = make(torch).eval()
    _save(reference.state_dict(), tmp_path / "model.pt", legacy)
    model = make(shendu).eval()
    model.load_state_dict(shendu.load(tmp_path / "model.pt"))
    if shape is None:
        x = np.random.default_rng(0).integers(0, 10, (2, 3))
        ours, theirs = model(shendu.tensor(x)), reference(torch.tensor(x))
    else:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        ours, theirs = model(shendu.tensor(x)), reference(torch.tensor(x))
    if isinstance(ours, tuple):
        ours, theirs = ours[0], theirs[0]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@FORMATS
def test_dtypes_views_shared_storages_and_plain_data(tmp_path, legacy):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    saved = {
        "f32": torch.ones(2, 3), "f16": torch.full((3,), 0.5, dtype=torch.float16), "i64": torch.arange(4),
        "i32": torch.arange(3, dtype=torch.int32), "bool": torch.tensor([True, False]), "u8": torch.tensor([1, 255], dtype=torch.uint8),
        "bf16": torch.tensor([1.5, -2.0], dtype=torch.bfloat16), "view": base[1:3, ::2], "transposed": base.t(),
        "scalar": torch.tensor(3.25), "empty": torch.zeros(0, 4), "nested": {"lr": 0.01, "betas": (0.9, 0.999), "steps": [1, 2]},
        "param": torch.nn.Parameter(torch.ones(2)), "size": torch.Size([2, 3]),
    }  # fmt: skip
    _save(saved, tmp_path / "mixed.pt", legacy)
    loaded = shendu.load(tmp_path / "mixed.pt")
    for key in ("f32", "f16", "i64", "i32", "bool", "u8", "view", "transposed", "scalar", "empty", "param"):
        expected = saved[key].detach().numpy()
        got = loaded[key].numpy()
        assert got.dtype == expected.dtype and got.shape == expected.shape, key
        np.testing.assert_array_equal(got, expected, err_msg=key)
    np.testing.assert_array_equal(loaded["bf16"].numpy(), np.array([1.5, -2.0], np.float32))  # widened: NumPy has no bfloat16
    assert loaded["nested"] == {"lr": 0.01, "betas": (0.9, 0.999), "steps": [1, 2]}
    assert tuple(loaded["size"]) == (2, 3)
    assert shendu.load(tmp_path / "mixed.pt", map_location="cpu", weights_only=True)["i64"].tolist() == [0, 1, 2, 3]
    assert shendu.load(tmp_path / "mixed.pt", map_location=torch.device("cpu"))["scalar"].item() == 3.25
    assert isinstance(shendu.load(tmp_path / "mixed.pt", as_numpy=True)["f32"], np.ndarray)


def _replace_pickle(source, target, payload):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as rewritten:
        for info in original.infolist():
            data = payload if info.filename.endswith("data.pkl") else original.read(info)
            rewritten.writestr(info.filename, data)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (b"cos\nsystem\n(S'touch {marker}'\ntR.", "os.system"),
        (b"cbuiltins\neval\n(S'open(\"{marker}\", \"w\")'\ntR.", "builtins.eval"),
        (b"ctorch.nn.modules.linear\nLinear\n(I2\nI2\ntR.", "torch.nn.modules.linear.Linear"),
        (b"csubprocess\nPopen\n(S'touch {marker}'\ntR.", "subprocess.Popen"),
    ],
    ids=["os.system", "eval", "a-model-class", "subprocess"],
)
def test_a_hostile_checkpoint_is_refused_and_runs_nothing(tmp_path, payload, named):
    torch.save({"w": torch.ones(2)}, tmp_path / "good.pt")
    marker = tmp_path / "ran"
    _replace_pickle(tmp_path / "good.pt", tmp_path / "evil.pt", payload.replace(b"{marker}", str(marker).encode()))
    with pytest.raises(SerializationError, match=f"names {named}, which shendu will not import"):
        shendu.load(tmp_path / "evil.pt")
    assert not marker.exists()
    pickle.loads  # noqa: B018 - the standard unpickler is never used by shendu.load (see the module)


def test_a_tensor_that_reaches_past_its_storage_is_refused(tmp_path):
    torch.save({"w": torch.ones(4)}, tmp_path / "good.pt")
    with zipfile.ZipFile(tmp_path / "good.pt") as archive:
        data = archive.read([n for n in archive.namelist() if n.endswith("data.pkl")][0])
    # The size tuple (4,) becomes (400,): the storage still holds 4 floats.
    _replace_pickle(tmp_path / "good.pt", tmp_path / "bad.pt", data.replace(b"K\x04\x85", b"M\x90\x01\x85", 1))
    with pytest.raises(SerializationError, match="reaches past its storage"):
        shendu.load(tmp_path / "bad.pt")


def test_other_zip_archives_and_unpickling_on_request_are_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(SerializationError, match="is a Keras .keras archive, not a PyTorch checkpoint"):
        shendu.load(tmp_path / "model.keras")
    torch.save({"w": torch.ones(1)}, tmp_path / "ok.pt")
    assert shendu.load(tmp_path / "ok.pt", weights_only=False)["w"].tolist() == [1.0]  # still the restricted reader
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")  # a pickled model object: never unpickled by shendu
    with pytest.raises(SerializationError, match="names torch.nn.modules.linear.Linear, which shendu will not import"):
        shendu.load(tmp_path / "model.pt", weights_only=False)
    with pytest.raises(ValueError, match="map_location must be 'cpu'"):
        shendu.load(tmp_path / "ok.pt", map_location="cuda:0")


def test_a_checkpoint_trained_in_pytorch_continues_in_shendu(tmp_path):
    """The seed MLP trained a few steps in PyTorch, saved, loaded into shendu: same predictions."""
    torch.manual_seed(1)
    reference = torch.nn.Sequential(torch.nn.Linear(784, 500), torch.nn.ReLU(), torch.nn.Linear(500, 10))
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    x = torch.randn(32, 784)
    y = torch.randint(0, 10, (32,))
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(x), y).backward()
        optimizer.step()
    buffer = io.BytesIO()
    torch.save(reference.state_dict(), buffer)
    (tmp_path / "mlp.pt").write_bytes(buffer.getvalue())
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    model.load_state_dict(shendu.load(os.fspath(tmp_path / "mlp.pt")))
    np.testing.assert_allclose(model(shendu.tensor(x.numpy())).detach().numpy(), reference(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def _legacy_with_object_pickle(path, payload):
    """A legacy checkpoint whose object pickle is ``payload`` (its header pickles genuine)."""
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(payload)
        pickle.dump([], f, protocol=2)


@pytest.mark.parametrize(
    ("payload", "named"),
    [(b"cos\nsystem\n(S'touch {marker}'\ntR.", "os.system"), (b"cbuiltins\neval\n(S'open(\"{marker}\", \"w\")'\ntR.", "builtins.eval")],
    ids=["os.system", "eval"],
)
def test_a_hostile_legacy_checkpoint_is_refused_and_runs_nothing(tmp_path, payload, named):
    marker = tmp_path / "ran"
    _legacy_with_object_pickle(tmp_path / "evil.pt", payload.replace(b"{marker}", str(marker).encode()))
    with pytest.raises(SerializationError, match=f"names {named}, which shendu will not import"):
        shendu.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_other_pickles_and_damaged_legacy_checkpoints_are_named(tmp_path):
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump({"weights": [1.0, 2.0]}, f, protocol=4)
    with pytest.raises(SerializationError, match="plain.pkl is a Python pickle, not a PyTorch checkpoint"):
        shendu.load(tmp_path / "plain.pkl")
    marker = tmp_path / "ran"
    with open(tmp_path / "evil.pkl", "wb") as f:  # a pickle that would run a command at its first opcode
        f.write(b"\x80\x02csubprocess\ncall\n(S'touch " + str(marker).encode() + b"'\ntR.")
    with pytest.raises(SerializationError, match="evil.pkl: the pickle names subprocess.call, which shendu will not import"):
        shendu.load(tmp_path / "evil.pkl")
    assert not marker.exists()  # nothing ran
    _save({"w": torch.arange(5.0)}, tmp_path / "good.pt", legacy=True)
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "short.pt").write_bytes(data[:-4])
    with pytest.raises(SerializationError, match="short.pt is truncated: storage .* needs 20 bytes, 16 remain"):
        shendu.load(tmp_path / "short.pt")
    (tmp_path / "cut.pt").write_bytes(data[:-30])
    with pytest.raises(SerializationError, match="cut.pt: not a readable PyTorch checkpoint"):
        shendu.load(tmp_path / "cut.pt")


def test_a_safetensors_file_whose_header_length_starts_like_a_pickle_is_still_safetensors(tmp_path):
    """A header of 640 bytes is written 80 02 00 ...: the bytes a protocol-2 pickle starts with."""
    for padding in range(1000):
        shendu.save({"w": shendu.ones(3)}, tmp_path / "w.safetensors", metadata={"note": "x" * padding})
        head = (tmp_path / "w.safetensors").read_bytes()[:2]
        if head[0] == 0x80 and 2 <= head[1] <= 5:
            break
    else:
        pytest.fail("no padding gave a pickle-like header length")
    assert shendu.load(tmp_path / "w.safetensors")["w"].tolist() == [1.0, 1.0, 1.0]


def test_a_shendu_model_saved_in_pytorchs_format_loads_in_pytorch(tmp_path):
    shendu.manual_seed(0)
    model = shendu.nn.Sequential(shendu.nn.Conv2d(1, 4, 3), shendu.nn.BatchNorm2d(4), shendu.nn.ReLU(), shendu.nn.Flatten(),
                                 shendu.nn.Linear(64, 3)).eval()  # fmt: skip
    shendu.save(model.state_dict(), tmp_path / "model.pt", format="torch")
    reference = _models()[0][0](torch).eval()
    reference.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(reference(torch.tensor(x)).detach().numpy(), model(shendu.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    state = {"epoch": 3, "big": 2**40, "lr": 0.5, "name": "héllo", "betas": (0.9, 0.999), "none": None, "flags": [True, False],
             "empty": {}, "f16": shendu.ones(2, dtype=shendu.float16), "i64": shendu.arange(3), "scalar": shendu.tensor(2.5),
             "view": shendu.arange(12.0).reshape(3, 4)[:, 1]}  # fmt: skip
    shendu.save(state, tmp_path / "state.pt", format="torch")
    theirs, ours = torch.load(tmp_path / "state.pt", weights_only=True), shendu.load(tmp_path / "state.pt")
    for loaded in (theirs, ours):
        assert {k: loaded[k] for k in ("epoch", "big", "lr", "name", "betas", "none", "flags", "empty")} == {
            k: state[k] for k in ("epoch", "big", "lr", "name", "betas", "none", "flags", "empty")}
        for key in ("f16", "i64", "scalar", "view"):
            np.testing.assert_array_equal(np.asarray(loaded[key].numpy()), state[key].numpy(), err_msg=key)
    assert theirs["f16"].dtype == torch.float16 and theirs["i64"].dtype == torch.int64
    with pytest.raises(SerializationError, match="cannot write a Linear in PyTorch's format"):
        shendu.save({"model": shendu.nn.Linear(2, 2)}, tmp_path / "no.pt", format="torch")
    with pytest.raises(ValueError, match="format must be 'safetensors' or 'torch'"):
        shendu.save(state, tmp_path / "no.pt", format="pickle")
    assert not (tmp_path / "no.pt").exists()
