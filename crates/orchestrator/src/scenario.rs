//! Scenario files: the YAML schema users edit, loaded strictly. An unknown field, a wrong type,
//! a missing field, an empty list, an unknown implementation or placeholder, a negative count:
//! each is one error naming the file, line and column, and nothing runs.
//!
//! This module only parses and validates; `plan` turns a valid scenario into runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::plan::{Claim, Order};

/// Placeholders a command template may use. Filled per point: data, epochs, learning_rate, n.
/// Filled once: python (the project venv's interpreter), bin_dir (where `linreg` was built),
/// root (the project root).
pub const PLACEHOLDERS: [&str; 7] = ["data", "epochs", "learning_rate", "n", "python", "bin_dir", "root"];

/// The most repetitions (or warm-up runs) a point may ask for: far beyond any useful benchmark,
/// and low enough that the list of runs always fits in memory.
pub const MAX_RUNS_PER_POINT: u32 = 10_000;

/// The longest scenario or implementation name: names make file names (charts), headings and
/// table cells, so they are short and plain.
pub const MAX_NAME_CHARS: usize = 64;

/// None when `name` is a valid scenario or implementation name: 1–64 ASCII letters, digits, '.',
/// '_' or '-', starting with a letter or a digit. Otherwise why not, for a message.
pub fn name_problem(what: &str, name: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let length = name.chars().count();
    let valid = (1..=MAX_NAME_CHARS).contains(&length) && name.chars().all(plain) && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        return None;
    }
    let start = name.chars().take(40).collect::<String>().escape_debug().to_string();
    let quoted = if length > 40 { format!("'{start}…' ({length} characters)") } else { format!("'{start}'") };
    Some(format!(
        "{what} name {quoted} is not valid: use 1–{MAX_NAME_CHARS} letters, digits, '.', '_' or '-', starting with a letter or a \
         digit (names become file names, headings and table cells)"
    ))
}

/// Scenario and catalogue files larger than this are refused rather than read: a YAML file this
/// big is not a scenario, and a device such as /dev/zero would never end.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// One scenario file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    /// Where the scenario comes in a default run (every scenarios/*.yaml) and its report: lower
    /// first, absent after every declared one, ties by file name.
    #[serde(default)]
    pub order: Option<u32>,
    pub dataset: DatasetSpec,
    pub training: Training,
    /// Which implementations to run, by name (from implementations.yaml or `define`).
    pub implementations: Spanned<Vec<Spanned<String>>>,
    /// Implementations declared in this scenario only, same schema as implementations.yaml.
    #[serde(default)]
    pub define: BTreeMap<String, Spanned<ImplementationSpec>>,
    pub baseline: Spanned<String>,
    #[serde(default)]
    pub measure: MeasureSpec,
    #[serde(default)]
    pub sweep: Option<Spanned<Vec<Spanned<SweepPoint>>>>,
    #[serde(default)]
    pub expect: Vec<Spanned<Claim>>,
    #[serde(default)]
    pub accuracy: Option<AccuracySpec>,
    /// Start-up anatomy: chains of implementations, each step measured as a program of its own,
    /// so that each step's cost is its median minus the one before it (scenarios/startup.yaml).
    #[serde(default)]
    pub anatomy: Vec<Spanned<Vec<Spanned<String>>>>,
}

