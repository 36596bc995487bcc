//! `linreg_py`: the `linreg` library's gradient descent for Python, on float64 NumPy arrays it
//! borrows (never copies), with the GIL released while it trains.
//!
//! A thin shell, as in pydantic-core or polars: Python arguments are checked and converted here,
//! every problem becomes a Python exception (TypeError for a wrong type or dtype, ValueError for a
//! wrong value, layout or length), and the algorithm is `linreg::fit`, the same code the `linreg`
//! binary runs; `Trainer` is `linreg::Trainer`, its threads kept between fits. The type stub is
//! `linreg_py.pyi` beside this crate's pyproject.toml.

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};

use linreg::{dataset, Columns, FitStatus, IsaChoice, Kernel, Ran, Threads};
use numpy::{PyArray1, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};

/// The outcome of a fit, as the protocol's result line has it (docs/protocol.md).
#[pyclass(frozen, get_all, module = "linreg_py")]
struct Fit {
    w: f64,
    b: f64,
    /// (1/n)·Σ e_i² with the final w and b (NaN or inf when diverged).
    mse: f64,
    /// "ok" or "diverged".
    status: &'static str,
    epochs_run: u64,
    /// The 1-based epoch at which w, b or the final mse stopped being finite; None when ok.
    diverged_at_epoch: Option<u64>,
    /// The code that summed, e.g. "simd/avx512".
    kernel: String,
    /// How many threads summed.
    threads: usize,
    /// How many of the kernel's threads had chosen to prefetch when the fit ended (0 or 1 for the
    /// simd kernel and the parallel kernel on one thread); None where none tried (the scalar
    /// kernel, or the data within the cores' L2s), as the `linreg` result line's
    /// `prefetching_threads` (docs/protocol.md).
    prefetching_threads: Option<usize>,
    /// Beside it, how many refused the prefetch and the most pairs of epochs a thread timed to
    /// choose, as the result line's `prefetch_refused_threads` and `prefetch_pairs`; None where
    /// none tried. A `Trainer`'s threads keep their choices: its fits count every fit so far.
    prefetch_refused_threads: Option<usize>,
    prefetch_pairs: Option<usize>,
    /// The addresses of the x and y buffers the fit read: equal to NumPy's own
    /// (`arr.__array_interface__['data'][0]`), which shows nothing was copied.
    data_addresses: (usize, usize),
}

#[pymethods]
impl Fit {
    fn __repr__(&self) -> String {
        format!(
            "Fit(w={:?}, b={:?}, mse={:?}, status={:?}, epochs_run={}, diverged_at_epoch={:?}, kernel={:?}, threads={}, prefetching_threads={}, prefetch_refused_threads={}, prefetch_pairs={})",
            self.w,
            self.b,
            self.mse,
            self.status,
            self.epochs_run,
            self.diverged_at_epoch,
            self.kernel,
            self.threads,
            or_none(self.prefetching_threads),
            or_none(self.prefetch_refused_threads),
            or_none(self.prefetch_pairs),
        )
    }
}

impl Fit {
    fn new(fit: linreg::Fit, ran: Ran, kernel: Kernel, data_addresses: (usize, usize)) -> Fit {
        let diverged_at_epoch = match fit.status {
            FitStatus::Ok => None,
            FitStatus::Diverged { at_epoch } => Some(at_epoch),
        };
        Fit {
            w: fit.w,
            b: fit.b,
            mse: fit.mse,
            status: if diverged_at_epoch.is_some() { "diverged" } else { "ok" },
            epochs_run: fit.epochs_run,
            diverged_at_epoch,
            kernel: ran.label(kernel),
            threads: ran.threads,
            prefetching_threads: ran.prefetching.map(|c| c.kept),
            prefetch_refused_threads: ran.prefetching.map(|c| c.refused),
            prefetch_pairs: ran.prefetching.map(|c| c.most_pairs),
            data_addresses,
        }
    }
}

/// A count as Python writes it, `None` where there is none.
fn or_none(count: Option<usize>) -> String {
    count.map_or("None".to_string(), |count| count.to_string())
}

