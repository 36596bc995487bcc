//! Datasets: x and y as float64 columns, read from `.npy` (shape (2, n), `<f8`, C order: row 0
//! is x, row 1 is y) or from CSV with a header naming `x` and `y`; written as `.npy`.
//!
//! The `.npy` reader reads the payload straight into the two columns: no intermediate buffer, so
//! the peak memory of a process that loads n points is the 16·n bytes of the data itself.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::placement::{second_column_start, Buffer};

/// The points of one regression problem. Invariant: same non-zero length, every value finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// Why a dataset could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: line {line}: column '{column}': {message}", path.display())]
    Cell { path: PathBuf, line: u64, column: String, message: String },
    #[error("{}: line {line}: {message}", path.display())]
    Row { path: PathBuf, line: u64, message: String },
}

const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header NumPy's reader accepts (`numpy.lib.format`'s default `max_header_size`).
const NPY_MAX_HEADER_BYTES: usize = 10_000;

impl Dataset {
    /// Builds a dataset, checking the invariant.
    pub fn new(x: Vec<f64>, y: Vec<f64>) -> Result<Self, String> {
        Dataset::check(&x, &y)?;
        Ok(Dataset { x, y })
    }

    /// The invariant: same non-zero length, every value finite.
    fn check(x: &[f64], y: &[f64]) -> Result<(), String> {
        if x.len() != y.len() {
            return Err(format!("x has {} values but y has {}", x.len(), y.len()));
        }
        if x.is_empty() {
            return Err("the dataset has no points (n = 0)".into());
        }
        for (name, column) in [("x", x), ("y", y)] {
            if let Some(i) = first_non_finite(column) {
                return Err(format!("{name}[{i}] is {}: every value must be finite", column[i]));
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Reads `.npy` or `.csv`, chosen by the file's extension.
    pub fn read(path: &Path) -> Result<Self, DatasetError> {
        match Format::of(path)? {
            Format::Npy => Self::read_npy(path),
            Format::Csv => Self::read_csv(path),
        }
    }

    /// Reads a NumPy `.npy` file of dtype `<f8` and shape (2, n) in C order.
    pub fn read_npy(path: &Path) -> Result<Self, DatasetError> {
        let (mut file, n) = open_npy(path)?;
        let mut x = vec![0.0f64; n];
        let mut y = vec![0.0f64; n];
        advise_huge_pages(&mut x);
        advise_huge_pages(&mut y);
        read_npy_columns(&mut file, path, &mut x, &mut y)?;
        Dataset::new(x, y).map_err(|m| format_error(path, m))
    }

    /// Reads a CSV file with a header row; the columns named `x` and `y` are used.
    pub fn read_csv(path: &Path) -> Result<Self, DatasetError> {
        Self::read_csv_columns(path, "x", "y")
    }

    /// Reads a CSV file with a header row, taking x and y from the columns with these names.
    pub fn read_csv_columns(path: &Path, x_column: &str, y_column: &str) -> Result<Self, DatasetError> {
        let (mut reader, columns) = open_csv_columns(path, x_column, y_column)?;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(|e| csv_error(path, e))? {
            if is_blank(&record) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line());
            // A row of another width is not read by position: "1,5,2,5" (decimal commas) would
            // give x = 1, y = 5 and lose the rest without a word.
            if record.len() != columns.width {
                return Err(DatasetError::Row { path: path.to_owned(), line, message: width_problem(record.len(), columns.width) });
            }
            for (index, name, out) in [(columns.x, x_column, &mut x), (columns.y, y_column, &mut y)] {
                let cell = &record[index];
                let cell_error = |message: String| DatasetError::Cell { path: path.to_owned(), line, column: name.into(), message };
                let value: f64 = cell.parse().map_err(|_| cell_error(format!("'{cell}' is not a number")))?;
                if !value.is_finite() {
                    return Err(cell_error(format!("'{cell}' is not finite")));
                }
                out.push(value);
            }
        }
        Dataset::new(x, y).map_err(|m| format_error(path, m))
    }

    /// Checks what can be checked of a CSV file without reading its rows: a regular file (a FIFO
    /// is never opened) whose header names each of the two columns exactly once.
    pub fn check_csv_header(path: &Path, x_column: &str, y_column: &str) -> Result<(), DatasetError> {
        open_csv_columns(path, x_column, y_column).map(drop)
    }

    /// Checks what can be checked of a `.npy` file without reading its values: a regular file, a
    /// header of the dtype, shape and order this project reads, and the size the header promises.
    /// Returns n.
    pub fn check_npy_header(path: &Path) -> Result<usize, DatasetError> {
        open_npy(path).map(|(_, n)| n)
    }

    /// Writes the dataset as `.npy` version 1.0, `<f8`, shape (2, n), C order.
    pub fn write_npy(&self, path: &Path) -> Result<(), DatasetError> {
        self.write_npy_until(path, &|| false).map(|_| ())
    }

    /// Like [`Dataset::write_npy`], but gives up as soon as `stop` says so (asked every 64 Ki
    /// values, so a multi-GB file can be interrupted): Ok(false) then, with the file incomplete.
    pub fn write_npy_until(&self, path: &Path, stop: &dyn Fn() -> bool) -> Result<bool, DatasetError> {
        const CHUNK_VALUES: usize = 1 << 16;
        let write = || -> io::Result<bool> {
            let mut out = BufWriter::new(File::create(path)?);
            out.write_all(&npy_header(self.len()))?;
            for column in [&self.x, &self.y] {
                for chunk in column.chunks(CHUNK_VALUES) {
                    if stop() {
                        return Ok(false);
                    }
                    for v in chunk {
                        out.write_all(&v.to_le_bytes())?;
                    }
                }
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(true)
        };
        write().map_err(|e| io_error(path, e))
    }
}

/// The formats a dataset is read from, by the file's extension.
enum Format {
    Npy,
    Csv,
}

impl Format {
    fn of(path: &Path) -> Result<Format, DatasetError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("npy") => Ok(Format::Npy),
            Some("csv") => Ok(Format::Csv),
            _ => Err(format_error(path, "unknown dataset format: expected a .npy or .csv file")),
        }
    }
}

/// The payload of an opened `.npy` file (see [`open_npy`]) into its two columns, each as long as
/// the header's n, and nothing left after them.
fn read_npy_columns(file: &mut File, path: &Path, x: &mut [f64], y: &mut [f64]) -> Result<(), DatasetError> {
    let n = x.len();
    for column in [x, y] {
        read_f64_le(file, column).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => format_error(path, format!("truncated: the header promises 2×{n} float64 values")),
            _ => io_error(path, e),
        })?;
    }
    let mut rest = [0u8; 1];
    if file.read(&mut rest).map_err(|e| io_error(path, e))? != 0 {
        return Err(format_error(path, format!("trailing bytes after the 2×{n} float64 values")));
    }
    Ok(())
}

