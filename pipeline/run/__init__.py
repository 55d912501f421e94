"""Running a round: ``runner`` (the papermill chain, kernel, rerun manifest) and ``staging`` (lock, publish)."""