/// Where `x` and `y` lie, for [`Fit::data_addresses`].
fn addresses(x: &[f64], y: &[f64]) -> (usize, usize) {
    (x.as_ptr() as usize, y.as_ptr() as usize)
}

/// Fits y = w·x + b from w = b = 0 by `epochs` full-batch gradient-descent steps.
///
/// x and y: one-dimensional, C-contiguous, aligned float64 NumPy arrays of the same length ≥ 1,
/// every value finite; read in place (a read-only array is fine). The GIL is released while the
/// epochs run: do not write to x or y from another thread meanwhile. `check_finite=False` skips
/// the check that every value is finite, a pass over the data, for a caller that made it already
/// (a NaN or infinite value then gives a diverged fit or a NaN, never a crash).
#[pyfunction]
#[pyo3(signature = (x, y, epochs, learning_rate, *, kernel = "scalar", isa = None, threads = None, check_finite = true))]
#[allow(clippy::too_many_arguments)]
fn fit(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    epochs: &Bound<'_, PyAny>,
    learning_rate: &Bound<'_, PyAny>,
    kernel: &str,
    isa: Option<&str>,
    threads: Option<&Bound<'_, PyAny>>,
    check_finite: bool,
) -> PyResult<Fit> {
    with_points(x, y, |x, y| {
        let epochs = positive_epochs(epochs)?;
        let learning_rate = positive_learning_rate(learning_rate)?;
        let kernel = choose_kernel(kernel, isa, threads)?;
        // Checking the data is a pass over it, done with the GIL released too.
        let outcome = py.detach(|| {
            let non_finite = if check_finite { first_non_finite(x, y) } else { None };
            non_finite.map_or_else(|| Ok(kernel.with_fits(x, y, epochs, |fit| fit(epochs, learning_rate)).0), Err)
        });
        let (fit, ran) = outcome.map_err(PyValueError::new_err)?;
        Ok(Fit::new(fit, ran, kernel, addresses(x, y)))
    })
}

/// Fits of one dataset on threads that live as long as the trainer: what a long-lived service
/// keeps between requests (see `linreg::Trainer`).
///
/// x and y as for `fit`, copied once when the trainer starts (later writes to them do not reach
/// it); `epochs`, when given, is how many epochs all its fits will take together, the budget of
/// `auto`'s choices (a share of it), else they take their longest (20 ms each at most) in the
/// first fit.
#[pyclass(frozen, module = "linreg_py")]
struct Trainer {
    inner: Mutex<linreg::Trainer>,
    kernel: Kernel,
    /// The number of points (kept apart, so that `len` does not wait for a fit in progress).
    n: usize,
    /// Where the trainer's copy of x and y lies (what its fits read).
    addresses: (usize, usize),
}

#[pymethods]
impl Trainer {
    #[new]
    #[pyo3(signature = (x, y, *, kernel = "scalar", isa = None, threads = None, epochs = None))]
    fn new(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        kernel: &str,
        isa: Option<&str>,
        threads: Option<&Bound<'_, PyAny>>,
        epochs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Trainer> {
        with_points(x, y, |x, y| {
            let kernel = choose_kernel(kernel, isa, threads)?;
            let epochs = epochs.map(positive_epochs).transpose()?.unwrap_or(u64::MAX);
            let started = py.detach(|| {
                // The copy checks every value; only a failure takes a second pass, for fit()'s message.
                let data = Columns::copied(x, y).map_err(|message| PyValueError::new_err(first_non_finite(x, y).unwrap_or(message)))?;
                linreg::Trainer::start(data, kernel, epochs).map_err(|e| PyRuntimeError::new_err(e.to_string()))
            })?;
            let addresses = addresses(started.data().x(), started.data().y());
            Ok(Trainer { inner: Mutex::new(started), kernel, n: x.len(), addresses })
        })
    }

    /// One fit of `epochs` epochs from w = b = 0 on the calling thread, the trainer's pool's
    /// thread 0; the GIL is released meanwhile. Raises RuntimeError once the trainer is closed.
    fn fit(&self, py: Python<'_>, epochs: &Bound<'_, PyAny>, learning_rate: &Bound<'_, PyAny>) -> PyResult<Fit> {
        let epochs = positive_epochs(epochs)?;
        let learning_rate = positive_learning_rate(learning_rate)?;
        let (fit, ran) = py.detach(|| self.locked()?.fit(epochs, learning_rate).map_err(|e| PyRuntimeError::new_err(e.to_string())))?;
        Ok(Fit::new(fit, ran, self.kernel, self.addresses))
    }

    /// Stops the trainer's threads; later fits raise RuntimeError. Closing twice is harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.locked().map(|mut trainer| trainer.close()))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.close(py).map(|()| false)
    }

