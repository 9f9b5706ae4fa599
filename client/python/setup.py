# SPDX-License-Identifier: ISC
"""The package's version is the project's: the VERSION file at the top of the
repository if there is one, else the Makefile's `VERSION :=` line."""

import pathlib
import re

from setuptools import setup

TOP = pathlib.Path(__file__).resolve().parent.parent.parent


def project_version() -> str:
    version_file = TOP / "VERSION"
    if version_file.exists():
        return version_file.read_text().strip()
    found = re.search(r"^VERSION\s*:=\s*(\S+)", (TOP / "Makefile").read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit("setup.py: no VERSION file and no VERSION := in the Makefile")
    return found.group(1)


setup(version=project_version())