/// A dataset laid out for the kernels: x and y in one buffer, each starting on a 64-byte cache
/// line, so the vector code (see `kernels::simd`) loads whole lines from their first point. Two
/// vectors of their own do not promise that: glibc places an allocation below its mmap threshold
/// (128 KiB, 16 384 points) wherever its heap has room, and at 10^3 and 10^4 points x and y came
/// out 16 or 32 bytes apart modulo 64, so every 64-byte load of y read two lines; on an Emerald
/// Rapids the simd kernel summed 10^4 points at 0.169 ns a point then, against 0.123 at 2·10^4,
/// where both columns were mmapped alike. x on a line too (not only y on x's offset) makes the
/// simd kernel's sums the same bits wherever the allocator put the buffer: its scalar head before
/// the first line is empty, so the binary, a clone and python-rust's trainer agree bit for bit.
/// Same memory as a [`Dataset`] (16 bytes a point and at most 14 values of padding), except where
/// the buffer goes on whole huge pages ([`crate::placement`]: the L2's sets filled evenly, y half
/// the L2's set span from x, at the price of up to a huge page and a span more resident).
#[derive(Debug)]
pub struct Columns {
    /// x, padding to the next cache line (on whole pages, to the first line that lies half the
    /// L2's set span from x's start, where the span is known), y: placed by [`Buffer`] (on a cache
    /// line, and on whole huge pages from about a third of the L2 up).
    buffer: Buffer,
    n: usize,
    /// Where y starts in the buffer ([`second_column_start`]: asked once, when the buffer is made).
    y_start: usize,
}

impl Columns {
    /// Reads `.npy` straight into the layout (no second copy, the same peak as [`Dataset::read`]);
    /// `.csv` through a [`Dataset`], then copied.
    pub fn read(path: &Path) -> Result<Self, DatasetError> {
        match Format::of(path)? {
            Format::Npy => {
                let (mut file, n) = open_npy(path)?;
                let mut columns = Columns::zeros(n);
                let (x, y) = columns.both_mut();
                read_npy_columns(&mut file, path, x, y)?;
                Dataset::check(columns.x(), columns.y()).map_err(|m| format_error(path, m))?;
                Ok(columns)
            }
            Format::Csv => Dataset::read_csv(path).map(|data| Columns::from(&data)),
        }
    }

    /// A copy of `x` and `y` in the layout, checked as a [`Dataset`] is (same non-zero length,
    /// every value finite): the message says what is wrong.
    pub fn copied(x: &[f64], y: &[f64]) -> Result<Columns, String> {
        Dataset::check(x, y)?;
        Ok(Columns::copy_of(x, y))
    }

    /// `x` and `y`, of the same length, in the layout.
    fn copy_of(x: &[f64], y: &[f64]) -> Columns {
        let mut columns = Columns::zeros(x.len());
        let (to_x, to_y) = columns.both_mut();
        to_x.copy_from_slice(x);
        to_y.copy_from_slice(y);
        columns
    }

    fn zeros(n: usize) -> Columns {
        let y_start = second_column_start(n);
        Columns { buffer: Buffer::zeroed(y_start + n), n, y_start }
    }

