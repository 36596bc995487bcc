"""Linear regression by gradient descent with the epoch loop JIT-compiled by numba.

Same algorithm and output as linreg_numpy.py (docs/protocol.md), written as two plain loops over
the points, summed in index order like linreg_pure.py, so the results agree with the others to
about 1e-12. Optional: it needs numba (python_impl/requirements-optional.txt).

The loop is compiled afresh in every run (no cache=True: a cached build would hide a cost every
fresh process pays). numba is imported and the loop compiled, from an explicit signature, once the
command line and the data have been read and before the clocks start (`prepare`), so compilation
counts as start-up, like importing NumPy, and train_seconds times the epochs alone (a warm-up call
then takes the dispatcher's first-call cost too). Bad input is reported before any of it: a wrong
path took 0.8 s and 160 MiB to report while numba was imported first.

    python linreg_numba.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import functools
import math

import numpy as np

import linreg_common as common
from linreg_numpy import load  # reading is not what this variant tunes

IMPLEMENTATION = "python-numba"

# (w, b, mse, epochs_run) from (x, y, epochs, learning_rate), x and y C-contiguous float64.
# Giving the signature compiles at decoration time, before common.run starts its clocks; it also
# stops the dispatcher from compiling anything else later, inside a fit.
SIGNATURE = "Tuple((float64, float64, float64, int64))(float64[::1], float64[::1], int64, float64)"
MAX_EPOCHS = 2**63 - 1  # the int64 in the signature


def compile_descend():
    """Imports numba and compiles the fit's loop: start-up, after the input is known to be good."""
    numba = common.import_optional("numba")

    # No fastmath: it would let LLVM reorder the sums (and vectorise them), and the results would
    # no longer agree with the other implementations to 1e-12.
    @numba.njit(SIGNATURE)
    def descend(x, y, epochs, learning_rate):
        n = x.shape[0]
        w = 0.0
        b = 0.0
        # Counted from 0 so that epochs = MAX_EPOCHS cannot overflow the loop bound; reported 1-based.
        for epoch_index in range(epochs):
            sum_ex = 0.0
            sum_e = 0.0
            for i in range(n):
                e = w * x[i] + b - y[i]
                sum_ex += e * x[i]
                sum_e += e
            # 2·(S/n), not (2·S)/n: the same rounding and overflow point as NumPy's 2·np.mean.
            w -= learning_rate * (2.0 * (sum_ex / n))
            b -= learning_rate * (2.0 * (sum_e / n))
            if not (math.isfinite(w) and math.isfinite(b)):
                return w, b, math.nan, epoch_index + 1

        sum_e2 = 0.0
        for i in range(n):
            e = w * x[i] + b - y[i]
            sum_e2 += e * e
        return w, b, sum_e2 / n, epochs

    # One call before the clocks start. Eager compilation is not the whole first-call cost: the
    # first time numba types an ndarray argument it checks for np.ma.MaskedArray, and NumPy then
    # imports numpy.ma (a few milliseconds), which would land in the first epoch's train_seconds.
    descend(np.zeros(1), np.zeros(1), 1, 1.0)
    return descend


def prepare(x, y, args):
    """Checks what the compiled loop can count, then compiles it: one fit a call from then on."""
    common.refuse_epochs_above(args.epochs, MAX_EPOCHS)
    descend = compile_descend()
    # The compiled signature takes C-contiguous float64; load() already gives that, so no copy.
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return functools.partial(fit, descend, x, y, args.epochs, args.learning_rate)


def fit(descend, x, y, epochs, learning_rate):
    return common.Fit(*descend(x, y, epochs, learning_rate))


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, prepare=prepare, description=__doc__)
