# SPDX-License-Identifier: ISC
"""The tests ask for never_imported:anything from a worker that does not
serve this module: the line below must not reach its stdout."""

print("never_imported was imported")


def anything() -> str:
    return "reached"
