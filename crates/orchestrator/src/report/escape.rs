//! Free text made inert in the Markdown reports (report.md, machines.md, and report.html rendered
//! from report.md): whatever a scenario, a data path, a catalogue entry, the machine or a measured
//! program wrote is shown as the characters it is — never read as a link, an image, HTML, a table
//! cell or a heading, by pulldown-cmark nor by another viewer (GitHub's autolinks and math included).
//!
//! Every piece of such text goes through one of these on its way into Markdown: `text` for words
//! in a line or a table cell, `code` for a name shown as code, `paragraphs` for a description, and
//! `id` for an anchor made from a name.

use std::fmt::{self, Write as _};

/// `text` as inline Markdown on one line: whitespace (newlines included) collapsed to single
/// spaces, control and bidirectional-override characters shown as U+FFFD, and a backslash before
/// every character that could start markup.
pub(crate) fn text(text: &str) -> Text<'_> {
    Text(text)
}

/// `text` as an inline code span, safe in a table cell: a `|` is written `\|`, which a table
/// shows as `|` (outside a table the backslash would show: use it for names and table cells).
pub(crate) fn code(text: &str) -> Code<'_> {
    Code(text)
}

/// `text` as Markdown paragraphs: its blank-line-separated parts, each one `text` line.
pub(crate) fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for part in text.split('\n').collect::<Vec<_>>().split(|line| line.trim().is_empty()).filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        let _ = write!(out, "{}", Text(&part.join("\n")));
    }
    out
}

/// `name` as an HTML id and URL fragment: ASCII letters, digits, '.', '_' and '-' kept, any other
/// character '-' (a validated scenario name is kept whole; a hand-edited plan.json cannot break
/// out of the anchor).
pub(crate) fn id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect()
}

pub(crate) struct Text<'a>(&'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = one_line(self.0);
        for (index, c) in chars.iter().enumerate() {
            if needs_backslash(&chars, index) {
                f.write_char('\\')?;
            }
            f.write_char(*c)?;
        }
        Ok(())
    }
}

pub(crate) struct Code<'a>(&'a str);

impl fmt::Display for Code<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = one_line(self.0);
        if chars.is_empty() {
            return Ok(());
        }
        // The fence is one backtick longer than the longest run inside; a space pads content that
        // starts or ends with a backtick (CommonMark strips one from each side).
        let longest = chars.split(|c| *c != '`').map(<[char]>::len).max().unwrap_or(0);
        let fence = "`".repeat(longest + 1);
        let pad = if chars.first() == Some(&'`') || chars.last() == Some(&'`') { " " } else { "" };
        f.write_str(&fence)?;
        f.write_str(pad)?;
        for c in chars {
            if c == '|' {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        f.write_str(pad)?;
        f.write_str(&fence)
    }
}

/// The characters of `text` on one line: runs of whitespace one space, none at either end;
/// control characters and those that reorder text (`console::reorders_text`: bidirectional
/// overrides, isolates and marks, which could make a figure read backwards) U+FFFD.
fn one_line(text: &str) -> Vec<char> {
    let mut chars = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() {
            if chars.last().is_some_and(|last| *last != ' ') {
                chars.push(' ');
            }
        } else if c.is_control() || crate::console::reorders_text(c) {
            chars.push(char::REPLACEMENT_CHARACTER);
        } else {
            chars.push(c);
        }
    }
    if chars.last() == Some(&' ') {
        chars.pop();
    }
    chars
}

