"""Linear regression by gradient descent in vectorised NumPy: the Python reference.

Written the way a data scientist writes it (whole-array expressions, np.mean), not tuned; see
linreg_numpy_fast.py for the tuned version. Follows docs/protocol.md:

    python linreg_numpy.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import math

# Imported at the top like any NumPy script: its import cost is part of the start-up we measure.
import numpy as np

import linreg_common as common

IMPLEMENTATION = "python-numpy"


def load(path):
    """(x, y) as float64 arrays, from .npy (np.load) or .csv (the common reader)."""
    if common.dataset_format(path) == "csv":
        x, y = common.read_csv(path)
        return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)

    with open(path, "rb") as file:
        # The shared header check gives the same clear errors (magic, dtype, byte order, order,
        # shape, truncation) in every Python implementation; after it np.load cannot surprise us.
        common.read_npy_header(file)
        file.seek(0)
        try:
            data = np.load(file, allow_pickle=False)
        except ValueError as error:  # a header NumPy reads more strictly, e.g. over 10 kB
            raise common.InputError(f"np.load: {error}") from None
    x, y = data
    for name, values in (("x", x), ("y", y)):
        finite = np.isfinite(values)
        if not finite.all():
            index = int(np.argmin(finite))
            raise common.InputError(f"{name}[{index}] is not finite ({float(values[index])!r})")
    return x, y


def train(x, y, epochs, learning_rate):
    w = 0.0
    b = 0.0
    # A diverging fit overflows on purpose; it is reported as a result, so keep stderr clean.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            y_pred = w * x + b
            error = y_pred - y
            dw = 2 * np.mean(error * x)
            db = 2 * np.mean(error)
            w -= learning_rate * dw
            b -= learning_rate * db
            if not (math.isfinite(w) and math.isfinite(b)):
                return common.Fit(float(w), float(b), math.nan, epoch)
        mse = np.mean((w * x + b - y) ** 2)
    return common.Fit(float(w), float(b), float(mse), epochs)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, train, description=__doc__)
