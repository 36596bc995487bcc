"""Linear regression by gradient descent in NumPy, written by someone who tunes NumPy.

Same algorithm and output as linreg_numpy.py (docs/protocol.md), but with no temporary arrays per
epoch: one preallocated error buffer filled by in-place ufuncs, and BLAS dot products for the sums,
on one BLAS thread unless OPENBLAS_NUM_THREADS says otherwise.

    python linreg_numpy_fast.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import math
import os

# One BLAS thread: ddot is the only BLAS call here, and OpenBLAS's threads, one a CPU, do not pay
# for it. Quiet, 11 alternating processes each (AMD EPYC family 25 model 17, Zen 4, 2 vCPUs;
# train medians, default threads against one): 12.1 against 13.0 ms at 10^4 points × 1 000 epochs,
# 14.1 against 11.0 at 3·10^4 × 300, 15.9 against 13.0 at 10^5 × 100, 14.1 against 13.9 at
# 3·10^5 × 30, 26.7 against 28.5 at 10^6 × 20; with the other CPU busy, 64 against 13.3 ms at 10^5
# and 86 against 29 at 10^6 (the threads wait for a CPU at every dot). A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402 (after the setting above, which NumPy reads at import)

import linreg_common as common  # noqa: E402
from linreg_numpy import load  # noqa: E402 (reading is not what this variant tunes)

IMPLEMENTATION = "python-numpy-fast"

# Σe is a dot product with a ones vector up to this many points, err.sum() above it. Measured
# (OpenBLAS ddot vs NumPy's pairwise sum, 2-core EPYC): ddot is ~15% faster per epoch while the
# arrays sit in cache, ~10% slower once they stream from memory, where the ones vector costs a
# third input stream.
DOT_ONES_MAX_POINTS = 400_000


def train(x, y, epochs, learning_rate):
    n = len(x)
    # Contiguous inputs so every ufunc and BLAS call runs over plain strided-by-one memory.
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    err = np.empty_like(x)
    ones = np.ones_like(x) if n <= DOT_ONES_MAX_POINTS else None
    # Local names: at small n the per-epoch cost is mostly Python attribute look-ups.
    dot, multiply, isfinite = np.dot, np.multiply, math.isfinite

    w = 0.0
    b = 0.0
    # A diverging fit overflows on purpose; it is reported as a result, so keep stderr clean.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            multiply(x, w, out=err)  # err = w·x + b − y, in the same order as the reference
            err += b
            err -= y
            sum_ex = float(dot(err, x))
            sum_e = float(dot(err, ones)) if ones is not None else float(err.sum())
            # 2·(S/n), not (2·S)/n: the same rounding and overflow point as 2·np.mean.
            w -= learning_rate * (2.0 * (sum_ex / n))
            b -= learning_rate * (2.0 * (sum_e / n))
            if not (isfinite(w) and isfinite(b)):
                return common.Fit(w, b, math.nan, epoch)
        multiply(x, w, out=err)
        err += b
        err -= y
        mse = float(dot(err, err)) / n
    return common.Fit(w, b, mse, epochs)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, train, description=__doc__)
