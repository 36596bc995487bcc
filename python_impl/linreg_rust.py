"""Linear regression by gradient descent in Rust, called from Python: NumPy loads, Rust trains.

Same algorithm and output as linreg_numpy.py (docs/protocol.md). The data is read by NumPy (the
loader of linreg_numpy.py) and handed to `linreg_py`, an extension module built from this
project's Rust library (crates/linreg-py, PyO3 and rust-numpy, compiled by maturin): it borrows
the arrays' memory without copying it, releases the GIL and runs the `linreg` binary's own kernel.
This is the pattern of polars or pydantic-core: Python for the glue, compiled code for the loop.
Optional: the module is built by `make venv` where cargo and maturin are available.

The kernel is `parallel` with `--threads auto`, the fastest of the `linreg` binary (every core
from 4 096 points on, unless its first epochs measure one thread faster); `--kernel scalar|simd|parallel` picks another. Each
fit is one call, so the parallel kernel starts its threads in every fit (the `linreg` binary
starts them once, before its clock).

    python linreg_rust.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR [--kernel K]
"""

import linreg_common as common

linreg_py = common.import_optional(
    "linreg_py", hint="build it with `make venv` (needs cargo and maturin: python_impl/requirements-build.txt)"
)

from linreg_numpy import load  # reading is not what this variant is about

IMPLEMENTATION = "python-rust"
DEFAULT_KERNEL = "parallel"


def add_arguments(parser):
    parser.add_argument(
        "--kernel",
        choices=linreg_py.KERNELS,
        default=DEFAULT_KERNEL,
        help=f"how the Rust code sums each epoch (default: {DEFAULT_KERNEL})",
    )


def train(x, y, epochs, learning_rate, kernel=DEFAULT_KERNEL):
    fit = linreg_py.fit(x, y, epochs, learning_rate, kernel=kernel)
    return common.Fit(fit.w, fit.b, fit.mse, fit.epochs_run, kernel=fit.kernel, threads=fit.threads)


def prepare(x, y, args):
    return lambda: train(x, y, args.epochs, args.learning_rate, args.kernel)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, prepare=prepare, add_arguments=add_arguments, description=__doc__)