    fn y_start(&self) -> usize {
        self.y_start
    }

    fn both_mut(&mut self) -> (&mut [f64], &mut [f64]) {
        let (n, y_start) = (self.n, self.y_start());
        let (x, y) = self.buffer.values_mut().split_at_mut(y_start);
        (&mut x[..n], y)
    }

    pub fn x(&self) -> &[f64] {
        &self.buffer.values()[..self.n]
    }

    pub fn y(&self) -> &[f64] {
        &self.buffer.values()[self.y_start()..]
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// A clone is laid out afresh (its buffer lies elsewhere, its lines at another index).
impl Clone for Columns {
    fn clone(&self) -> Columns {
        Columns::copy_of(self.x(), self.y())
    }
}

/// The same points, wherever they lie.
impl PartialEq for Columns {
    fn eq(&self, other: &Columns) -> bool {
        self.x() == other.x() && self.y() == other.y()
    }
}

impl From<&Dataset> for Columns {
    fn from(data: &Dataset) -> Columns {
        Columns::copy_of(&data.x, &data.y)
    }
}

/// The index of the first value of `values` that is NaN or infinite, if any: chunk by chunk, a
/// branch-free test the compiler vectorises, and the index looked for only on failure.
pub fn first_non_finite(values: &[f64]) -> Option<usize> {
    if values.chunks(1024).all(|chunk| chunk.iter().fold(true, |finite, v| finite & v.is_finite())) {
        return None;
    }
    values.iter().position(|v| !v.is_finite())
}

/// A `.npy` file past its header, checked, and its n.
fn open_npy(path: &Path) -> Result<(File, usize), DatasetError> {
    let mut file = open(path)?;
    let n = read_npy_header(&mut file, path)?;
    check_payload_length(&mut file, path, n)?;
    Ok((file, n))
}

/// Where a CSV file's two columns are, and how many fields its header has (every row has as many).
struct CsvColumns {
    x: usize,
    y: usize,
    width: usize,
}

/// What is wrong with a row of `fields` fields under a header of `width`.
fn width_problem(fields: usize, width: usize) -> String {
    let row = if fields == 1 { "1 field".to_string() } else { format!("{fields} fields") };
    if fields > width {
        format!("the row has {row}, the header {width}: too many (a decimal comma, or a comma too many?)")
    } else {
        format!("the row has {row}, the header {width}: too few")
    }
}

/// A CSV reader past the header, and the positions of the two columns, each named exactly once.
fn open_csv_columns(path: &Path, x_column: &str, y_column: &str) -> Result<(csv::Reader<File>, CsvColumns), DatasetError> {
    let file = open(path)?;
    // flexible: a row of another width is refused by read_csv_columns, with its line and widths.
    // The header is the first line that is not blank, as python_impl reads it.
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).has_headers(false).from_reader(file);
    let mut headers = csv::StringRecord::new();
    loop {
        if !reader.read_record(&mut headers).map_err(|e| csv_error(path, e))? {
            return Err(format_error(
                path,
                format!("no header row (the file is empty or blank): expected a header naming the columns '{x_column}' and '{y_column}'"),
            ));
        }
        if !is_blank(&headers) {
            break;
        }
    }
    let column = |name: &str| {
        let positions: Vec<usize> = headers.iter().enumerate().filter(|(_, h)| *h == name).map(|(i, _)| i).collect();
        match positions.as_slice() {
            [one] => Ok(*one),
            [] => {
                let found: Vec<&str> = headers.iter().collect();
                Err(format_error(path, format!("no column named '{name}' in the header (found: {})", found.join(", "))))
            }
            many => {
                let numbers: Vec<String> = many.iter().map(|i| (i + 1).to_string()).collect();
                Err(format_error(
                    path,
                    format!(
                        "column '{name}' appears {} times in the header (columns {}): which one to use is ambiguous",
                        many.len(),
                        numbers.join(", ")
                    ),
                ))
            }
        }
    };
    let columns = CsvColumns { x: column(x_column)?, y: column(y_column)?, width: headers.len() };
    Ok((reader, columns))
}

/// A line with nothing on it but spaces (an empty line never reaches here: the reader skips it).
/// A line with a comma is not blank: `,` is a row of two empty cells, refused as not numbers, as
/// python_impl's reader refuses it.
fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() == 1 && record[0].is_empty()
}

/// Opens a dataset file and refuses what is not a regular file: a device such as /dev/zero would
/// never end. The open itself does not wait (O_NONBLOCK, which a regular file's reads ignore), so
/// a FIFO in the name's place — there from the start or put there after any look at the name —
/// cannot block it; what was opened is then looked at, one system call.
fn open(path: &Path) -> Result<File, DatasetError> {
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |meta: &std::fs::Metadata| {
        if meta.is_dir() {
            Err(format_error(path, "is a directory, not a dataset file"))
        } else if !meta.is_file() {
            Err(format_error(path, "is not a regular file (a device, FIFO or socket), not a dataset file"))
        } else {
            Ok(())
        }
    };
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| io_error(path, e))?;
    refuse(&file.metadata().map_err(|e| io_error(path, e))?)?;
    Ok(file)
}

