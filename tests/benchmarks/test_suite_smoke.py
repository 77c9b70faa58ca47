"""The benchmark suite (benchmarks/run_all.py) runs every workload end to end and reports what it promises.

A few steps per workload (``--quick``), on the embedded digits; no timing is asserted, only the
shape of the results: rows for every workload, both frameworks measured, goals evaluated.
"""

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchmarks import common, run_all, workloads  # noqa: E402


def _quick(**overrides):
    return workloads.Config(quick=True, threads=1, memory=False, dataset="digits", **overrides)


@pytest.fixture(scope="module")
def results():
    return run_all.run(_quick(), log=lambda *a, **k: None)


def test_every_workload_reports_rows_for_both_frameworks(results):
    rows = results["rows"]
    assert {r["workload"] for r in rows} == set(workloads.WORKLOADS)
    for r in rows:
        assert r["kind"] in {"ratio", "points", "limit", "info"}
        for side in ("shendu", "pytorch"):
            assert isinstance(r[side], float) and math.isfinite(r[side]) and r[side] >= 0, (r["measure"], side)
        if r["goal"] is not None and r["kind"] != "info":
            assert r["met"] in (True, False)


def test_training_workloads_report_time_and_accuracy(results):
    measures = {(r["workload"], r["measure"]) for r in results["rows"]}
    for name in ("W1", "W2", "W3", "W4"):
        assert (name, "train time") in measures
        assert (name, "train CPU time") in measures
    for name in ("W1", "W2", "W3"):
        assert (name, "test accuracy") in measures
    assert {"pytorch", "pytorch fused"} <= set(results["details"]["W1"]["timing"])
    assert {m for w, m in measures if w == "W6"} == {
        "W1 MLP, 1 sample", "W1 MLP, batch 256", "W3 CNN, 1 sample", "W3 CNN, batch 256",
    }  # fmt: skip


def test_same_initial_weights_and_batches_give_the_same_first_steps():
    # One step from PyTorch's weights on the same batch: both frameworks end with (nearly) the same weights.
    import shendu

    spec = workloads.TRAINING["W2"]
    (x, y), _, _ = spec.data(_quick())
    torch.manual_seed(0)
    reference = spec.build(torch)
    trained = {}
    for name, lib in (("shendu", shendu), ("pytorch", torch)):
        model, steps = workloads._contender(lib, spec, "", x, y, seed=3, reference=reference)
        for _ in range(3):
            next(steps)
        trained[name] = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    for key, value in trained["pytorch"].items():
        np.testing.assert_allclose(trained["shendu"][key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_machine_description_and_markdown(results, tmp_path):
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["numpy"] and machine["torch"]
    assert "kernel" in machine["blas"] or "library" in machine["blas"]
    text = run_all.table(results["rows"])
    markdown = run_all.table(results["rows"], markdown=True)
    assert "W6" in text and markdown.startswith("| workload")
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# title\n\n{run_all.BEGIN}\nold\n{run_all.END}\n\nafter\n")
    run_all.update_doc(results, doc)
    updated = doc.read_text()
    assert "old" not in updated and "| W1 | train time" in updated and updated.endswith("after\n")
    json.dumps(results, default=str)


def test_memory_probe_runs_in_a_fresh_process():
    probe = workloads.memory_probe_subprocess("W2", "shendu", _quick())
    assert probe["peak_mb"] > 0
    if probe["baseline_mb"] is not None:
        assert probe["rise_mb"] >= 0


def test_command_line_quick_run_writes_json(tmp_path):
    out = tmp_path / "r.json"
    run_all.main(["--quick", "--only", "W5", "--threads", "1", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert [r["measure"] for r in saved["rows"]] == ["import time", "import CPU time", "installed size"]
    assert saved["rows"][2]["shendu"] < saved["rows"][2]["pytorch"]


def test_interleave_alternates_and_counts_steps():
    calls = []

    def runner(name):
        while True:
            calls.append(name)
            yield

    samples = common.interleave({"a": runner("a"), "b": runner("b")}, [2, 1])
    assert calls == ["a", "a", "b", "b", "b", "a"]
    assert [len(v) for v in samples.values()] == [2, 2]
