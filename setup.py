"""Build hook for the optional C accelerators; everything else is in pyproject.toml.

Both extensions are optional: without a compiler the build goes on and the pure-Python code is
used (segcheck/capture/records.py for captures, segcheck/capture/logflow.py for traffic logs).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("segcheck.capture._accel", ["segcheck/capture/_accel.c"], optional=True),
        Extension("segcheck.capture._logaccel", ["segcheck/capture/_logaccel.c"], optional=True),
    ]
)