/// Whether the character at `index` could start or end markup where it stands.
fn needs_backslash(chars: &[char], index: usize) -> bool {
    let at = |i: usize| chars.get(i).copied();
    match chars[index] {
        // Escapes, code, emphasis, links and images, HTML and autolinks, entities, table cells,
        // strikethrough, GitHub's math, e-mail autolinks.
        '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '$' | '@' => true,
        // An underscore between letters or digits is never emphasis: "python_numpy" stays as it is.
        '_' => {
            let start = chars[..index].iter().rposition(|c| *c != '_').map_or(0, |p| p + 1);
            let end = chars[index..].iter().position(|c| *c != '_').map_or(chars.len(), |p| index + p);
            let word = |i: Option<usize>| i.and_then(|i| chars.get(i)).is_some_and(char::is_ascii_alphanumeric);
            !(word(start.checked_sub(1)) && word(Some(end)))
        }
        // GitHub links a bare "https://…" and "www.…".
        ':' => at(index + 1) == Some('/') && at(index + 2) == Some('/'),
        '.' if index >= 3 && chars[index - 3..index].iter().collect::<String>().eq_ignore_ascii_case("www") => true,
        // At the start of a line: a heading, a list item, a setext underline, an ordered list item.
        '#' | '-' | '+' | '=' => index == 0,
        '.' | ')' => index > 0 && chars[..index].iter().all(char::is_ascii_digit) && matches!(at(index + 1), None | Some(' ')),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// What a CommonMark reader (with tables and strikethrough) makes of `markdown`: its events
    /// other than text and the paragraphs, table and its cells around it.
    fn markup(markdown: &str) -> Vec<String> {
        let structure = |e: &Event| {
            matches!(
                e,
                Event::Text(_)
                    | Event::Start(Tag::Paragraph | Tag::Table(_) | Tag::TableHead | Tag::TableRow | Tag::TableCell)
                    | Event::End(TagEnd::Paragraph | TagEnd::Table | TagEnd::TableHead | TagEnd::TableRow | TagEnd::TableCell)
            )
        };
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
            .filter(|e| !structure(e))
            .map(|e| format!("{e:?}"))
            .collect()
    }

    /// The text a CommonMark reader shows for `markdown`.
    fn shown(markdown: &str) -> String {
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
            .filter_map(|e| match e {
                Event::Text(t) | Event::Code(t) => Some(t.into_string()),
                _ => None,
            })
            .collect()
    }

    const HOSTILE: &[&str] = &[
        "<script>document.title='x'</script>",
        "<img src=x onerror=\"alert(1)\">",
        "<iframe src=\"https://example.com/\"></iframe>",
        "[click](javascript:alert(1))",
        "![](https://example.com/pixel.png)",
        "<https://example.com>",
        "[ref]\n\n[ref]: https://example.com",
        "&lt;b&gt; &#x3C;i&#x3E; &amp;",
        "*emphasis* **strong** _under_ __double__ ~~struck~~ ~one~",
        "`code` ``two``",
        "# heading",
        "- item",
        "+ item",
        "1. item",
        "7) item",
        "> quote",
        "===",
        "---",
        "***",
        "___",
        "    indented code",
        "```\nfenced\n```",
        "a | b | c",
        "line one  \nline two\\\nthree",
        "a._b_.c",
        "\\*not emphasis\\*",
        "x <!-- comment --> y",
        "<div>\nblock\n</div>",
        "trailing backslash \\",
    ];

    #[test]
    fn hostile_text_is_shown_as_its_characters_and_nothing_else() {
        for hostile in HOSTILE {
            let escaped = text(hostile).to_string();
            assert_eq!(markup(&escaped), Vec::<String>::new(), "{hostile:?} → {escaped:?}");
            let one_line = hostile.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(shown(&escaped), one_line, "{hostile:?} → {escaped:?}");
            // In a table cell, after a list marker and in a heading it stays one cell's text.
            let table = format!("| a | b |\n|---|---|\n| {escaped} | z |\n");
            assert_eq!(shown(&table), format!("ab{one_line}z"), "{table}");
            assert_eq!(markup(&format!("- {escaped}")).len(), 4, "a list item and nothing more: {escaped}");
            assert_eq!(markup(&format!("### {escaped}")).len(), 2, "a heading and nothing more: {escaped}");
        }
    }

    #[test]
    fn paragraphs_keep_their_breaks_and_nothing_else() {
        let description = "First <b>one</b>\ncontinued.\n\n  \n# Second\n- not a list\n\n    [x](javascript:y)\n";
        let markdown = paragraphs(description);
        assert_eq!(markdown.matches("\n\n").count(), 2, "{markdown}");
        let events = Parser::new(&markdown).filter(|e| matches!(e, Event::Start(_))).count();
        assert_eq!(events, 3, "three paragraphs and nothing else: {markdown}");
        assert_eq!(shown(&markdown), "First <b>one</b> continued.# Second - not a list[x](javascript:y)");
    }

    #[test]
    fn plain_words_names_and_figures_are_left_as_they_are() {
        for plain in ["python_numpy", "rust-simd", "n=10^7 epochs=10 lr=0.05", "3.00 ms (95% CI 2.98–3.02)", "w ≈ 2, b ≈ 0", "a.b_c-d"]
        {
            assert_eq!(text(plain).to_string(), plain);
        }
    }

    #[test]
    fn remote_addresses_are_not_linked_by_viewers_that_link_bare_addresses() {
        assert_eq!(
            text("see https://example.com or www.example.com, or me@example.com").to_string(),
            "see https\\://example.com or www\\.example.com, or me\\@example.com"
        );
    }

    #[test]
    fn control_and_reordering_characters_are_shown_as_replacement_characters() {
        assert_eq!(text("a\u{1b}[31mb\u{0}c\u{202E}d\u{2066}e\t\r\nf").to_string(), "a\u{FFFD}\\[31mb\u{FFFD}c\u{FFFD}d\u{FFFD}e f");
        assert_eq!(text("a\u{200F}b\u{061C}c\u{200E}d").to_string(), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d");
    }

    #[test]
    fn code_spans_hold_any_backticks_and_pipes() {
        for (raw, shown_as) in [("seed", "seed"), ("a`b", "a`b"), ("`x``", "`x``"), ("<b>|</b>", "<b>|</b>"), ("two\nlines", "two lines")] {
            let span = code(raw).to_string();
            let table = format!("| a |\n|---|\n| {span} |\n");
            let events: Vec<Event> = Parser::new_ext(&table, Options::ENABLE_TABLES).collect();
            let codes: Vec<String> =
                events.iter().filter_map(|e| if let Event::Code(c) = e { Some(c.to_string()) } else { None }).collect();
            assert_eq!(codes, vec![shown_as.to_string()], "{raw:?} → {span:?}");
        }
        assert_eq!(code("").to_string(), "");
    }

    #[test]
    fn ids_keep_plain_names_and_nothing_that_ends_an_attribute() {
        assert_eq!(id("learning-rate_2.x"), "learning-rate_2.x");
        assert_eq!(id("x\"><script>"), "x---script-");
    }
}
