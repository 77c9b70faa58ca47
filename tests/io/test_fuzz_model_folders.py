"""Fuzzing model folders and weights files (hypothesis): every case ends in shendu's own error class, or loads,
within a time and memory budget, in a child process limited to 1.5 GB.

Cases: truncations and byte flips anywhere, a random header length, mutated headers (dtypes, shapes,
offsets, overlaps, gaps, huge declared sizes), hostile tensor and child names, configs with random
values at random places (huge layer sizes, deep nesting, code-naming keys), metadata with random
values, and special files (FIFOs, devices, directories, dangling links) in place of each file.

``make test`` runs a few dozen examples per strategy; ``make fuzz`` runs thousands
(``SHENDU_FUZZ_EXAMPLES``), and the longer kill test. Counts are printed at the end of each test.
"""

import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shendu
import shendu.keras  # noqa: F401 - registers the Keras dialect's layers too
import shendu.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = int(os.environ.get("SHENDU_FUZZ_EXAMPLES", "40"))
OWN_ERRORS = {"ModelFormatError", "SerializationError", "NotARegularFileError", "MetadataError", "FileNotFoundError"}
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
TALLY = collections.Counter()


class Loader:
    """The worker process (tests/io/loader_worker.py), restarted if a case kills it."""

    def __init__(self, memory_mb=1500, seconds=20):
        self.memory_mb, self.seconds, self.process = memory_mb, seconds, None

    def _start(self):
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "OPENBLAS_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.io.loader_worker", str(self.memory_mb), str(self.seconds)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def load(self, kind, path):
        if self.process is None or self.process.poll() is not None:
            self._start()
        self.process.stdin.write(json.dumps({"kind": kind, "path": str(path)}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=30)
            self.process.stdin.close()
            self.process.stdout.close()
            self.process = None
            return {"ok": False, "type": "Crash", "message": f"the loader died with code {code}"}
        return json.loads(line)

    def close(self):
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
            self.process.stdout.close()


@pytest.fixture(scope="module")
def loader():
    worker = Loader()
    yield worker
    worker.close()
    print("\nfuzz tally:", dict(TALLY))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template") / "model"
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    preprocess = {"kind": "image", "height": 2, "width": 2, "mean": 0.1, "std": 0.3, "input_shape": [4], "invert": False}
    shendu.save_model(model, folder, metrics={"accuracy": 0.5}, class_names=["a", "b"], metadata={"preprocess": preprocess})
    return folder


def _check(result, case):
    TALLY["inputs"] += 1
    if result["ok"]:
        TALLY["loaded"] += 1
        return
    assert result["type"] in OWN_ERRORS, f"{case}: {result['type']}: {result['message'][:500]}"
    assert len(result["message"]) <= 4000, f"{case}: a message of {len(result['message'])} characters"
    TALLY["clean errors"] += 1


def _copy(template):
    folder = tempfile.mkdtemp(prefix="fuzz-")
    target = os.path.join(folder, "model")
    shutil.copytree(template, target)
    return target


# ----- weights files -----------------------------------------------------------------------------------
def _split(blob):
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _join(header, data):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


hostile_names = st.sampled_from(["", "../x", "a" * 5000, "__metadata__", "0.weight\x00", "\u202e", "1.running_mean", "$tensor"])
numbers = st.one_of(st.integers(-(2**70), 2**70), st.just(2**64 - 1), st.floats(allow_nan=True), st.sampled_from([0, 1, -1, 2**40]))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)  # fmt: skip


@st.composite
def weights_mutations(draw, blob):
    header, data = _split(blob)
    names = [k for k in header if k != "__metadata__"]
    kind = draw(st.sampled_from(["truncate", "flip", "header_len", "dtype", "shape", "offsets", "rename", "value", "trailing", "drop"]))
    if kind == "truncate":
        raw = _join(header, data)
        return kind, raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "flip":
        raw = bytearray(_join(header, data))
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return kind, bytes(raw)
    if kind == "header_len":
        raw = _join(header, data)
        return kind, struct.pack("<Q", draw(st.integers(0, 2**64 - 1))) + raw[8:]
    name = draw(st.sampled_from(names))
    if kind == "dtype":
        header[name]["dtype"] = draw(st.one_of(st.sampled_from(["F16", "F64", "I8", "BOOL", "BF16", "F8_E4M3", "pickle"]), json_values))
    elif kind == "shape":
        header[name]["shape"] = draw(st.one_of(st.lists(st.integers(0, 2**40), max_size=5), json_values))
    elif kind == "offsets":
        header[name]["data_offsets"] = draw(st.one_of(st.lists(st.integers(-5, len(data) + 2**33), min_size=2, max_size=2), json_values))
    elif kind == "rename":
        header[draw(hostile_names)] = header.pop(name)
    elif kind == "value":
        header[name] = draw(json_values)
    elif kind == "trailing":
        data += draw(st.binary(min_size=1, max_size=64))
    else:
        del header[name]
    return kind, _join(header, data)


