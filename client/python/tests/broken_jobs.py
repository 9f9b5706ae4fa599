# SPDX-License-Identifier: ISC
"""A module that cannot be imported."""

raise RuntimeError("broken_jobs cannot start")
