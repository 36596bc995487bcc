"""Linear regression by gradient descent in plain Python: lists of floats, no NumPy.

The baseline for "what does NumPy buy": the same algorithm and output as linreg_numpy.py
(docs/protocol.md), with the standard library only, so start-up is the bare interpreter's.

    python linreg_pure.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import math

import linreg_common as common

IMPLEMENTATION = "python-pure"


def load(path):
    """(x, y) as lists of floats: a loop over a list reuses its float objects, array('d') boxes anew."""
    if common.dataset_format(path) == "npy":
        x, y = common.read_npy(path)
    else:
        x, y = common.read_csv(path)
    return x.tolist(), y.tolist()


def train(x, y, epochs, learning_rate):
    n = len(x)
    points = list(zip(x, y))  # built once: the epoch loop then unpacks tuples, no zip per epoch
    isfinite = math.isfinite

    w = 0.0
    b = 0.0
    for epoch in range(1, epochs + 1):
        # Plain += in index order, like the other implementations (not math.fsum), so they agree.
        sum_ex = 0.0
        sum_e = 0.0
        for xi, yi in points:
            e = w * xi + b - yi
            sum_ex += e * xi
            sum_e += e
        # 2·(S/n), not (2·S)/n: the same rounding and overflow point as NumPy's 2·np.mean.
        w -= learning_rate * (2.0 * (sum_ex / n))
        b -= learning_rate * (2.0 * (sum_e / n))
        if not (isfinite(w) and isfinite(b)):
            return common.Fit(w, b, math.nan, epoch)

    sum_e2 = 0.0
    for xi, yi in points:
        e = w * xi + b - yi
        sum_e2 += e * e  # e * e, not e ** 2: ** raises OverflowError where * gives inf
    return common.Fit(w, b, sum_e2 / n, epochs)


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, train, description=__doc__)
