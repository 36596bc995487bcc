"""Linear regression by gradient descent, the whole fit compiled by JAX (XLA) for its device.

Same algorithm and output as linreg_numpy.py (docs/protocol.md), in float64 (`jax_enable_x64`):
the epochs are a `lax.while_loop` inside one jit-compiled function, so a fit is one call to
compiled code, on whatever device JAX runs on (the CPU here; an accelerator where jaxlib has one,
named in the result line's `device` field). Optional: it needs jax
(python_impl/requirements-jax.txt).

The loop runs while `epoch < epochs` and w and b are finite: the protocol's divergence rule
(stop after the epoch whose update is not finite), where a `fori_loop` would run every epoch.
XLA sums in an order of its own (vectorised, tree-shaped), so the results agree with the
reference to about 1e-13, not bit for bit.

jax is imported, the function compiled ahead of time for the dataset's shape
(`jit(...).lower(...).compile()`) and the data put on the device after loading and before the
clocks start: the import, compilation and the transfer count as start-up (wall - load - train),
like numba's; train_seconds is the compiled fits alone, each one call and the wait for its
result. Bad input is reported before jax is imported (a second of it).

    python linreg_jax.py --data FILE.npy|FILE.csv --epochs N --learning-rate LR
"""

import numpy as np

import linreg_common as common
from linreg_numpy import load  # reading is not what this variant is about

IMPLEMENTATION = "python-jax"
MAX_EPOCHS = 2**63 - 1  # the int64 epoch counter


def import_jax():
    """jax, computing in float64."""
    jax = common.import_optional("jax", hint="pip install -r python_impl/requirements-jax.txt")
    jax.config.update("jax_enable_x64", True)
    return jax


def descend(x, y, epochs, learning_rate):
    """(w, b, mse, epochs_run) of one fit; traced by JAX, so plain jnp code."""
    from jax import lax
    from jax import numpy as jnp

    n = x.shape[0]

    def running(state):
        epoch, w, b = state
        return (epoch < epochs) & jnp.isfinite(w) & jnp.isfinite(b)

    def epoch_step(state):
        epoch, w, b = state
        e = w * x + b - y
        # 2·(S/n), not (2·S)/n: the same rounding and overflow point as NumPy's 2·np.mean.
        w = w - learning_rate * (2.0 * (jnp.sum(e * x) / n))
        b = b - learning_rate * (2.0 * (jnp.sum(e) / n))
        return epoch + 1, w, b

    zero = jnp.zeros((), dtype=jnp.float64)
    epochs_run, w, b = lax.while_loop(running, epoch_step, (jnp.zeros((), dtype=jnp.int64), zero, zero))
    e = w * x + b - y
    return w, b, jnp.sum(e * e) / n, epochs_run


def prepare(x, y, args):
    """Imports jax, puts the data on the device and compiles the fit for it: start-up, before the
    clocks."""
    common.refuse_epochs_above(args.epochs, MAX_EPOCHS)
    jax = import_jax()
    operands = (jax.device_put(x), jax.device_put(y), np.int64(args.epochs), np.float64(args.learning_rate))
    compiled = jax.jit(descend).lower(*operands).compile()

    def fit_once():
        w, b, mse, epochs_run = jax.device_get(compiled(*operands))
        return common.Fit(float(w), float(b), float(mse), int(epochs_run))

    return fit_once


def device_name():
    """The device JAX runs on by default: 'cpu', or e.g. 'gpu (NVIDIA A100-SXM4-40GB)'."""
    device = import_jax().devices()[0]
    kind = str(device.device_kind)
    return device.platform if kind.lower() == device.platform.lower() else f"{device.platform} ({kind})"


if __name__ == "__main__":
    common.run(IMPLEMENTATION, load, prepare=prepare, description=__doc__, extra=lambda: {"device": device_name()})