fn io_error(path: &Path, source: io::Error) -> DatasetError {
    DatasetError::Io { path: path.to_owned(), source }
}

fn format_error(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError::Format { path: path.to_owned(), message: message.into() }
}

fn csv_error(path: &Path, e: csv::Error) -> DatasetError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_error(path, e),
        csv::ErrorKind::Utf8 { pos, .. } => format_error(path, format!("line {}: not valid UTF-8", pos.map_or(0, |p| p.line()))),
        other => format_error(path, format!("not valid CSV: {other:?}")),
    }
}

/// The 1.0 header for a (2, n) `<f8` array, padded so the data starts on a 64-byte boundary.
fn npy_header(n: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {n}), }}");
    let unpadded = NPY_MAGIC.len() + 2 + 2 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + padding + 1;
    let mut out = Vec::with_capacity(unpadded + padding);
    out.extend_from_slice(NPY_MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    out
}

/// Reads and checks the header; returns n.
fn read_npy_header(file: &mut File, path: &Path) -> Result<usize, DatasetError> {
    let eof_is_format = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => format_error(path, "truncated: too short for a .npy header"),
        _ => io_error(path, e),
    };
    let mut preamble = [0u8; 8];
    file.read_exact(&mut preamble).map_err(eof_is_format)?;
    if &preamble[..6] != NPY_MAGIC {
        return Err(format_error(path, "not a .npy file (bad magic bytes)"));
    }
    // Versions 1.0, 2.0 and 3.0 only, as NumPy and python_impl read: a minor version NumPy has
    // never written would pass here and fail every Python implementation.
    if preamble[7] != 0 {
        return Err(format_error(
            path,
            format!("unsupported .npy format version {}.{}: expected 1.0, 2.0 or 3.0", preamble[6], preamble[7]),
        ));
    }
    let header_len = match preamble[6] {
        1 => {
            let mut len = [0u8; 2];
            file.read_exact(&mut len).map_err(eof_is_format)?;
            u16::from_le_bytes(len) as usize
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            file.read_exact(&mut len).map_err(eof_is_format)?;
            u32::from_le_bytes(len) as usize
        }
        v => return Err(format_error(path, format!("unsupported .npy format version {v}.0: expected 1.0, 2.0 or 3.0"))),
    };
    if header_len > NPY_MAX_HEADER_BYTES {
        return Err(format_error(path, format!("a .npy header of {header_len} bytes: NumPy refuses more than {NPY_MAX_HEADER_BYTES}")));
    }
    let mut header = vec![0u8; header_len];
    file.read_exact(&mut header).map_err(eof_is_format)?;
    let header = String::from_utf8_lossy(&header);
    parse_npy_dict(&header).map_err(|m| format_error(path, m))
}

/// Parses `{'descr': '<f8', 'fortran_order': False, 'shape': (2, n), }`: a Python dict literal
/// read no more loosely than NumPy reads it (`ast.literal_eval`, then exactly these three keys),
/// so that no file passes here and fails every Python implementation. What NumPy writes always
/// parses; a key named twice (Python takes the last), another key, an integer with a leading zero
/// (a SyntaxError in Python 3) or anything after the closing brace is refused. The dtype is '<f8'
/// alone, as python_impl's own reader has it ('=f8', which NumPy never writes, is refused there).
fn parse_npy_dict(header: &str) -> Result<usize, String> {
    let dict = NpyDict::parse(header).map_err(|m| format!("malformed .npy header: {m}"))?;
    if dict.descr != "<f8" {
        return Err(format!("expected dtype '<f8' (float64 little-endian), found '{}'", dict.descr));
    }
    if dict.fortran_order {
        return Err("expected C order, found fortran_order: True".into());
    }
    let shown = match dict.shape.as_slice() {
        [one] => format!("({one},)"),
        dims => format!("({})", dims.join(", ")),
    };
    let dims: Vec<usize> =
        dict.shape.iter().map(|d| d.parse::<usize>().map_err(|_| format!("malformed shape {shown}"))).collect::<Result<_, _>>()?;
    match dims.as_slice() {
        [2, n] => Ok(*n),
        _ => Err(format!("expected shape (2, n): row 0 x, row 1 y; found {shown}")),
    }
}

/// The three entries of a `.npy` header, as written: the shape's integers as their digits.
#[derive(Debug, PartialEq)]
struct NpyDict {
    descr: String,
    fortran_order: bool,
    shape: Vec<String>,
}

/// A cursor over a header's text, for [`NpyDict::parse`].
struct HeaderCursor<'a> {
    rest: &'a str,
}

