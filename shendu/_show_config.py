"""``shendu.show_config()``: what this installation is made of (as ``numpy.show_config()``)."""

import importlib.util
import platform
import sys

__all__ = ["show_config", "config_info"]

_EXTRAS = {
    "serve": ("fastapi", "uvicorn"), "onnx": ("onnx", "onnxruntime"), "plot": ("matplotlib",), "sklearn": ("sklearn",),
    "tensorboard": ("tensorboardX",), "images": ("PIL",), "config": ("yaml",), "distributed": ("mpi4py",),
    "dask": ("dask", "distributed", "joblib"), "notebooks": ("nbclient",), "keras-files": ("h5py",), "docs": ("sphinx",),
}  # fmt: skip


def config_info():
    """The facts ``show_config`` prints, as a dict."""
    import numpy

    from . import __version__, _compiled, _malloc
    from ._numeric_info import get_num_threads

    blas = []
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                for pool in threadpool_info() if pool.get("user_api") == "blas"]  # fmt: skip
    except ImportError:
        pass
    return {
        "shendu": __version__, "python": sys.version.split()[0], "platform": platform.platform(), "numpy": numpy.__version__,
        "blas": blas, "threads": get_num_threads(), "malloc_tuned": _malloc.tuned(), "compiled_kernels": {"built": _compiled.built(), "active": _compiled.active()},
        "extras": {extra: all(importlib.util.find_spec(m) is not None for m in modules) for extra, modules in _EXTRAS.items()},
    }  # fmt: skip


def show_config():
    """Print versions, the BLAS and its threads, which compiled kernels are built and active, and the extras present."""
    info = config_info()
    lines = [f"shendu {info['shendu']} on Python {info['python']} ({info['platform']})", f"NumPy {info['numpy']}"]
    for pool in info["blas"] or [{"internal_api": "unknown (install threadpoolctl to see it)"}]:
        lines.append("  BLAS: " + ", ".join(f"{k}={v}" for k, v in pool.items() if v is not None))
    lines.append(f"threads: {info['threads']}")
    lines.append("malloc: large blocks kept for reuse" if info["malloc_tuned"] else "malloc: as the platform sets it")
    for name, ok in info["compiled_kernels"]["built"].items():
        state = "not built (NumPy fallback)" if not ok else ("active" if info["compiled_kernels"]["active"][name] else "built, switched off")
        lines.append(f"compiled kernel {name}: {state}")
    lines.append("extras: " + ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in info["extras"].items()))
    print("\n".join(lines))
