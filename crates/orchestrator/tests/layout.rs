//! The layout rules of the orchestrator's source, checked on the source itself: every file opens
//! with a line saying its job, no file is over 700 lines (its `#[cfg(test)]` module aside), no
//! function is over 80 lines, and no module imports one that imports it back — neither two
//! top-level stages nor two sibling files of one folder. Run with `-- --nocapture` to see every
//! finding at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 700;
const MAX_FN_LINES: usize = 80;

/// One source file: its module path (`["measure", "sampler"]`; `[]` for lib.rs) and its lines.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    lines: Vec<String>,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|file| !file.starts_with(root.join("bin")) && file.file_name().is_some_and(|name| name != "main.rs"))
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().to_path_buf();
            let mut module: Vec<String> = relative.with_extension("").iter().map(|part| part.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            Source { file: relative, module, lines: text.lines().map(str::to_owned).collect() }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The lines before the file's inline `#[cfg(test)] mod … {` (tests sit at the end of a file
/// here); a `#[cfg(test)]` on anything else does not end the code.
fn code_lines(source: &Source) -> &[String] {
    let opens_test_module = |pair: &[String]| {
        let module = pair[1].trim_start_matches("pub(crate) ").trim_start_matches("pub(super) ").trim_start_matches("pub ");
        pair[0] == "#[cfg(test)]" && module.starts_with("mod ") && module.ends_with('{')
    };
    let end = source.lines.windows(2).position(opens_test_module).unwrap_or(source.lines.len());
    &source.lines[..end]
}

fn is_fn_start(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let mut rest = trimmed;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// Functions longer than the limit, as "file:line name (N lines)": a function runs from its `fn`
/// line to the first line at its own indentation that closes it (rustfmt's layout).
fn long_functions(source: &Source) -> Vec<String> {
    let lines = code_lines(source);
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = is_fn_start(line) else { continue };
        let indent = line.len() - line.trim_start().len();
        let closing = " ".repeat(indent) + "}";
        let one_line = line.trim_end().ends_with('}') || line.trim_end().ends_with(';');
        if one_line {
            continue;
        }
        if let Some(offset) = lines[start..].iter().position(|l| l.trim_end() == closing) {
            let length = offset + 1;
            if length > MAX_FN_LINES {
                found.push(format!("{}:{} fn {name} is {length} lines", source.file.display(), start + 1));
            }
        }
    }
    found
}

/// Every `crate::…`, `super::…` and `self::…` path in the code, resolved to an absolute module
/// path (a list of segments; the last ones may name an item rather than a module).
fn referenced_paths(source: &Source) -> Vec<Vec<String>> {
    let text = code_lines(source).join("\n");
    let text: String = text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("crate::").chain(text.match_indices("super::")).chain(text.match_indices("self::")) {
        if at > 0 && text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut base: Vec<String> = match &text[at..at + 4] {
            "crat" => Vec::new(),
            "supe" => source.module[..source.module.len().saturating_sub(1)].to_vec(),
            _ => source.module.clone(),
        };
        let start = at + text[at..].find("::").unwrap() + 2;
        let mut rest = &text[start..];
        // Further `super::` hops.
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
        }
        expand(&base, rest, &mut paths);
    }
    paths
}

/// Expands `a::b::{c, d::e}` after `base` into absolute paths.
fn expand(base: &[String], rest: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = rest;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            for part in split_top_level(&group[..end]) {
                expand(&path, part.trim(), out);
            }
            return;
        }
        let segment: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if segment.is_empty() {
            break;
        }
        path.push(segment.clone());
        rest = &rest[segment.len()..];
        match rest.strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    out.push(path);
}

fn split_top_level(group: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[from..]);
    parts
}

