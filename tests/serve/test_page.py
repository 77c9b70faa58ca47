"""The demo page in headless Chromium (Debian's package, driven by Playwright): draw a digit with the
mouse, or tap with a finger, and see the prediction and the probability bars appear; for a model
that does not take images, fill in the one-row form."""

import shutil

import numpy as np
import pytest

import shendu
from shendu import nn

pytest.importorskip("fastapi")
if shutil.which("apt-get") is None:  # the project installs chromium with apt-get (see the Makefile)
    pytest.skip("no apt-get here to install chromium", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.serve_load import running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def digit_server(tmp_path_factory):
    from shendu.train import fit

    shendu.manual_seed(0)
    (x, y), _ = shendu.vision.datasets.load_digits()
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    fit(model, "cross_entropy", shendu.optim.Adam(model.parameters(), lr=2e-3), (x[:4000].reshape(-1, 784) / 255.0, y[:4000]),
        epochs=3, batch_size=100, verbose=0, seed=0)  # fmt: skip
    folder = tmp_path_factory.mktemp("page") / "digits"
    shendu.save_model(model, folder, class_names=[str(i) for i in range(10)], input_shape=[784])
    with running_server(folder) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def _bars(page):
    return [float(v.rstrip("%")) for v in page.locator(".bar-value").all_inner_texts()]


def test_drawing_a_stroke_shows_a_prediction_and_bars(digit_server, browser):
    page = browser.new_page()
    page.goto(digit_server + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#draw-panel").is_visible()
    assert page.locator("#prediction").inner_text() == "–"
    box = page.locator("#canvas").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 21):  # a vertical stroke, top to bottom: a "1"
        page.mouse.move(x + step * 0.3, box["y"] + 40 + step * 10)
    page.mouse.up()
    page.wait_for_selector("#prediction[data-state=predicted]")
    label = page.locator("#prediction").inner_text()
    assert label in [str(i) for i in range(10)]
    assert label == "1"  # a trained model reads the stroke as a one
    bars = _bars(page)
    assert len(bars) == 10 and abs(sum(bars) - 100) < 1.0
    assert page.locator(".bar-row.best .bar-label").inner_text() == label
    assert "% sure" in page.locator("#confidence").inner_text()
    page.click("#clear")
    assert page.locator("#prediction").inner_text() == "–"
    page.close()


def test_a_finger_tap_also_draws(digit_server, browser):
    context = browser.new_context(has_touch=True)
    page = context.new_page()
    page.goto(digit_server + "/")
    page.wait_for_selector("body[data-ready=true]")
    box = page.locator("#canvas").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#prediction[data-state=predicted]")
    assert len(_bars(page)) == 10
    context.close()


def test_non_image_model_gets_a_form_for_one_row(tmp_path, browser):
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    shendu.save_model(model, tmp_path / "table", class_names=["no", "yes"], input_shape=[3])
    with running_server(tmp_path / "table") as url:
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("#form-panel").is_visible() and not page.locator("#draw-panel").is_visible()
        inputs = page.locator("#fields input")
        assert inputs.count() == 3
        for i, value in enumerate(["0.5", "-1", "2"]):
            inputs.nth(i).fill(value)
        page.click("#submit")
        page.wait_for_selector("#prediction[data-state=predicted]")
        expected = model(shendu.tensor(np.array([[0.5, -1, 2]], np.float32))).detach().numpy().argmax()
        assert page.locator("#prediction").inner_text() == ["no", "yes"][expected]
        assert len(_bars(page)) == 2
        page.close()
