"""Stacked span tagger experiment (see README.md). Run the scripts as modules from the checkout,
``.venv/bin/python -m bench.spanstack.<script>``: importing this package first pins the BLAS thread
counts to one before numpy is loaded."""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"