/// Where the points come from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DatasetSpec {
    /// x and y written in the file.
    Inline { x: Spanned<Vec<f64>>, y: Spanned<Vec<f64>> },
    /// y = slope·x + intercept + noise·N(0, 1), x uniform in [x_min, x_max]; deterministic in seed.
    Generate(GenerateSpec),
    /// A CSV file (path relative to the scenario file), converted once to .npy so every
    /// implementation reads the same binary data.
    Csv(CsvSpec),
    /// A .npy file (path relative to the scenario file), checked when the plan is made and then
    /// read by every implementation as it is.
    Npy(NpySpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub n: Spanned<u64>,
    pub slope: f64,
    pub intercept: f64,
    #[serde(default)]
    pub noise: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub x_min: Option<f64>,
    #[serde(default)]
    pub x_max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    pub path: Spanned<String>,
    #[serde(default)]
    pub x_column: Option<String>,
    #[serde(default)]
    pub y_column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpySpec {
    pub path: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub epochs: Spanned<u64>,
    pub learning_rate: Spanned<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    pub warmup: Option<Spanned<u32>>,
    pub repetitions: Option<Spanned<u32>>,
    pub sample_interval_ms: Option<Spanned<u64>>,
    pub timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    pub order: Order,
    pub cpus: Option<Spanned<Vec<usize>>>,
    pub memory_limit_mb: Option<Spanned<u64>>,
    /// Repetitions with --quick (default 3, never more than `repetitions`).
    pub quick_repetitions: Option<Spanned<u32>>,
}

/// One point of a sweep: overrides of the scenario's values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    pub n: Option<Spanned<u64>>,
    pub epochs: Option<Spanned<u64>>,
    pub learning_rate: Option<Spanned<f64>>,
    /// false: skipped by --quick (for points too big for a CI-sized run).
    #[serde(default = "yes")]
    pub quick: bool,
    /// Implementations not run at this point (e.g. plain Python at 10^7 points).
    #[serde(default)]
    pub skip: Vec<Spanned<String>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracySpec {
    pub relative_tolerance: Spanned<f64>,
}

/// implementations.yaml: the shared catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationsFile {
    pub implementations: BTreeMap<String, Spanned<ImplementationSpec>>,
}

/// How to run one implementation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationSpec {
    #[serde(default)]
    pub description: String,
    /// argv template, no shell. Placeholders: see [`PLACEHOLDERS`].
    pub command: Spanned<Vec<Spanned<String>>>,
    /// Added to the inherited environment (e.g. OPENBLAS_NUM_THREADS).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Availability check: a command that must exit 0 (run once, before the runs, not measured,
    /// within `check_timeout_seconds`). The program of `command` must exist in any case.
    #[serde(default)]
    pub check: Option<Spanned<Vec<Spanned<String>>>>,
    /// The check is killed (and the implementation unavailable) after this long [default 60].
    #[serde(default)]
    pub check_timeout_seconds: Option<Spanned<f64>>,
    /// What to tell the user when the implementation is unavailable, e.g. "run `make build`".
    #[serde(default)]
    pub hint: Option<String>,
    /// true: when unavailable, the run goes on without it and the report says why (for
    /// implementations whose toolchain may not install everywhere, like numba).
    #[serde(default)]
    pub optional: bool,
    /// What the program prints: the result line of docs/protocol.md (the default), or nothing
    /// the orchestrator reads (`none`: any command, measured like the others, its exit code alone
    /// deciding ok or failed).
    #[serde(default)]
    pub protocol: Protocol,
    /// Under a scenario's `define`: true to replace the catalogue's entry of the same name in this
    /// scenario (without it, reusing a catalogue name is an error).
    #[serde(default, rename = "override")]
    pub overrides: bool,
}

/// How a program's run is judged beyond its exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// One JSON result line on stdout (docs/protocol.md): fit, phases, status.
    #[default]
    Linreg,
    /// Nothing is read from the program: exit 0 is ok. No fit and no phases.
    None,
}

impl Protocol {
    pub fn is_default(&self) -> bool {
        *self == Protocol::Linreg
    }
}

/// A scenario problem with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The offending lines, for display (may be empty).
    pub snippet: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)?;
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    pub fn at<T>(file: &Path, spanned: &Spanned<T>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_owned(),
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
            message: message.into(),
            snippet: String::new(),
        }
    }

    fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_owned(), line: 1, column: 1, message: message.into(), snippet: String::new() }
    }
}