    /// The number of points.
    fn __len__(&self) -> usize {
        self.n
    }

    fn __repr__(&self) -> String {
        format!("Trainer(kernel={:?}, data_addresses={:?})", self.kernel.to_string(), self.addresses)
    }
}

impl Trainer {
    fn locked(&self) -> PyResult<MutexGuard<'_, linreg::Trainer>> {
        self.inner.lock().map_err(|_| PyRuntimeError::new_err("the trainer failed in another thread"))
    }
}

/// `x` and `y` as slices of the same non-zero length, for `body`; or the TypeError / ValueError
/// that says what is wrong with them.
fn with_points<R>(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>, body: impl FnOnce(&[f64], &[f64]) -> PyResult<R>) -> PyResult<R> {
    let x = float64_vector("x", x)?;
    let y = float64_vector("y", y)?;
    let (x, y) = (contiguous("x", &x)?, contiguous("y", &y)?);
    if x.len() != y.len() {
        return Err(PyValueError::new_err(format!("x and y must have the same length, got {} and {}", x.len(), y.len())));
    }
    if x.is_empty() {
        return Err(PyValueError::new_err("x and y are empty: a fit needs at least one point"));
    }
    body(x, y)
}

/// `value` as a borrowed one-dimensional float64 array, or the TypeError / ValueError that says
/// what it is instead.
fn float64_vector<'py>(name: &str, value: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray1<'py, f64>> {
    let Ok(array) = value.cast::<PyUntypedArray>() else {
        let kind = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".into());
        return Err(PyTypeError::new_err(format!("{name} must be a NumPy array (numpy.ndarray) of float64, got {kind}")));
    };
    if array.ndim() != 1 {
        return Err(PyValueError::new_err(format!("{name} must be one-dimensional, got shape {:?}", array.shape())));
    }
    let dtype = array.dtype();
    if !dtype.is_equiv_to(&numpy::dtype::<f64>(value.py())) {
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype float64 (native byte order), got {dtype}: convert it with {name}.astype(numpy.float64)"
        )));
    }
    let array = value.cast::<PyArray1<f64>>().map_err(|e| PyTypeError::new_err(format!("{name}: {e}")))?;
    array.try_readonly().map_err(|e| PyValueError::new_err(format!("{name} cannot be read: {e}")))
}

/// The array's memory as a slice, or the ValueError that says why it is not one.
fn contiguous<'a>(name: &str, array: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    let untyped = array.as_untyped();
    if !untyped.is_c_contiguous() {
        let strides = untyped.strides();
        return Err(PyValueError::new_err(format!(
            "{name} must be contiguous, got a strided view (strides {strides:?} bytes): pass numpy.ascontiguousarray({name})"
        )));
    }
    if !untyped.is_aligned() {
        return Err(PyValueError::new_err(format!("{name} must be aligned to 8 bytes: pass numpy.array({name}) to copy it")));
    }
    array.as_slice().map_err(|e| PyValueError::new_err(format!("{name}: {e}")))
}

/// The message for the first value of x, then of y, that is NaN or infinite, if any.
fn first_non_finite(x: &[f64], y: &[f64]) -> Option<String> {
    [("x", x), ("y", y)].into_iter().find_map(|(name, values)| {
        dataset::first_non_finite(values).map(|index| format!("{name}[{index}] is not finite ({})", values[index]))
    })
}

fn positive_epochs(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    let wrong = || format!("epochs must be an integer ≥ 1, got {}", shown(value));
    if !is_int(value) {
        return Err(PyTypeError::new_err(wrong()));
    }
    match value.extract::<i128>() {
        Ok(n) if n >= 1 && n <= u64::MAX as i128 => Ok(n as u64),
        _ => Err(PyValueError::new_err(wrong())),
    }
}

