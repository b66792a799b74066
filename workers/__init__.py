"""Background workers: RQ jobs that score comments, and the worker process that runs them."""