/// Reads a file as UTF-8 text, with the problems a user can cause named. Only regular files of a
/// sane size are read: a device such as /dev/zero would never end, a FIFO would block.
fn read_text(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let cannot_read = |e: std::io::Error| ScenarioError::whole_file(path, format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot_read)?;
    if meta.is_dir() {
        return Err(ScenarioError::whole_file(path, "is a directory, expected a YAML file"));
    }
    if !meta.is_file() {
        return Err(ScenarioError::whole_file(path, "is not a regular file (a device, FIFO or socket), expected a YAML file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::whole_file(path, format!("is larger than {} MiB: not a scenario file", MAX_FILE_BYTES >> 20)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
        ScenarioError { file: path.to_owned(), line, column, message: "not valid UTF-8".into(), snippet: String::new() }
    })
}

/// Parses YAML text into `T`, turning serde-saphyr's error into a located ScenarioError.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, ScenarioError> {
    if text.lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(ScenarioError::whole_file(path, "the file is empty (nothing but blank lines and comments)"));
    }
    let options = serde_saphyr::options! {};
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let rendered = for_users(&e.to_string());
        let mut lines = rendered.lines();
        let first = lines.next().unwrap_or("invalid YAML");
        // serde-saphyr says "error: line L column C: message"; keep the message only.
        let message = first.split_once(&format!("column {column}: ")).map_or(first, |(_, m)| m).trim_start_matches("error: ").to_string();
        let snippet = lines.collect::<Vec<_>>().join("\n").replace("<input>", &path.display().to_string());
        ScenarioError { file: path.to_owned(), line, column, message, snippet }
    })
}

/// serde-saphyr's advice to programmers, reworded for the person editing the file.
fn for_users(message: &str) -> String {
    message.replace(", set DuplicateKeyPolicy in Options if acceptable", "").replace(
        "multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options",
        "a second YAML document starts here: one scenario per file",
    )
}

/// The catalogue entries a scenario replaces with its own definitions (`override: true`).
pub fn overridden<'a>(scenario: &'a ScenarioFile, catalogue: &BTreeMap<String, Spanned<ImplementationSpec>>) -> Vec<&'a str> {
    scenario.define.keys().filter(|name| catalogue.contains_key(*name)).map(String::as_str).collect()
}

pub fn load_scenario(path: &Path) -> Result<ScenarioFile, ScenarioError> {
    parse_yaml(path, &read_text(path)?)
}

pub fn load_implementations(path: &Path) -> Result<ImplementationsFile, ScenarioError> {
    let file: ImplementationsFile = parse_yaml(path, &read_text(path)?)?;
    for (name, spec) in &file.implementations {
        check_implementation_name(path, name, spec)?;
        check_implementation(path, spec)?;
        if spec.value.overrides {
            return Err(ScenarioError::at(path, spec, "override: true belongs under a scenario's define, not in the catalogue"));
        }
    }
    Ok(file)
}

/// A map key carries no place of its own: the error points at its value, on the key's line.
fn check_implementation_name(path: &Path, name: &str, spec: &Spanned<ImplementationSpec>) -> Result<(), ScenarioError> {
    match name_problem("implementation", name) {
        Some(problem) => Err(ScenarioError::at(path, spec, problem)),
        None => Ok(()),
    }
}

/// Checks one implementation's templates: non-empty argv, known placeholders only.
pub fn check_implementation(path: &Path, spec: &Spanned<ImplementationSpec>) -> Result<(), ScenarioError> {
    let spec_value = &spec.value;
    if spec_value.command.value.is_empty() {
        return Err(ScenarioError::at(path, &spec_value.command, "command must not be empty: give the program and its arguments"));
    }
    if let Some(check) = spec_value.check.as_ref().filter(|c| c.value.is_empty()) {
        return Err(ScenarioError::at(path, check, "check must not be empty: give a command, or leave check out"));
    }
    if let Some(t) = spec_value.check_timeout_seconds.as_ref().filter(|t| !(t.value.is_finite() && t.value > 0.0 && t.value <= 86_400.0)) {
        return Err(ScenarioError::at(path, t, "check_timeout_seconds must be > 0 and at most 86400"));
    }
    let argvs = std::iter::once(&spec_value.command).chain(spec_value.check.as_ref());
    for arg in argvs.flat_map(|argv| argv.value.iter()) {
        for name in placeholders_in(&arg.value).map_err(|m| ScenarioError::at(path, arg, m))? {
            if !PLACEHOLDERS.contains(&name) {
                return Err(ScenarioError::at(path, arg, format!("unknown placeholder {{{name}}} (known: {})", braced(&PLACEHOLDERS))));
            }
        }
    }
    Ok(())
}

