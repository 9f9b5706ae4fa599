# SPDX-License-Identifier: ISC
"""A module that cannot be imported: its pool's workers die at start-up."""

raise RuntimeError("pybroken cannot start")