/// The dependency edges between siblings: for every folder (the crate root included), which of
/// its direct children (files or subfolders) refers into which other. A folder's own mod.rs is
/// its assembly point and takes part in no edge.
fn sibling_edges(sources: &[Source]) -> BTreeMap<Vec<String>, BTreeSet<(String, String)>> {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for source in sources {
        for path in referenced_paths(source) {
            let target = (1..=path.len()).rev().map(|k| path[..k].to_vec()).find(|prefix| modules.contains(prefix));
            let Some(target) = target else { continue };
            let common = source.module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common >= source.module.len() || common >= target.len() {
                continue; // one contains the other: a folder's mod.rs and its children
            }
            let parent = source.module[..common].to_vec();
            edges.entry(parent).or_default().insert((source.module[common].clone(), target[common].clone()));
        }
    }
    edges
}

fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut found = Vec::new();
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    for &start in &nodes {
        // Depth-first search for a path back to `start` through nodes greater than it, so each
        // cycle is reported once, from its smallest node.
        let mut stack = vec![(start, vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, trail)) = stack.pop() {
            for (_, next) in edges.iter().filter(|(from, _)| from == node) {
                if next == start {
                    found.push(format!("{} → {start}", trail.join(" → ")));
                } else if next > start && seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next, longer));
                }
            }
        }
    }
    found
}

fn findings() -> Vec<String> {
    let sources = sources();
    let mut found = Vec::new();
    for source in &sources {
        if !source.lines.first().is_some_and(|line| line.starts_with("//!")) {
            found.push(format!("{}: does not open with a `//!` line saying its job", source.file.display()));
        }
        let lines = code_lines(source).len();
        if lines > MAX_FILE_LINES {
            found.push(format!("{}: {lines} lines outside its tests (limit {MAX_FILE_LINES})", source.file.display()));
        }
        found.extend(long_functions(source));
    }
    for (parent, edges) in sibling_edges(&sources) {
        let folder = if parent.is_empty() { "crate".to_owned() } else { parent.join("::") };
        for cycle in cycles(&edges) {
            found.push(format!("import cycle in {folder}: {cycle}"));
        }
    }
    found
}

#[test]
fn the_source_keeps_its_layout_rules() {
    let found = findings();
    for finding in &found {
        println!("{finding}");
    }
    assert!(found.is_empty(), "{} layout findings (run with --nocapture to list them):\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_and_a_long_function() {
    let source = |module: &str, text: &str| Source {
        file: PathBuf::from(format!("{module}.rs")),
        module: module.split("::").map(str::to_owned).collect(),
        lines: text.lines().map(str::to_owned).collect(),
    };
    let sources = [
        source("runner", "//! a\nuse crate::sampler::Sampler;\n"),
        source("sampler", "//! b\nuse crate::{rng, runner::{CancelToken, Settings}};\n"),
        source("plan", "//! c\nuse super::runner;\n"),
    ];
    let edges = sibling_edges(&sources);
    let root = &edges[&Vec::<String>::new()];
    assert!(root.contains(&("sampler".to_owned(), "runner".to_owned())), "{root:?}");
    assert!(root.contains(&("plan".to_owned(), "runner".to_owned())), "{root:?}");
    assert_eq!(cycles(root), vec!["runner → sampler → runner".to_owned()]);

    let body: String = (0..MAX_FN_LINES).map(|i| format!("    let x{i} = {i};\n")).collect();
    let long = source("long", &format!("//! d\nfn long() {{\n{body}}}\nfn short() {{\n}}\n"));
    assert_eq!(long_functions(&long), vec![format!("long.rs:2 fn long is {} lines", MAX_FN_LINES + 2)]);

    // A `#[cfg(test)]` item before it does not hide it; a test module does.
    let after_test_item = source("item", &format!("//! e\n#[cfg(test)]\nfn helper() {{}}\nfn long() {{\n{body}}}\n"));
    assert_eq!(long_functions(&after_test_item).len(), 1);
    let in_tests = source("tests", &format!("//! f\n#[cfg(test)]\nmod tests {{\nfn long() {{\n{body}}}\n}}\n"));
    assert!(long_functions(&in_tests).is_empty());
}