impl<'a> HeaderCursor<'a> {
    /// Skips the whitespace Python allows between tokens inside brackets.
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    /// Takes `c` (after any whitespace) if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{c}' {what}, found {}", self.next_token()))
        }
    }

    /// The next few characters up to a space, for a message.
    fn next_token(&self) -> String {
        match self.rest.split(char::is_whitespace).next().filter(|token| !token.is_empty()) {
            None => "the end of the header".into(),
            Some(token) => format!("'{}'", token.chars().take(12).collect::<String>().escape_debug()),
        }
    }

    /// A plain quoted string, '…' or "…", without escapes or prefixes (NumPy writes none).
    fn string(&mut self) -> Result<&'a str, String> {
        self.skip_space();
        let quote = self
            .rest
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
            .ok_or_else(|| format!("expected a quoted string, found {}", self.next_token()))?;
        let body = &self.rest[1..];
        let end = body
            .find([quote, '\\', '\n'])
            .filter(|&i| body[i..].starts_with(quote))
            .ok_or("a string without its closing quote, or with an escape")?;
        self.rest = &body[end + 1..];
        Ok(&body[..end])
    }

    /// A name such as True or False: letters, digits and underscores.
    fn word(&mut self) -> &'a str {
        self.skip_space();
        let end = self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        word
    }

    /// A tuple of decimal integers written as Python 3 reads them: `()`, `(5,)`, `(2, 5)`,
    /// `(2, 5,)`. "(5)" is the integer 5 in Python, not a tuple, and NumPy refuses it as a shape.
    fn int_tuple(&mut self) -> Result<Vec<String>, String> {
        self.expect('(', "to open the shape")?;
        let mut items = Vec::new();
        let mut comma_after_last = false;
        while !self.eat(')') {
            if !items.is_empty() && !comma_after_last {
                return Err(format!("expected ',' or ')' in the shape, found {}", self.next_token()));
            }
            let digits = self.word();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "expected an integer in the shape, found {}",
                    if digits.is_empty() { self.next_token() } else { format!("'{digits}'") }
                ));
            }
            if digits.len() > 1 && digits.starts_with('0') {
                return Err(format!("the shape's integer '{digits}' has a leading zero, which Python 3 (and so NumPy) refuses"));
            }
            items.push(digits.to_string());
            comma_after_last = self.eat(',');
        }
        if items.len() == 1 && !comma_after_last {
            return Err(format!("the shape ({}) is not a tuple: one dimension is written ({},)", items[0], items[0]));
        }
        Ok(items)
    }
}

impl NpyDict {
    /// The dict's text: exactly the three keys, each once, then nothing but whitespace.
    fn parse(header: &str) -> Result<NpyDict, String> {
        // literal_eval strips leading spaces and tabs; the padding after the dict is spaces and a newline.
        let mut cursor = HeaderCursor { rest: header.trim_start_matches([' ', '\t']) };
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        if !cursor.rest.starts_with('{') || !cursor.eat('{') {
            return Err(format!("expected a dict, found {}", cursor.next_token()));
        }
        let mut comma_after_last = true;
        while !cursor.eat('}') {
            if !comma_after_last {
                return Err(format!("expected ',' or '}}' after an entry, found {}", cursor.next_token()));
            }
            let key = cursor.string()?;
            cursor.expect(':', &format!("after '{key}'"))?;
            let twice = || format!("the key '{key}' is given twice: which value is meant?");
            match key {
                "descr" if descr.is_some() => return Err(twice()),
                "descr" => descr = Some(cursor.string()?.to_string()),
                "fortran_order" if fortran_order.is_some() => return Err(twice()),
                "fortran_order" => {
                    fortran_order = Some(match cursor.word() {
                        "True" => true,
                        "False" => false,
                        other => return Err(format!("fortran_order must be True or False, found '{other}'")),
                    })
                }
                "shape" if shape.is_some() => return Err(twice()),
                "shape" => shape = Some(cursor.int_tuple()?),
                other => return Err(format!("unexpected key '{other}': NumPy reads descr, fortran_order and shape, nothing else")),
            }
            comma_after_last = cursor.eat(',');
        }
        cursor.skip_space();
        if !cursor.rest.is_empty() {
            return Err(format!("{} after the dict's closing brace", cursor.next_token()));
        }
        let missing = |key: &str| format!("the key '{key}' is missing");
        Ok(NpyDict {
            descr: descr.ok_or_else(|| missing("descr"))?,
            fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
        })
    }
}