fn positive_learning_rate(value: &Bound<'_, PyAny>) -> PyResult<f64> {
    let wrong = || format!("learning_rate must be a finite number > 0, got {}", shown(value));
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(wrong()));
    }
    match value.extract::<f64>() {
        Ok(lr) if linreg::fit::is_valid_learning_rate(lr) => Ok(lr),
        Ok(_) => Err(PyValueError::new_err(wrong())),
        Err(_) => Err(PyTypeError::new_err(wrong())),
    }
}

/// The kernel as `linreg --kernel K --isa I --threads T` would choose it.
fn choose_kernel(name: &str, isa: Option<&str>, threads: Option<&Bound<'_, PyAny>>) -> PyResult<Kernel> {
    let mut kernel = Kernel::by_name(name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown kernel '{name}' (known: {})", Kernel::NAMES.join(", "))))?;
    if let Some(isa) = isa {
        let isa = IsaChoice::by_name(isa).map_err(|e| PyValueError::new_err(format!("isa: {e}")))?;
        kernel = kernel
            .with_isa(isa)
            .ok_or_else(|| PyValueError::new_err(format!("isa applies to the simd and parallel kernels only, not to '{kernel}'")))?;
    }
    if let Some(threads) = threads {
        let threads = thread_count(threads)?;
        kernel = kernel
            .with_threads(threads)
            .ok_or_else(|| PyValueError::new_err(format!("threads applies to the parallel kernel only, not to '{kernel}'")))?;
    }
    Ok(kernel)
}

/// "auto" or an integer ≥ 1.
fn thread_count(value: &Bound<'_, PyAny>) -> PyResult<Threads> {
    let wrong = || format!("threads must be 'auto' or an integer ≥ 1, got {}", shown(value));
    if let Ok(text) = value.cast::<PyString>() {
        return match text.to_str()? {
            "auto" => Ok(Threads::Auto),
            _ => Err(PyValueError::new_err(wrong())),
        };
    }
    if !is_int(value) {
        return Err(PyTypeError::new_err(wrong()));
    }
    match value.extract::<i128>() {
        // More threads than a usize counts are as many as there are blocks anyway.
        Ok(n) if n >= 1 => Ok(Threads::Exactly(usize::try_from(n).ok().and_then(NonZeroUsize::new).unwrap_or(NonZeroUsize::MAX))),
        _ => Err(PyValueError::new_err(wrong())),
    }
}

/// An int, not a bool (which Python counts as one).
fn is_int(value: &Bound<'_, PyAny>) -> bool {
    value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>()
}

/// The value as Python's repr() shows it, for a message.
fn shown(value: &Bound<'_, PyAny>) -> String {
    value.repr().map(|r| r.to_string()).unwrap_or_else(|_| "an unprintable value".into())
}

#[pymodule]
fn linreg_py(module: &Bound<'_, PyModule>) -> PyResult<()> {
    // At import, a script's start-up, what would otherwise be done lazily inside the first fit
    // and land in the caller's clock around it: asking the CPU its features (a dozen CPUIDs,
    // 60-65 µs in a KVM guest), how many CPUs this process may use (~20 system calls, which the
    // parallel kernel asks once) and rust-numpy's one-time set-up (NumPy's C API, the float64
    // dtype, the shared borrow checker), which a first array taken as a fit's x does. At 5 points
    // × 1 000 epochs a first `fit` took 153 µs with the scalar kernel and 234 µs with the
    // parallel one, 18 µs the next (Emerald Rapids, family 6 model 207).
    linreg::kernels::detect_cpu_features();
    linreg::kernels::parallel::default_threads();
    let probe = PyArray1::<f64>::zeros(module.py(), 1, false);
    contiguous("x", &float64_vector("x", probe.as_any())?)?;
    module.add_function(wrap_pyfunction!(fit, module)?)?;
    module.add_class::<Fit>()?;
    module.add_class::<Trainer>()?;
    module.add("KERNELS", Kernel::NAMES.to_vec())?;
    Ok(())
}