fn braced(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
}

/// The names inside {…} in a template. `{{` and `}}` are literal braces.
pub fn placeholders_in(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with('}') {
            return Err(format!("unmatched '}}' in '{template}' (write '}}}}' for a literal brace)"));
        } else {
            let end = after.find('}').ok_or_else(|| format!("unclosed '{{' in '{template}'"))?;
            names.push(&after[..end]);
            rest = &after[end + 1..];
        }
    }
    Ok(names)
}

/// Replaces every {name} with its value; `{{`/`}}` become literal braces. The template was
/// checked at load time, so an unknown name here is a bug, reported as an error all the same.
pub fn fill(template: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    fill_with(template, values, false)
}

/// Like [`fill`], but names without a value and escaped braces are left as they are, so the
/// result can be filled again later (global values first, per-point values at run time).
pub fn fill_partial(template: &str, values: &BTreeMap<&str, String>) -> String {
    fill_with(template, values, true).unwrap_or_else(|_| template.to_string())
}

fn fill_with(template: &str, values: &BTreeMap<&str, String>, partial: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(if partial { &tail[..2] } else { &tail[..1] });
            rest = &tail[2..];
            continue;
        }
        let end = tail.find('}').ok_or_else(|| format!("unclosed '{{' in '{template}'"))?;
        let name = &tail[1..end];
        match values.get(name) {
            Some(value) => out.push_str(value),
            None if partial => out.push_str(&tail[..=end]),
            None => return Err(format!("no value for placeholder {{{name}}}")),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks what the schema alone cannot: lists not empty, counts positive, names known, sweep
/// overrides compatible with the dataset, claims naming implementations of this scenario.
pub fn validate(
    path: &Path,
    scenario: &ScenarioFile,
    catalogue: &BTreeMap<String, Spanned<ImplementationSpec>>,
) -> Result<(), ScenarioError> {
    let err = |spanned_line: (u64, u64), message: String| ScenarioError {
        file: path.to_owned(),
        line: spanned_line.0,
        column: spanned_line.1,
        message,
        snippet: String::new(),
    };
    let loc = |l: &serde_saphyr::Location| (l.line(), l.column());
    if let Some(problem) = name_problem("scenario", &scenario.name.value) {
        return Err(ScenarioError::at(path, &scenario.name, problem));
    }
    for (name, spec) in &scenario.define {
        check_implementation_name(path, name, spec)?;
        check_implementation(path, spec)?;
        // The report would call it by the catalogue's name: replacing an entry must be meant.
        if catalogue.contains_key(name) && !spec.value.overrides {
            return Err(ScenarioError::at(
                path,
                spec,
                format!(
                    "'{name}' is already in the implementation catalogue: give this one another name, or add \
                     `override: true` to replace the catalogue's '{name}' in this scenario"
                ),
            ));
        }
    }
    let names = &scenario.implementations.value;
    if names.is_empty() {
        return Err(ScenarioError::at(path, &scenario.implementations, "implementations must list at least one implementation"));
    }
    let known = |name: &str| scenario.define.contains_key(name) || catalogue.contains_key(name);
    let known_list = || {
        let mut all: Vec<&str> = catalogue.keys().chain(scenario.define.keys()).map(String::as_str).collect();
        all.sort();
        all.dedup();
        all.join(", ")
    };
    for (i, name) in names.iter().enumerate() {
        if !known(&name.value) {
            return Err(ScenarioError::at(path, name, format!("unknown implementation '{}' (known: {})", name.value, known_list())));
        }
        if names[..i].iter().any(|other| other.value == name.value) {
            return Err(ScenarioError::at(path, name, format!("implementation '{}' is listed twice", name.value)));
        }
    }
    let listed = |name: &str| names.iter().any(|n| n.value == name);
    if !listed(&scenario.baseline.value) {
        return Err(ScenarioError::at(
            path,
            &scenario.baseline,
            format!("baseline '{}' is not among this scenario's implementations", scenario.baseline.value),
        ));
    }
    for chain in &scenario.anatomy {
        if chain.value.len() < 2 {
            return Err(ScenarioError::at(path, chain, "an anatomy chain needs at least two steps: each is read against the one before"));
        }
        if let Some(name) = chain.value.iter().find(|n| !listed(&n.value)) {
            return Err(ScenarioError::at(
                path,
                name,
                format!("anatomy step '{}' is not among this scenario's implementations", name.value),
            ));
        }
    }
    check_training(path, &scenario.training.epochs, &scenario.training.learning_rate)?;
    match &scenario.dataset {
        DatasetSpec::Inline { x, y } => {
            if x.value.is_empty() {
                return Err(ScenarioError::at(path, x, "x must have at least one value"));
            }
            if x.value.len() != y.value.len() {
                return Err(ScenarioError::at(path, y, format!("y has {} values but x has {}", y.value.len(), x.value.len())));
            }
            for column in [x, y] {
                if column.value.iter().any(|v| !v.is_finite()) {
                    return Err(ScenarioError::at(path, column, "every value must be finite (no .nan or .inf)"));
                }
            }
        }
        DatasetSpec::Generate(g) => check_generate(path, g)?,
        DatasetSpec::Csv(c) => {
            if c.path.value.is_empty() {
                return Err(ScenarioError::at(path, &c.path, "path must not be empty"));
            }
        }
        DatasetSpec::Npy(npy) => {
            // Implementations choose the format by the extension (docs/protocol.md).
            if !npy.path.value.to_ascii_lowercase().ends_with(".npy") {
                return Err(ScenarioError::at(
                    path,
                    &npy.path,
                    "path must name a .npy file (implementations choose the format by the extension)",
                ));
            }
        }
    }
    if let Some(sweep) = &scenario.sweep {
        if sweep.value.is_empty() {
            return Err(ScenarioError::at(path, sweep, "sweep must have at least one point (or leave it out)"));
        }
        for point in &sweep.value {
            let p = &point.value;
            if let Some(n) = &p.n {
                match &scenario.dataset {
                    DatasetSpec::Generate(_) if n.value == 0 => return Err(ScenarioError::at(path, n, "n must be ≥ 1")),
                    DatasetSpec::Generate(_) => {}
                    _ => return Err(ScenarioError::at(path, n, "n can only be swept over a generated dataset (dataset: generate)")),
                }
            }
            if p.n.is_none() && p.epochs.is_none() && p.learning_rate.is_none() {
                return Err(ScenarioError::at(path, point, "a sweep point must override at least one of n, epochs, learning_rate"));
            }
            if let Some(name) = p.skip.iter().find(|name| !listed(&name.value)) {
                return Err(ScenarioError::at(
                    path,
                    name,
                    format!("skip names '{}', which is not among this scenario's implementations", name.value),
                ));
            }
            if p.skip.iter().any(|name| name.value == scenario.baseline.value) {
                return Err(ScenarioError::at(path, point, "the baseline cannot be skipped: ratios are taken against it"));
            }
            if let Some(e) = &p.epochs {
                check_epochs(path, e)?;
            }
            if let Some(lr) = &p.learning_rate {
                check_learning_rate(path, lr)?;
            }
        }
        // The same point twice would be measured twice under one heading, as if it were two.
        let fixed_n = match &scenario.dataset {
            DatasetSpec::Generate(g) => Some(g.n.value),
            _ => None,
        };
        let effective = |p: &SweepPoint| {
            (
                p.n.as_ref().map(|n| n.value).or(fixed_n),
                p.epochs.as_ref().map_or(scenario.training.epochs.value, |e| e.value),
                p.learning_rate.as_ref().map_or(scenario.training.learning_rate.value, |lr| lr.value),
            )
        };
        for (i, point) in sweep.value.iter().enumerate() {
            let here = effective(&point.value);
            if let Some(earlier) = sweep.value[..i].iter().position(|other| effective(&other.value) == here) {
                let (n, epochs, learning_rate) = here;
                let n = n.map(|n| format!("n={n} ")).unwrap_or_default();
                return Err(ScenarioError::at(
                    path,
                    point,
                    format!(
                        "sweep point {i} is the same point as point {earlier} ({n}epochs={epochs} learning_rate={learning_rate}): \
                         each point is measured once (raise repetitions for more runs)"
                    ),
                ));
            }
        }
    }
    let m = &scenario.measure;
    for count in [&m.repetitions, &m.quick_repetitions].into_iter().flatten() {
        if count.value == 0 {
            return Err(ScenarioError::at(path, count, "must be ≥ 1"));
        }
    }
    for count in [&m.repetitions, &m.quick_repetitions, &m.warmup].into_iter().flatten() {
        if count.value > MAX_RUNS_PER_POINT {
            return Err(ScenarioError::at(path, count, format!("must be at most {MAX_RUNS_PER_POINT}")));
        }
    }
    if let Some(ms) = &m.sample_interval_ms {
        if ms.value == 0 || ms.value > 60_000 {
            return Err(ScenarioError::at(path, ms, "sample_interval_ms must be between 1 and 60000"));
        }
    }
    if let Some(t) = &m.timeout_seconds {
        if !(t.value.is_finite() && t.value > 0.0 && t.value <= 86_400.0) {
            return Err(ScenarioError::at(path, t, "timeout_seconds must be > 0 and at most 86400"));
        }
    }
    if let Some(cpus) = &m.cpus {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cpus.value.is_empty() || cpus.value.iter().any(|&c| c >= 1024) {
            return Err(ScenarioError::at(path, cpus, format!("cpus must list CPU numbers (this machine has 0–{})", available - 1)));
        }
    }
    if let Some(mb) = &m.memory_limit_mb {
        if mb.value == 0 {
            return Err(ScenarioError::at(path, mb, "memory_limit_mb must be ≥ 1"));
        }
    }
    if let Some(acc) = &scenario.accuracy {
        let tol = acc.relative_tolerance.value;
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(ScenarioError::at(path, &acc.relative_tolerance, "relative_tolerance must be a finite number ≥ 0"));
        }
    }
    let points = scenario.sweep.as_ref().map_or(1, |s| s.value.len());
    for claim in &scenario.expect {
        let (names, point): (Vec<&str>, Option<usize>) = match &claim.value {
            Claim::Speedup(c) => (vec![&c.faster, &c.than], c.point),
            Claim::MemoryRatio(c) => (vec![&c.leaner, &c.than], c.point),
            Claim::Fit(c) => (vec![&c.implementation], c.point),
            Claim::WallMs(c) | Claim::PeakRssMb(c) => (vec![&c.implementation], c.point),
        };
        if let Some(name) = names.into_iter().find(|n| !listed(n)) {
            return Err(err(loc(&claim.referenced), format!("claim names '{name}', which is not among this scenario's implementations")));
        }
        if point.is_some_and(|p| p >= points) {
            return Err(err(
                loc(&claim.referenced),
                format!("claim point must be below {points} (the scenario has {points} point(s), counted from 0)"),
            ));
        }
        let bounds = match &claim.value {
            Claim::Speedup(c) => (c.at_least, c.at_most),
            Claim::MemoryRatio(c) => (c.at_least, c.at_most),
            Claim::WallMs(c) | Claim::PeakRssMb(c) => (c.at_least, c.at_most),
            Claim::Fit(c) => {
                if !(c.tolerance.is_finite() && c.tolerance >= 0.0) || (c.w.is_none() && c.b.is_none()) {
                    return Err(err(loc(&claim.referenced), "a fit claim needs w and/or b, and a finite tolerance ≥ 0".into()));
                }
                (Some(1.0), None)
            }
        };
        match bounds {
            (None, None) => return Err(err(loc(&claim.referenced), "a ratio claim needs at_least and/or at_most".into())),
            (lo, hi) if lo.into_iter().chain(hi).any(|v| !(v.is_finite() && v > 0.0)) => {
                return Err(err(loc(&claim.referenced), "at_least and at_most must be finite numbers > 0".into()))
            }
            (Some(lo), Some(hi)) if lo > hi => return Err(err(loc(&claim.referenced), format!("at_least ({lo}) is above at_most ({hi})"))),
            _ => {}
        }
    }
    Ok(())
}

