"""Model selection on a real Dask cluster (a LocalCluster of 2 worker processes on 127.0.0.1).

``shendu search`` and ``shendu cv`` with ``--dask-scheduler`` (or the config's ``dask`` section)
give the same best parameters and scores as the local run; scikit-learn's GridSearchCV over
shendu's estimators runs under ``joblib.parallel_backend("dask")``.
"""

import json

import numpy as np
import pytest

from shendu.cli import main

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("dask.distributed", reason="the [dask] extra (dask, distributed) is not installed")
pytest.importorskip("joblib")

SMALL = ["--set", "data.limit=400", "--set", "training.epochs=1", "--set", "model.layers.0.out_features=16",
         "--set", "model.layers.2.in_features=16", "--set", "training.batch_size=50"]  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=50) as local:  # fmt: skip
        yield local.scheduler_address


def _search_config(tmp_path, extra=""):
    path = tmp_path / "search.yaml"
    path.write_text("search:\n  grid:\n    optimizer.lr: [0.001, 0.01]\n  folds: 2\n" + extra)
    return str(path)


def _results(path):
    return json.loads(path.read_text())


def test_search_on_a_dask_cluster_equals_the_local_search(tmp_path, cluster, capsys):
    pytest.importorskip("yaml")
    config = _search_config(tmp_path)
    assert main(["search", config, *SMALL, "--out", str(tmp_path / "local")]) == 0
    assert main(["search", config, *SMALL, "--out", str(tmp_path / "dask"), "--dask-scheduler", cluster]) == 0
    out = capsys.readouterr().out
    assert f"running on the Dask cluster at {cluster} (2 workers)" in out
    local, remote = _results(tmp_path / "local" / "search-results.json"), _results(tmp_path / "dask" / "search-results.json")
    assert [r["params"] for r in remote["results"]] == [r["params"] for r in local["results"]]  # same ranking, same best
    for ours, theirs in zip(remote["results"], local["results"]):
        for key, value in theirs["mean"].items():
            assert ours["mean"][key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


def test_cv_takes_the_scheduler_from_the_config(tmp_path, cluster, capsys):
    pytest.importorskip("yaml")
    config = tmp_path / "cv.yaml"
    config.write_text(f"dask:\n  scheduler: {cluster}\n")
    assert main(["cv", str(config), *SMALL, "--folds", "2", "--out", str(tmp_path / "remote")]) == 0
    assert "running on the Dask cluster" in capsys.readouterr().out
    config.write_text("{}\n")
    assert main(["cv", str(config), *SMALL, "--folds", "2", "--out", str(tmp_path / "local")]) == 0
    remote, local = _results(tmp_path / "remote" / "cv-results.json"), _results(tmp_path / "local" / "cv-results.json")
    for key, value in local["mean"].items():
        assert remote["mean"][key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    pytest.importorskip("yaml")
    code = main(["search", _search_config(tmp_path), *SMALL, "--dask-scheduler", "tcp://127.0.0.1:9"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err and len(err.strip().splitlines()) == 1


def test_scikit_learn_grid_search_runs_under_the_dask_backend(cluster):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from shendu.sklearn import NeuralNetClassifier

    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    grid = {"hidden_sizes": [(4,), (8,)], "learning_rate": [0.01, 0.05]}

    def search():
        gs = GridSearchCV(NeuralNetClassifier(epochs=3, batch_size=16, random_state=0), grid, cv=2, n_jobs=2)
        return gs.fit(x, y)

    local = search()
    with distributed.Client(cluster), joblib.parallel_backend("dask"):
        remote = search()
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-6)
