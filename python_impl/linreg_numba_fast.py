"""Linear regression by gradient descent, numba as an expert tunes it: fast-math, all cores.

Same algorithm and output as linreg_numpy.py (docs/protocol.md). The sums of each epoch are a
`prange` reduction under `parallel=True`, so numba splits them over its threads (one per core), and
compiled with fast-math so that LLVM may reorder the adds, vectorise them with several
accumulators and fuse multiply-adds: what an expert Python user writes to compete. The sums are
then added in an order that depends on the thread count and the vector width, so the results
agree with the others to about 1e-13 relative on the test vector, not bit for bit. Optional: it
needs numba (python_impl/requirements-optional.txt).

Fast-math here is `fastmath=True` minus two of its flags, `nnan` and `ninf`: they let LLVM assume
no value is ever NaN or infinite, and so delete the divergence check (`math.isfinite`) and
overflow without a trace; a diverging fit must still say at which epoch it diverged. The rest
(`reassoc`, `contract`, `arcp`, `nsz`, `afn`) is what makes the loop fast.

Like linreg_numba.py it compiles afresh in every run (no cache=True), from an explicit signature
once the command line and the data have been read (`prepare`), and calls the compiled code once
before the clocks start, which also starts numba's thread pool: compilation and thread start-up
count as start-up, train_seconds times the epochs alone.

    python linreg_numba_fast.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import functools
import math

import numpy as np

import linreg_common as common
from linreg_numpy import load  # reading is not what this variant tunes

IMPLEMENTATION = "python-numba-fast"

# Everything fastmath=True enables except nnan and ninf (see the docstring).
FAST_MATH = {"reassoc", "contract", "arcp", "nsz", "afn"}

SUMS_SIGNATURE = "UniTuple(float64, 2)(float64[::1], float64[::1], float64, float64)"
DESCEND_SIGNATURE = "Tuple((float64, float64, float64, int64))(float64[::1], float64[::1], int64, float64)"
MAX_EPOCHS = 2**63 - 1  # the int64 in the signature


def compile_descend():
    """Imports numba, compiles the fit and starts numba's threads: start-up, after the input is
    known to be good. Returns the compiled fit and the number of threads its sums run on."""
    numba = common.import_optional("numba")
    prange = numba.prange

    @numba.njit(SUMS_SIGNATURE, fastmath=FAST_MATH, parallel=True)
    def gradient_sums(x, y, w, b):
        """(Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i, reduced over numba's threads."""
        sum_ex = 0.0
        sum_e = 0.0
        for i in prange(x.shape[0]):
            e = w * x[i] + b - y[i]
            sum_ex += e * x[i]
            sum_e += e
        return sum_ex, sum_e

    # The loop around the sums is plain (no fast-math): the update and the divergence check round
    # and overflow exactly as in every other implementation.
    @numba.njit(DESCEND_SIGNATURE)
    def descend(x, y, epochs, learning_rate):
        n = x.shape[0]
        w = 0.0
        b = 0.0
        # Counted from 0 so that epochs = MAX_EPOCHS cannot overflow the loop bound; reported 1-based.
        for epoch_index in range(epochs):
            sum_ex, sum_e = gradient_sums(x, y, w, b)
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

    # One call before the clocks start: the dispatcher's first-call cost (see linreg_numba.py) and
    # the start of numba's thread pool, which would otherwise land in the first epoch.
    descend(np.zeros(1), np.zeros(1), 1, 1.0)
    return descend, numba.get_num_threads()


def prepare(x, y, args):
    """Checks what the compiled loop can count, then compiles it: one fit a call from then on."""
    common.refuse_epochs_above(args.epochs, MAX_EPOCHS)
    descend, threads = compile_descend()
    # The compiled signature takes C-contiguous float64; load() already gives that, so no copy.
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    return functools.partial(fit, descend, threads, x, y, args.epochs, args.learning_rate)


def fit(descend, threads, x, y, epochs, learning_rate):
    # The prange reduction runs on numba's whole thread pool: the result line says how many.
    return common.Fit(*descend(x, y, epochs, learning_rate), threads=threads)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, prepare=prepare, description=__doc__)