@SETTINGS
@given(data=st.data())
def test_fuzzed_weights_files_end_in_a_clean_error(loader, template, data):
    blob = (template / "model.safetensors").read_bytes()
    kind, mutated = data.draw(weights_mutations(blob))
    folder = _copy(template)
    try:
        with open(os.path.join(folder, "model.safetensors"), "wb") as handle:
            handle.write(mutated)
        _check(loader.load("model", folder), f"weights/{kind}")
        _check(loader.load("weights", os.path.join(folder, "model.safetensors")), f"shendu.load/{kind}")
    finally:
        shutil.rmtree(os.path.dirname(folder))


# ----- configs and metadata -------------------------------------------------------------------------------
def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(document, path, value):
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


hostile_values = st.one_of(
    json_values, hostile_names,
    st.sampled_from([10**12, 2**31, -1, 0, 1e308, "Linear", "__class__", "os.system", {"module": "os", "class_name": "system"},
                     {"class_name": "Linear", "config": {"in_features": 10**9, "out_features": 10**9}},
                     {"__layer__": {"class_name": "Sequential", "children": [["x", {"class_name": "ReLU"}]] * 3}}]),
)  # fmt: skip


@SETTINGS
@given(data=st.data(), file=st.sampled_from(["config.json", "metadata.json"]))
def test_fuzzed_configs_and_metadata_end_in_a_clean_error(loader, template, data, file):
    document = json.loads((template / file).read_text())
    path = data.draw(st.sampled_from(list(_paths(document))))
    document = _set(document, path, data.draw(hostile_values))
    folder = _copy(template)
    try:
        with open(os.path.join(folder, file), "w") as handle:
            json.dump(document, handle)
        _check(loader.load("model", folder), f"{file}{list(path)}")
    finally:
        shutil.rmtree(os.path.dirname(folder))


REGISTERED = shendu.io.registered_layers()
layer_arguments = st.dictionaries(
    st.sampled_from(["in_features", "out_features", "num_features", "kernel_size", "stride", "padding", "units", "filters",
                     "input_dim", "output_dim", "num_embeddings", "embedding_dim", "hidden_size", "input_size", "num_layers",
                     "layers", "name", "activation", "dtype", "p", "dim", "rate", "pool_size", "groups", "dilation", "axis",
                     "normalized_shape", "eps", "momentum", "return_sequences", "batch_input_shape", "shape"]),
    hostile_values, max_size=4,
)  # fmt: skip


@SETTINGS
@given(data=st.data())
def test_any_registered_layer_with_junk_arguments_ends_in_a_clean_error(loader, template, data):
    document = json.loads((template / "config.json").read_text())
    index = data.draw(st.integers(0, len(document["model"]["children"]) - 1))
    node = {"class_name": data.draw(st.sampled_from(REGISTERED)), "config": data.draw(layer_arguments)}
    if data.draw(st.booleans()):
        node["build_config"] = data.draw(json_values)
    document["model"]["children"][index][1] = node
    folder = _copy(template)
    try:
        with open(os.path.join(folder, "config.json"), "w") as handle:
            json.dump(document, handle)
        _check(loader.load("model", folder), f"config.json: {json.dumps(node)[:300]}")
    finally:
        shutil.rmtree(os.path.dirname(folder))


@pytest.mark.parametrize("file", ["config.json", "metadata.json", "model.safetensors"])
@pytest.mark.parametrize("special", ["fifo", "dev-zero", "dev-urandom", "directory", "dangling-link", "empty", "link-loop"])
def test_special_files_in_place_of_each_file(loader, template, file, special):
    folder = _copy(template)
    try:
        path = os.path.join(folder, file)
        os.unlink(path)
        if special == "fifo":
            os.mkfifo(path)
        elif special.startswith("dev-"):
            os.symlink("/dev/" + special[4:], path)
        elif special == "directory":
            os.mkdir(path)
        elif special == "dangling-link":
            os.symlink(os.path.join(folder, "nowhere"), path)
        elif special == "link-loop":
            os.symlink(path, path)
        else:
            open(path, "w").close()
        result = loader.load("model", folder)
        _check(result, f"{file}/{special}")
        assert not result["ok"]
    finally:
        shutil.rmtree(os.path.dirname(folder))
