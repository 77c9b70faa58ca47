"""Build hook: the optional C kernel shendu.optim._fused (everything else is in pyproject.toml).

``optional=True``: without a C compiler the extension is skipped, the install still succeeds and
the NumPy kernels run (see shendu/optim/_compiled.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "shendu.optim._fused",
            sources=["shendu/optim/_fused.c"],
            # no fused multiply-add (results equal the NumPy kernel's bit for bit); sqrt without errno vectorises
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c99"],
            optional=True,
        )
    ]
)
