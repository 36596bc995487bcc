//! Command templates: the `{name}` placeholders of an argv, found at load time and filled in
//! two steps (the values the same for every run first, each point's at run time).

use std::collections::BTreeMap;

/// Why a template cannot be read or filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("unmatched '}}' in '{template}' (write '}}}}' for a literal brace)")]
    UnmatchedClose { template: String },
    #[error("unclosed '{{' in '{template}'")]
    Unclosed { template: String },
    #[error("no value for placeholder {{{name}}}")]
    NoValue { name: String },
}

/// The names inside {…} in a template. `{{` and `}}` are literal braces.
pub(crate) fn placeholders_in(template: &str) -> Result<Vec<&str>, TemplateError> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with('}') {
            return Err(TemplateError::UnmatchedClose { template: template.to_string() });
        } else {
            let end = after.find('}').ok_or_else(|| TemplateError::Unclosed { template: template.to_string() })?;
            names.push(&after[..end]);
            rest = &after[end + 1..];
        }
    }
    Ok(names)
}

/// Replaces every {name} with its value; `{{`/`}}` become literal braces. The template was
/// checked at load time, so an unknown name here is a bug, reported as an error all the same.
pub(crate) fn fill(template: &str, values: &BTreeMap<&str, String>) -> Result<String, TemplateError> {
    fill_with(template, values, false)
}

/// Like [`fill`], but names without a value and escaped braces are left as they are, so the
/// result can be filled again later (global values first, per-point values at run time).
pub(crate) fn fill_partial(template: &str, values: &BTreeMap<&str, String>) -> String {
    fill_with(template, values, true).unwrap_or_else(|_| template.to_string())
}

fn fill_with(template: &str, values: &BTreeMap<&str, String>, partial: bool) -> Result<String, TemplateError> {
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
        let end = tail.find('}').ok_or_else(|| TemplateError::Unclosed { template: template.to_string() })?;
        let name = &tail[1..end];
        match values.get(name) {
            Some(value) => out.push_str(value),
            None if partial => out.push_str(&tail[..=end]),
            None => return Err(TemplateError::NoValue { name: name.to_string() }),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // The messages users see in scenario errors.
        assert_eq!(placeholders_in("oops}").unwrap_err().to_string(), "unmatched '}' in 'oops}' (write '}}' for a literal brace)");
        assert_eq!(placeholders_in("{oops").unwrap_err().to_string(), "unclosed '{' in '{oops'");
        assert_eq!(fill("{missing}", &BTreeMap::new()).unwrap_err().to_string(), "no value for placeholder {missing}");
    }
}
