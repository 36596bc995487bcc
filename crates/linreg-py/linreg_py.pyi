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
) -> Fit:
    """Fits y = w·x + b from w = b = 0 by `epochs` full-batch gradient-descent steps.

    x and y: one-dimensional, C-contiguous, aligned float64 arrays of the same length >= 1, every
    value finite, read in place (never copied; a read-only array is fine). The GIL is released
    while the epochs run: do not write to x or y from another thread meanwhile.

    kernel, isa, threads: as the `linreg` binary's --kernel, --isa (default "auto": the fastest
    of this CPU's vector instruction sets, timed on the data in the first epoch past the widest
    set's warm-up, the widest in a fit too short for that; Fit.kernel names the one used) and --threads (parallel only; default "auto").

    Raises TypeError for a value that is not an ndarray, not float64 (native byte order), or an
    epochs / learning_rate / threads of the wrong type; ValueError for the wrong shape, a strided
    or misaligned array, different lengths, no points, a NaN or infinite value, epochs < 1, a
    learning rate that is not a finite number > 0, or an unknown kernel, isa or thread count.
    """