fn check_training(path: &Path, epochs: &Spanned<u64>, lr: &Spanned<f64>) -> Result<(), ScenarioError> {
    check_epochs(path, epochs)?;
    check_learning_rate(path, lr)
}

fn check_epochs(path: &Path, epochs: &Spanned<u64>) -> Result<(), ScenarioError> {
    if epochs.value == 0 {
        return Err(ScenarioError::at(path, epochs, "epochs must be ≥ 1"));
    }
    Ok(())
}

fn check_learning_rate(path: &Path, lr: &Spanned<f64>) -> Result<(), ScenarioError> {
    if !(lr.value.is_finite() && lr.value > 0.0) {
        return Err(ScenarioError::at(path, lr, "learning_rate must be a finite number > 0"));
    }
    Ok(())
}

fn check_generate(path: &Path, g: &GenerateSpec) -> Result<(), ScenarioError> {
    if g.n.value == 0 {
        return Err(ScenarioError::at(path, &g.n, "n must be ≥ 1"));
    }
    if g.n.value > 500_000_000 {
        return Err(ScenarioError::at(path, &g.n, "n above 5·10^8 would need more than 8 GB per copy of the data"));
    }
    let (x_min, x_max) = (g.x_min.unwrap_or(crate::datasets::DEFAULT_X_MIN), g.x_max.unwrap_or(crate::datasets::DEFAULT_X_MAX));
    let values = [g.slope, g.intercept, g.noise, x_min, x_max];
    if values.iter().any(|v| !v.is_finite()) || g.noise < 0.0 {
        return Err(ScenarioError::at(path, &g.n, "slope, intercept, x_min, x_max must be finite and noise finite and ≥ 0"));
    }
    if x_min > x_max {
        return Err(ScenarioError::at(path, &g.n, "x_min must not be above x_max"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        for good in ["seed", "rust-simd", "python_numpy.2", "A", &"n".repeat(64)] {
            assert_eq!(name_problem("scenario", good), None, "{good}");
        }
        for bad in ["", "-rust", ".hidden", "a|b", "two\nlines", "a/b", "é", "a b", &"n".repeat(65)] {
            assert!(name_problem("scenario", bad).is_some(), "{bad:?}");
        }
        let long = name_problem("scenario", &"n".repeat(300)).unwrap();
        assert!(long.starts_with(&format!("scenario name '{}…' (300 characters) is not valid", "n".repeat(40))), "{long}");
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        assert_eq!(placeholders_in("{python} -c '{{x}}' {data}").unwrap(), vec!["python", "data"]);
        assert!(placeholders_in("{oops").is_err());
        assert!(placeholders_in("oops}").is_err());
        let values = BTreeMap::from([("data", "d.npy".to_string()), ("epochs", "10".to_string())]);
        assert_eq!(fill("--data={data} {{literal}} {epochs}", &values).unwrap(), "--data=d.npy {literal} 10");
        assert!(fill("{missing}", &values).is_err());
        let half = fill_partial("{data} {{x}} {python}", &BTreeMap::from([("python", "/venv/python".to_string())]));
        assert_eq!(half, "{data} {{x}} /venv/python");
        assert_eq!(fill(&half, &values.into_iter().collect()).unwrap(), "d.npy {x} /venv/python");
    }
}
