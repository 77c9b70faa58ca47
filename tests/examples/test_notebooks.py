"""The notebooks of notebooks/, executed top to bottom in fast mode (SHENDU_FAST=1) with nbclient."""

import os
import pathlib
import shutil

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"

# What each notebook must print when it runs: figures computed in its cells.
EXPECTED = {
    "01_neuron_and_backprop.ipynb": [
        "AND [0, 0, 0, 1]", "OR [0, 1, 1, 1]", "neurons computing XOR: 0 of 9261",
        "after (0, 1): w = 0.50000, b = 0.60400", "after (1, 2.9): w = 0.51796, b = 0.62196",
        "= 0.741365070 × 0.186815602 × 0.593269992 = 0.082167041", "w5 = 0.400000000 - 0.5 × 0.082167041 = 0.358916480",
    ],
    "02_mlp_digits.ipynb": ["parameters: 45360", "test accuracy:", "same predictions after reloading: True"],
    "03_cnn.ipynb": ["Total params: 34,826", "test accuracy:", "filters: (3, 3, 1, 32)"],
    "04_lstm_text.ipynb": ["held-out fortunes:", "held-out loss:"],
    "05_gan.ipynb": ["losses finite: True"],
}


def _text_outputs(notebook):
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_in_fast_mode(name, tmp_path, monkeypatch):
    if name == "04_lstm_text.ipynb" and not os.path.exists("/usr/share/games/fortunes/de"):
        if shutil.which("apt-get") is None:
            pytest.skip("Debian's fortune files need apt-get")
    monkeypatch.setenv("SHENDU_FAST", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    copy = tmp_path / "notebooks"
    copy.mkdir()
    # run from a scratch folder whose parent holds shendu, as from a checkout's notebooks/ (files it writes stay there)
    (tmp_path / "shendu").symlink_to(NOTEBOOKS.parent / "shendu", target_is_directory=True)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(copy)}})
    client.execute()
    text = _text_outputs(notebook)
    for expected in EXPECTED[name]:
        assert expected in text, f"{name}: {expected!r} not in its outputs"


@pytest.mark.slow
def test_training_in_a_notebook_draws_a_progress_bar(tmp_path):
    """Jupyter's output is not a terminal, but tqdm.auto draws a widget there: fit and evaluate show their bars."""
    pytest.importorskip("ipywidgets")
    code = (
        "import numpy as np\nimport shendu\nfrom shendu import nn\nfrom shendu.train import Trainer\n"
        "model = nn.Sequential(nn.Linear(4, 3))\n"
        "trainer = Trainer(model, 'cross_entropy', shendu.optim.SGD(model.parameters(), lr=0.1))\n"
        "x, y = np.random.rand(64, 4).astype('float32'), np.random.randint(0, 3, 64)\n"
        "trainer.fit((x, y), epochs=1, batch_size=16, verbose=1)\n"
        "trainer.evaluate((x, y), verbose=1)\n"
    )  # fmt: skip
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = notebook.cells[0]["outputs"]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 2  # one bar for the epoch, one for evaluate
    assert "Epoch 1/1" in _text_outputs(notebook)
