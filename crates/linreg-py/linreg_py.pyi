"""Type stub of linreg_py, the linreg library's gradient descent for Python (crates/linreg-py)."""

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

KERNELS: Final[list[str]]
"""The kernel names fit() accepts: "scalar", "simd", "parallel"."""

class Fit:
    """The outcome of a fit, as the protocol's result line has it (docs/protocol.md)."""

    @property
    def w(self) -> float: ...
    @property
    def b(self) -> float: ...
    @property
    def mse(self) -> float:
        """(1/n)·Σ e_i² with the final w and b (NaN or inf when diverged)."""
    @property
    def status(self) -> Literal["ok", "diverged"]: ...
    @property
    def epochs_run(self) -> int: ...
    @property
    def diverged_at_epoch(self) -> int | None:
        """The 1-based epoch at which w, b or the final mse stopped being finite; None when ok."""
    @property
    def kernel(self) -> str:
        """The code that summed, e.g. "simd/avx512"."""
    @property
    def threads(self) -> int:
        """How many threads summed."""
    @property
    def prefetching_threads(self) -> int | None:
        """How many of the kernel's threads had chosen to prefetch when the fit ended (0 or 1 for
        the simd kernel and the parallel kernel on one thread); None where none tried (the scalar
        kernel, or the data within the cores' L2s)."""
    @property
    def prefetch_refused_threads(self) -> int | None:
        """How many of them had refused the prefetch (the rest had not chosen yet); None where none
        tried. A `Trainer`'s threads keep their choices: its fits count every fit so far."""
    @property
    def prefetch_pairs(self) -> int | None:
        """The most pairs of epochs a thread timed to choose, or until the fit ended (12 to 16
        behind a kept prefetch, 5 to 16 behind a refused one); None where none tried."""
    @property
    def data_addresses(self) -> tuple[int, int]:
        """Where the x and y buffers the fit read lie: NumPy's own addresses (nothing copied)."""

def fit(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    epochs: int,
    learning_rate: float,
    *,
    kernel: Literal["scalar", "simd", "parallel"] = "scalar",
    isa: Literal["auto", "avx512", "avx2", "portable"] | None = None,
    threads: int | Literal["auto"] | None = None,
    check_finite: bool = True,
) -> Fit:
    """Fits y = w·x + b from w = b = 0 by `epochs` full-batch gradient-descent steps.

    x and y: one-dimensional, C-contiguous, aligned float64 arrays of the same length >= 1, every
    value finite, read in place (never copied; a read-only array is fine). The GIL is released
    while the epochs run: do not write to x or y from another thread meanwhile.

    kernel, isa, threads: as the `linreg` binary's --kernel, --isa (default "auto": the fastest
    of this CPU's vector instruction sets, timed on the data in the first epoch past the widest
    set's warm-up, the widest in a fit too short for that; Fit.kernel names the one used) and
    --threads (parallel only; default "auto").

    check_finite=False skips the check that every value is finite, a pass over the data (28 ms of
    a 118 ms call at 10^7 points, 20 epochs, two threads, on an Emerald Rapids), for a caller that
    checked them already; a NaN or infinite value then gives a diverged fit or a NaN, never a
    crash.

    Each call starts and stops the parallel kernel's threads and makes auto's choices anew; a
    service fitting the same data again and again keeps them in a Trainer.

    Raises TypeError for a value that is not an ndarray, not float64 (native byte order), or an
    epochs / learning_rate / threads of the wrong type; ValueError for the wrong shape, a strided
    or misaligned array, different lengths, no points, a NaN or infinite value, epochs < 1, a
    learning rate that is not a finite number > 0, or an unknown kernel, isa or thread count.
    """

class Trainer:
    """Fits of one dataset on threads that live as long as the trainer, as a long-lived service
    keeps them between requests (the `linreg` binary's --fits K does the same within a process).

    Trainer(x, y, *, kernel, isa, threads, epochs): x and y as for fit(), checked and copied once
    (later writes to them do not reach the trainer; Fit.data_addresses names its copy); kernel,
    isa and threads as for fit(). epochs, when given, is how many epochs all the trainer's fits
    will take together: auto's choices, made in the first fit, take a share of that, else their
    longest (20 ms each at most). Returns once the kernel's threads run. Raises as fit() does for
    bad arguments.

    A context manager: `with Trainer(x, y, kernel="parallel") as t: t.fit(100, 0.01)` closes it on
    exit. One fit runs at a time; several Python threads may ask.
    """

    def __init__(
        self,
        x: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        *,
        kernel: Literal["scalar", "simd", "parallel"] = "scalar",
        isa: Literal["auto", "avx512", "avx2", "portable"] | None = None,
        threads: int | Literal["auto"] | None = None,
        epochs: int | None = None,
    ) -> None: ...
    def fit(self, epochs: int, learning_rate: float) -> Fit:
        """One fit of `epochs` epochs from w = b = 0 on the trainer's threads, the GIL released
        meanwhile. Raises TypeError / ValueError for bad arguments, RuntimeError once closed."""
    def close(self) -> None:
        """Stops the trainer's threads; closing twice is harmless."""
    def __enter__(self) -> "Trainer": ...
    def __exit__(self, kind: object, value: object, traceback: object) -> bool: ...
    def __len__(self) -> int:
        """The number of points."""
