"""Linear regression by gradient descent in Rust, called from Python: NumPy loads, Rust trains.

Same algorithm and output as linreg_numpy.py (docs/protocol.md). The data is read by NumPy (the
loader of linreg_numpy.py) and handed to `linreg_py`, an extension module built from this
project's Rust library (crates/linreg-py, PyO3 and rust-numpy, compiled by maturin): it borrows
the arrays' memory without copying it, releases the GIL and runs the `linreg` binary's own kernel.
(The load copies the two columns once, where NumPy's layout puts y off x's cache-line offset: see
`load`.)
This is the pattern of polars or pydantic-core: Python for the glue, compiled code for the loop.
Optional: the module is built by `make venv` where cargo and maturin are available.

The kernel is `parallel` with `--threads auto`, the fastest of the `linreg` binary (two threads
once the data fills one core's L1d, every core from 2 048 points a core, unless, over 400 epochs
or more of all the fits, the first epochs measure one thread faster); `--kernel scalar|simd|parallel` picks another. One fit is one call of `linreg_py.fit`,
as a one-off script would make it: the parallel kernel starts its threads inside the timed call.
With `--fits K` the fits are a service's: a `linreg_py.Trainer`, started before the clock, copies
the data once and keeps the threads and `auto`'s choices between its fits, as the `linreg` binary
keeps them under `--fits K`.

    python linreg_rust.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR [--kernel K]
"""

import os

# NumPy's OpenBLAS starts a thread a CPU at import, and they spin for a while before they sleep.
# This script does no linear algebra, and the kernel's threads want every CPU: a 200-epoch fit of
# 10^6 points on two threads, right after start-up, took 66 ms beside the spinning thread against
# 59 ms with one BLAS thread or after a 0.5 s sleep (the binary: 57-58 ms; Emerald Rapids, family
# 6 model 207, 2 vCPUs, 9-11 fresh processes each). A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402 (after the setting above, which NumPy reads at import)

import linreg_common as common

linreg_py = common.import_optional(
    "linreg_py", hint="build it with `make venv` (needs cargo and maturin: python_impl/requirements-build.txt)"
)

from linreg_numpy import load as numpy_load  # reading is not what this variant is about

IMPLEMENTATION = "python-rust"
DEFAULT_KERNEL = "parallel"

# Bytes in a cache line, and float64 values in one.
LINE_BYTES = 64
LINE_VALUES = LINE_BYTES // 8


def address(array):
    return array.__array_interface__["data"][0]


def load(path):
    """x and y as linreg_numpy.py reads them, with y on x's offset within a cache line.

    The rows of np.load's (2, n) array lie n·8 bytes apart, on different line offsets unless n is
    a multiple of 8, and then the vector loads of one of them straddle two lines: python-rust's
    simd kernel took 0.169 ns a point an epoch at 10 003 points against 0.122 at 10 000 (Emerald
    Rapids, family 6 model 207, 7 runs each, medians). Then the two are copied into one buffer,
    y on x's offset, as the `linreg` binary lays out its own columns (it also starts x on a line,
    so its sums may differ from these in the last bits); the copy is part of the load, as it is
    there.
    """
    x, y = numpy_load(path)
    if (address(y) - address(x)) % LINE_BYTES == 0:
        return x, y
    n = len(x)
    stride = -(-n // LINE_VALUES) * LINE_VALUES
    both = np.empty(2 * stride)
    both[:n], both[stride : stride + n] = x, y
    return both[:n], both[stride : stride + n]


def add_arguments(parser):
    parser.add_argument(
        "--kernel",
        choices=linreg_py.KERNELS,
        default=DEFAULT_KERNEL,
        help=f"how the Rust code sums each epoch (default: {DEFAULT_KERNEL})",
    )


# A fit comes back as the module's own `linreg_py.Fit`, which has every field the result line takes
# (w, b, mse, epochs_run, kernel, threads and the prefetch choices), and is used as it is, as a service
# would use it: copying them into a `common.Fit` took 0.84 µs a fit, where a warm fit of 5 points
# takes 17 (7 × 3 000 calls each way, Emerald Rapids, family 6 model 207).
def train(x, y, epochs, learning_rate, kernel=DEFAULT_KERNEL):
    # `load` checked that every value is finite, as the `linreg` binary does while it loads: the
    # extension's own check, a second pass over the data, would fall inside the training clock.
    return linreg_py.fit(x, y, epochs, learning_rate, kernel=kernel, check_finite=False)


def prepare(x, y, args):
    if args.fits is None:
        return lambda: train(x, y, args.epochs, args.learning_rate, args.kernel)
    trainer = linreg_py.Trainer(x, y, kernel=args.kernel, epochs=args.epochs * args.fits)
    return lambda: trainer.fit(args.epochs, args.learning_rate)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, prepare=prepare, add_arguments=add_arguments, description=__doc__)
