"""Build hook for the optional C accelerator; everything else is in pyproject.toml.

The extension is optional: without a compiler the build goes on and the pure-Python reader is
used (segcheck/capture/records.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("segcheck.capture._accel", ["segcheck/capture/_accel.c"], optional=True)
    ]
)
