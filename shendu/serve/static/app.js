// shendu demo page: draw a digit (or fill in one input row) and watch the model's prediction.
// The page asks /metadata what the model takes, prepares the input as the model was trained
// (MNIST-style: the ink scaled into a 20×20 box and centred by its mass in 28×28), and sends
// it to POST /predict as {"data": sample}.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let meta = null;
  let pending = false;   // a request is in flight
  let queued = false;    // the drawing changed while it was

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  // Nest a flat list of numbers into the model's input shape (e.g. [1, 28, 28]).
  function shape(values, dims) {
    if (dims.length <= 1) return values;
    const step = values.length / dims[0];
    const out = [];
    for (let i = 0; i < dims[0]; i++) out.push(shape(values.slice(i * step, (i + 1) * step), dims.slice(1)));
    return out;
  }

  function renderBars(probabilities, classes, best) {
    const bars = $("bars");
    if (bars.children.length !== probabilities.length) {
      bars.textContent = "";
      probabilities.forEach((_, i) => {
        const row = document.createElement("div");
        row.className = "bar-row";
        row.setAttribute("role", "listitem");
        const label = document.createElement("span");
        label.className = "bar-label";
        label.textContent = classes && classes[i] !== undefined ? classes[i] : String(i);
        const track = document.createElement("div");
        track.className = "bar-track";
        const bar = document.createElement("div");
        bar.className = "bar";
        track.appendChild(bar);
        const value = document.createElement("span");
        value.className = "bar-value";
        row.append(label, track, value);
        bars.appendChild(row);
      });
    }
    probabilities.forEach((p, i) => {
      const row = bars.children[i];
      row.classList.toggle("best", i === best);
      row.querySelector(".bar").style.width = (100 * p).toFixed(1) + "%";
      row.querySelector(".bar-value").textContent = (100 * p).toFixed(1) + "%";
    });
  }

  function showResult(result) {
    const prediction = result.predictions[0];
    const probabilities = result.probabilities ? result.probabilities[0] : null;
    const label = result.labels ? result.labels[0] : (meta.classes && Number.isInteger(prediction) ? meta.classes[prediction] : prediction);
    $("prediction").textContent = typeof label === "number" ? Number(label.toFixed(6)).toString() : String(label);
    $("prediction").dataset.state = "predicted";
    if (probabilities) {
      $("confidence").textContent = (100 * probabilities[prediction]).toFixed(1) + "% sure";
      renderBars(probabilities, meta.classes, prediction);
    } else {
      $("confidence").textContent = "";
      $("bars").textContent = "";
    }
  }

  async function predict(sample) {
    const response = await fetch("/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: sample }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("\n") : body.detail;
      throw new Error(`${response.status}: ${detail || response.statusText}`);
    }
    return body;
  }

  // ----- drawing -----------------------------------------------------------------------------
  function setupCanvas() {
    const canvas = $("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const preview = $("preview").getContext("2d");
    let drawing = false;
    let last = null;
    let dirty = false;

    function clear() {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      preview.fillStyle = "#000";
      preview.fillRect(0, 0, 28, 28);
      $("prediction").textContent = "–";
      $("prediction").dataset.state = "empty";
      $("confidence").textContent = "";
      $("bars").textContent = "";
      showError("");
    }

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      return [(event.clientX - rect.left) * (canvas.width / rect.width), (event.clientY - rect.top) * (canvas.height / rect.height)];
    }

    function stroke(to) {
      ctx.strokeStyle = "#fff";
      ctx.fillStyle = "#fff";
      ctx.lineWidth = 20;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      if (last) {
        ctx.moveTo(last[0], last[1]);
        ctx.lineTo(to[0], to[1]);
        ctx.stroke();
      } else {
        ctx.arc(to[0], to[1], 10, 0, 2 * Math.PI);
        ctx.fill();
      }
      last = to;
      dirty = true;
    }

    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = null;
      stroke(point(event));
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      event.preventDefault();
      stroke(point(event));
    });
    const end = () => {
      if (!drawing) return;
      drawing = false;
      last = null;
      send();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", end);
    $("clear").addEventListener("click", clear);
    setInterval(() => { if (drawing && dirty) send(); }, 200);

    // MNIST-style 28×28: bounding box of the ink → 20×20 box, centre of mass at (14, 14), values in [0, 1].
    function digitPixels() {
      const { width, height } = canvas;
      const image = ctx.getImageData(0, 0, width, height).data;
      let x0 = width, y0 = height, x1 = -1, y1 = -1, mass = 0, mx = 0, my = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = image[(y * width + x) * 4] / 255;
          if (v > 0.05) {
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
            mass += v; mx += v * x; my += v * y;
          }
        }
      }
      if (x1 < 0) return null;
      const f = 20 / Math.max(x1 - x0 + 1, y1 - y0 + 1);
      let ox = 14 - (mx / mass - x0) * f;
      let oy = 14 - (my / mass - y0) * f;
      ox = Math.min(Math.max(ox, 0), 28 - (x1 - x0 + 1) * f);
      oy = Math.min(Math.max(oy, 0), 28 - (y1 - y0 + 1) * f);
      const out = new Float32Array(784);
      const area = f * f;
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const v = image[(y * width + x) * 4] / 255;
          if (v === 0) continue;
          const tx = Math.floor((x - x0) * f + ox), ty = Math.floor((y - y0) * f + oy);
          if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] += v * area;
        }
      }
      for (let i = 0; i < 784; i++) out[i] = Math.min(out[i], 1);
      return out;
    }

    function drawPreview(pixels) {
      const data = preview.createImageData(28, 28);
      for (let i = 0; i < 784; i++) {
        const g = Math.round(pixels[i] * 255);
        data.data.set([g, g, g, 255], i * 4);
      }
      preview.putImageData(data, 0, 0);
    }

    async function send() {
      if (pending) { queued = true; return; }
      dirty = false;
      const pixels = digitPixels();
      if (!pixels) return;
      drawPreview(pixels);
      const pre = meta.preprocess || {};
      const mean = pre.mean || 0, std = pre.std || 1, invert = !!pre.invert;
      const values = Array.from(pixels, (v) => ((invert ? 1 - v : v) - mean) / std);
      pending = true;
      try {
        showResult(await predict(shape(values, meta.input_shape)));
        showError("");
      } catch (error) {
        showError(error.message);
      } finally {
        pending = false;
        if (queued) { queued = false; send(); }
      }
    }

    clear();
    $("draw-panel").hidden = false;
  }

  // ----- a form for one input row ---------------------------------------------------------------
  function setupForm() {
    const size = meta.input_shape.reduce((a, b) => a * b, 1);
    const tokens = meta.input_kind === "tokens";
    const fields = $("fields");
    let read;
    if (!tokens && size <= 32) {
      $("form-title").textContent = `One input row (${size} values)`;
      const inputs = [];
      for (let i = 0; i < size; i++) {
        const label = document.createElement("label");
        label.textContent = `x${i}`;
        const input = document.createElement("input");
        input.type = "number";
        input.step = "any";
        input.value = "0";
        input.required = true;
        label.appendChild(input);
        fields.appendChild(label);
        inputs.push(input);
      }
      read = () => inputs.map((input) => Number(input.value));
    } else {
      $("form-title").textContent = tokens
        ? `Token ids (${size}, each in [0, ${meta.vocabulary_size}))`
        : `One input row (${size} numbers)`;
      const area = document.createElement("textarea");
      area.placeholder = `${size} ${tokens ? "integers" : "numbers"}, separated by commas or spaces`;
      area.value = new Array(size).fill(0).join(", ");
      fields.appendChild(area);
      read = () => area.value.split(/[\s,;]+/).filter((s) => s.length).map(Number);
    }
    $("row-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = read();
      if (values.length !== size || values.some((v) => !Number.isFinite(v))) {
        showError(`Enter exactly ${size} finite numbers (got ${values.length}).`);
        return;
      }
      // A table model was trained on standardised columns: apply the recorded (x - mean) / std.
      const pre = meta.preprocess || {};
      const ready = pre.kind === "table" && Array.isArray(pre.mean)
        ? values.map((v, i) => (v - pre.mean[i]) / pre.std[i])
        : values;
      try {
        showResult(await predict(shape(ready, meta.input_shape)));
        showError("");
      } catch (error) {
        showError(error.message);
      }
    });
    $("form-panel").hidden = false;
  }

  async function start() {
    try {
      const response = await fetch("/metadata");
      meta = await response.json();
    } catch (error) {
      showError("Cannot reach the model server: " + error.message);
      return;
    }
    const accuracy = meta.metrics && meta.metrics.accuracy !== undefined ? ` · accuracy ${(100 * meta.metrics.accuracy).toFixed(1)}%` : "";
    $("model-line").textContent = `${meta.model} · input ${JSON.stringify(meta.input_shape)} · ${meta.num_parameters.toLocaleString()} parameters${accuracy}`;
    $("version").textContent = `shendu ${meta.shendu_version}`;
    if (meta.input_kind === "image") setupCanvas();
    else setupForm();
    document.body.dataset.ready = "true";
  }

  start();
})();
