# Placeholder package for the `language: python` pre-commit hooks in
# .pre-commit-hooks.yaml. pre-commit installs this repository with
# `pip install .`; all this package does is depend on the prebuilt imagepin
# wheel of the same version (built from dist/pypi/pyproject.toml), so the
# hook installs in seconds with no Rust toolchain. The version below must
# equal Cargo.toml's (tests/packaging.rs checks it).
from setuptools import setup

setup(
    name="imagepin_pre_commit_placeholder_package",
    version="0.0.0",
    install_requires=["imagepin==0.2.0"],
    packages=[],
    py_modules=[],
)
