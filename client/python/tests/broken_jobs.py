"""A module that cannot be imported."""

raise RuntimeError("broken_jobs cannot start")