/// Asks the kernel to back a large buffer with transparent huge pages before it is first
/// written. Reading 10^7 points faults in 160 MB: with 4 KiB pages that is 40 000 page faults
/// (~50 ms here); with 2 MiB pages, 80. NumPy does the same for its large arrays (it madvises
/// MADV_HUGEPAGE on Linux), which is why np.load of a 160 MB file took 38 ms against our 90 ms
/// before this. Only advice: where THP is off ("never") nothing changes. A [`Dataset`]'s own
/// vectors only: [`Columns`] lie in a [`Buffer`], already on whole huge pages where they span one.
/// Asked as a [`Buffer`] asks (`placement::on_whole_pages`): a vector with a whole huge page
/// inside is never below the size from which buffers go on them, and nothing is looked up for a
/// small one.
fn advise_huge_pages(buffer: &mut [f64]) {
    #[cfg(target_os = "linux")]
    {
        let placed = crate::placement::on_whole_pages(std::mem::size_of_val(buffer), crate::placement::whole_pages);
        let Some(huge_page) = placed.map(|p| p.page_bytes) else { return };
        let start = buffer.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buffer);
        let aligned_start = start.next_multiple_of(huge_page);
        let aligned_end = end / huge_page * huge_page;
        if aligned_end > aligned_start {
            // SAFETY: the range lies inside `buffer`'s own allocation; MADV_HUGEPAGE changes how
            // pages are backed, never their contents. Failure (EINVAL without THP) is harmless.
            unsafe { libc::madvise(aligned_start as *mut libc::c_void, aligned_end - aligned_start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// A header may promise more values than the file holds (a truncated or forged file): found from
/// the file's size before 16·n bytes are allocated for them.
fn check_payload_length(file: &mut File, path: &Path, n: usize) -> Result<(), DatasetError> {
    use std::io::Seek;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Ok(());
    }
    let header_end = file.stream_position().map_err(|e| io_error(path, e))?;
    let available = meta.len().saturating_sub(header_end);
    match u64::try_from(n).ok().and_then(|n| n.checked_mul(16)) {
        Some(promised) if promised <= available => Ok(()),
        _ => Err(format_error(
            path,
            format!("truncated: the header promises 2×{n} float64 values, the file holds {available} bytes of data"),
        )),
    }
}

/// Fills `out` with little-endian f64 values read straight into its memory.
fn read_f64_le(reader: &mut impl Read, out: &mut [f64]) -> io::Result<()> {
    // SAFETY: any bit pattern is a valid f64 and the byte view covers exactly `out`'s memory.
    let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(out)) };
    reader.read_exact(bytes)?;
    if cfg!(target_endian = "big") {
        for v in out.iter_mut() {
            *v = f64::from_le_bytes(v.to_ne_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory of the test's own, removed (with all in it) when dropped.
    fn scratch() -> tempfile::TempDir {
        tempfile::Builder::new().prefix("linreg-dataset-test-").tempdir().unwrap()
    }

    fn npy_bytes(dict: &str, payload: &[f64]) -> Vec<u8> {
        let mut out = NPY_MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&((dict.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.push(b'\n');
        for v in payload {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    fn read_err(name: &str, bytes: &[u8]) -> String {
        let dir = scratch();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        Dataset::read(&path).unwrap_err().to_string()
    }

    #[test]
    fn npy_round_trips_and_the_header_is_aligned() {
        let d = Dataset::new(vec![1.0, -2.5, 3e300], vec![0.1, 0.2, f64::MIN_POSITIVE]).unwrap();
        let dir = scratch();
        let path = dir.path().join("round.npy");
        d.write_npy(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!((bytes.len() - 6 * 8) % 64, 0, "data starts on a 64-byte boundary");
        assert_eq!(Dataset::read(&path).unwrap(), d);
    }

    #[test]
    fn columns_hold_the_same_points_with_x_and_y_on_cache_lines() {
        let dir = scratch();
        for n in [1, 5, 7, 8, 9, 1000, 10_000] {
            let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
            let y: Vec<f64> = (0..n).map(|i| 1.0 - i as f64).collect();
            let d = Dataset::new(x, y).unwrap();
            let npy = dir.path().join(format!("columns-{n}.npy"));
            d.write_npy(&npy).unwrap();
            let csv = dir.path().join(format!("columns-{n}.csv"));
            let rows: String = d.x.iter().zip(&d.y).map(|(x, y)| format!("{x},{y}\n")).collect();
            std::fs::write(&csv, format!("x,y\n{rows}")).unwrap();
            let copied = Columns::copied(&d.x, &d.y).unwrap();
            for (c, from) in [(Columns::read(&npy).unwrap(), "npy"), (Columns::read(&csv).unwrap(), "csv"), (copied, "copied")] {
                assert_eq!((c.x(), c.y(), c.len()), (&d.x[..], &d.y[..], n), "{from}");
                for (column, name) in [(c.x(), "x"), (c.y(), "y")] {
                    let offset = column.as_ptr() as usize % 64;
                    assert_eq!(offset, 0, "n = {n}, {from}: {name} starts {offset} bytes into a line");
                }
                let clone = c.clone();
                assert_eq!((clone.x().as_ptr() as usize % 64, clone.y().as_ptr() as usize % 64), (0, 0), "a clone of {from}");
                assert_eq!(clone, c);
            }
        }
        assert_eq!(Columns::copied(&[1.0], &[f64::INFINITY]), Err("y[0] is inf: every value must be finite".into()));
        let mut long = vec![1.0; 3000];
        assert_eq!(first_non_finite(&long), None);
        long[1500] = f64::NEG_INFINITY;
        long[2900] = f64::NAN;
        assert_eq!(first_non_finite(&long), Some(1500), "the first, in the second chunk");
        assert_eq!(Columns::copied(&[1.0, 2.0], &[1.0]), Err("x has 2 values but y has 1".into()));
        let path = dir.path().join("columns-nan.npy");
        let mut bytes = npy_header(2);
        for v in [1.0, 2.0, 3.0, f64::NAN] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let message = Columns::read(&path).unwrap_err().to_string();
        assert!(message.contains("y[1] is NaN"), "{message}");
    }

    #[test]
    fn npy_versions_2_and_3_are_read() {
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }\n";
        let mut bytes = NPY_MAGIC.to_vec();
        bytes.extend_from_slice(&[2, 0]);
        bytes.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(&1.5f64.to_le_bytes());
        bytes.extend_from_slice(&2.5f64.to_le_bytes());
        let dir = scratch();
        let path = dir.path().join("v2.npy");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Dataset::read(&path).unwrap(), Dataset { x: vec![1.5], y: vec![2.5] });
    }

    #[test]
    fn bad_npy_files_are_named_and_explained() {
        let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("magic.npy", b"PK\x03\x04 not numpy".to_vec(), "bad magic"),
            ("minor.npy", [&NPY_MAGIC[..], &[1, 7, 0, 0][..]].concat(), "unsupported .npy format version 1.7"),
            ("v4.npy", [&NPY_MAGIC[..], &[4, 0, 0, 0][..]].concat(), "unsupported .npy format version 4.0"),
            ("f4.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &[1.0, 2.0]), "found '<f4'"),
            ("be.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", &[1.0, 2.0, 3.0, 4.0]), "found '>f8'"),
            (
                "fortran.npy",
                npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", &[1.0, 2.0, 3.0, 4.0]),
                "fortran_order",
            ),
            ("shape3.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", &[0.0; 6]), "expected shape (2, n)"),
            ("flat.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", &[0.0; 4]), "expected shape (2, n)"),
            ("short.npy", npy_bytes(ok, &[1.0, 2.0, 3.0]), "truncated"),
            ("long.npy", npy_bytes(ok, &[1.0, 2.0, 3.0, 4.0, 5.0]), "trailing bytes"),
            ("empty.npy", Vec::new(), "truncated"),
            ("forged.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 999999999999999), }", &[1.0]), "truncated"),
            ("zero.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 0), }", &[]), "n = 0"),
            (
                "dupkey.npy",
                npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'fortran_order': True}", &[1.0, 2.0, 3.0, 4.0]),
                "malformed .npy header: the key 'fortran_order' is given twice",
            ),
            (
                "zero5.npy",
                npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 02), }", &[1.0, 2.0, 3.0, 4.0]),
                "the shape's integer '02' has a leading zero",
            ),
            (
                "extra.npy",
                npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", &[1.0, 2.0, 3.0, 4.0]),
                "unexpected key 'x'",
            ),
            ("nokey.npy", npy_bytes("{'descr': '<f8', 'shape': (2, 2)}", &[1.0, 2.0, 3.0, 4.0]), "the key 'fortran_order' is missing"),
            ("after.npy", npy_bytes(&format!("{ok} 7"), &[1.0, 2.0, 3.0, 4.0]), "'7' after the dict's closing brace"),
            ("bare.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4), }", &[0.0; 4]), "is not a tuple"),
            ("int-order.npy", npy_bytes("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 2), }", &[0.0; 4]), "True or False"),
            ("long-header.npy", npy_bytes(&format!("{ok}{}", " ".repeat(10_000)), &[1.0, 2.0, 3.0, 4.0]), "NumPy refuses more than 10000"),
            ("nan.npy", npy_bytes(ok, &[1.0, f64::NAN, 3.0, 4.0]), "x[1] is NaN"),
            ("inf.npy", npy_bytes(ok, &[1.0, 2.0, 3.0, f64::INFINITY]), "y[1] is inf"),
        ];
        for (name, bytes, want) in cases {
            let err = read_err(name, &bytes);
            assert!(err.contains(name) && err.contains(want), "{name}: got '{err}', want '{want}'");
        }
    }

    #[test]
    fn npy_headers_as_numpy_writes_them_are_read() {
        // numpy.lib.format writes the first; the others are what literal_eval also reads.
        for (dict, n) in [
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }                                  \n", 5),
            ("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3)}", 3),
            ("  {'shape':(2,0,),'fortran_order':False,'descr':'<f8'}", 0),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 10), }\t\r\n", 10),
        ] {
            assert_eq!(parse_npy_dict(dict), Ok(n), "{dict}");
        }
        for dict in
            ["{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5)}"]
        {
            assert_eq!(
                NpyDict::parse(dict),
                Ok(NpyDict { descr: "<f8".into(), fortran_order: false, shape: vec!["2".into(), "5".into()] }),
                "{dict}"
            );
        }
        for (dict, want) in [
            ("['descr']", "expected a dict"),
            ("{'descr': '<f8' 'fortran_order': False, 'shape': (2, 5)}", "expected ',' or '}'"),
            ("{'descr': '<f8',, 'fortran_order': False, 'shape': (2, 5)}", "expected a quoted string"),
            ("{'descr': '<\\f8', 'fortran_order': False, 'shape': (2, 5)}", "an escape"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2 5)}", "expected ',' or ')'"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5_0)}", "expected an integer in the shape, found '5_0'"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5)", "expected ',' or '}'"),
        ] {
            let message = parse_npy_dict(dict).unwrap_err();
            assert!(message.starts_with("malformed .npy header: ") && message.contains(want), "{dict}: {message}");
        }
    }

    #[test]
    fn csv_reads_named_columns_in_any_order_and_skips_blank_lines() {
        let dir = scratch();
        let path = dir.path().join("ok.csv");
        std::fs::write(&path, "id,y,x\n1,2.0,1\n\n2, 4.5 ,2\n").unwrap();
        assert_eq!(Dataset::read(&path).unwrap(), Dataset { x: vec![1.0, 2.0], y: vec![2.0, 4.5] });
        // Blank lines before the header too, as python_impl reads them.
        std::fs::write(&path, "  \n\nx,y\n1,2\n   \n3,4\n").unwrap();
        assert_eq!(Dataset::read(&path).unwrap(), Dataset { x: vec![1.0, 3.0], y: vec![2.0, 4.0] });
    }

    #[test]
    fn bad_csv_files_are_named_and_explained() {
        let cases = [
            ("nocol.csv", "x,z\n1,2\n", "no column named 'y'"),
            ("text.csv", "x,y\n1,2\n3,abc\n", "line 3: column 'y': 'abc' is not a number"),
            ("nan.csv", "x,y\nnan,2\n", "column 'x': 'nan' is not finite"),
            ("inf.csv", "x,y\n1,inf\n", "'inf' is not finite"),
            ("header.csv", "x,y\n", "n = 0"),
            ("missing-cell.csv", "x,y\n1\n", "line 2: the row has 1 field, the header 2: too few"),
            ("decimal-comma.csv", "x,y\n1,5,2,5\n2,5,5,0\n", "line 2: the row has 4 fields, the header 2: too many"),
            ("trailing-comma.csv", "x,y\n1,2\n3,4,\n", "line 3: the row has 3 fields, the header 2: too many"),
            ("empty.csv", "", "no header row (the file is empty or blank)"),
            ("blank.csv", "\n  \n", "no header row (the file is empty or blank)"),
            ("commas.csv", "x,y\n1,2\n,\n", "line 3: column 'x': '' is not a number"),
            ("bytes.csv", "x,y\n1,\u{fffd}\n", "is not a number"),
            ("data.txt", "x,y\n1,2\n", "expected a .npy or .csv"),
            ("twice.csv", "y,x,y\n1,2,3\n", "column 'y' appears 2 times in the header (columns 1, 3)"),
        ];
        for (name, text, want) in cases {
            let err = read_err(name, text.as_bytes());
            assert!(err.contains(name) && err.contains(want), "{name}: got '{err}', want '{want}'");
        }
    }

    #[test]
    fn headers_are_checked_without_reading_the_rows() {
        let dir = scratch();
        let csv = dir.path().join("header-only-check.csv");
        std::fs::write(&csv, "x,y\n1,not a number\n").unwrap();
        Dataset::check_csv_header(&csv, "x", "y").expect("the header is fine; the rows are not read");
        std::fs::write(&csv, "x,x,y\n").unwrap();
        let message = Dataset::check_csv_header(&csv, "x", "y").unwrap_err().to_string();
        assert!(message.contains("column 'x' appears 2 times"), "{message}");
        let npy = dir.path().join("header-only-check.npy");
        Dataset::new(vec![1.0, 2.0], vec![3.0, 4.0]).unwrap().write_npy(&npy).unwrap();
        assert_eq!(Dataset::check_npy_header(&npy).unwrap(), 2);
        let bytes = std::fs::read(&npy).unwrap();
        std::fs::write(&npy, &bytes[..bytes.len() - 8]).unwrap();
        assert!(Dataset::check_npy_header(&npy).unwrap_err().to_string().contains("truncated"));
        for device in ["/dev/null", "/dev/zero"] {
            assert!(Dataset::check_csv_header(Path::new(device), "x", "y").unwrap_err().to_string().contains("is not a regular file"));
        }
    }

    #[test]
    fn missing_files_and_directories_are_named() {
        let err = Dataset::read(Path::new("/nonexistent/data.npy")).unwrap_err().to_string();
        assert!(err.starts_with("/nonexistent/data.npy:"), "{err}");
        let tmp = scratch();
        let dir = tmp.path().join("adir.npy");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(Dataset::read(&dir).unwrap_err().to_string().contains("is a directory"));
        for device in ["/dev/null", "/dev/zero"] {
            assert!(Dataset::read_csv(Path::new(device)).unwrap_err().to_string().contains("is not a regular file"), "{device}");
            assert!(Dataset::read_npy(Path::new(device)).unwrap_err().to_string().contains("is not a regular file"), "{device}");
        }
    }
}
