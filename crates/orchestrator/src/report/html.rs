//! report.html: report.md rendered by pulldown-cmark into one self-contained page — the same
//! text and the same PNGs (linked relatively, so the page opens from the run directory), a small
//! stylesheet inside, no script and nothing fetched from the network.
//!
//! Free text reaches report.md already inert (report/escape.rs). Here, a second line of defence
//! lets through only the markup the report itself writes — its own anchors, links within the
//! page and images beside it — and a Content-Security-Policy tells the browser to run no script
//! and fetch nothing but those images, whatever the page holds.

use base64::Engine as _;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};

use super::marks::Mark;

/// The stylesheet: GitHub's measures (16 px text, cells padded 6 px × 13 px) in a content column
/// of at most 1000 px, so a table that fits here fits GitHub's rendering of report.md too.
/// A table wider than the column scrolls inside itself rather than widening the page.
const STYLESHEET: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1f2328;
  font: 16px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1032px; margin: 0 auto; padding: 16px 16px 48px; overflow-wrap: break-word; }
h1 { font-size: 1.5em; margin: 0.4em 0 0.3em; line-height: 1.25; }
h2 { font-size: 1.5em; margin: 1.6em 0 0.6em; padding-bottom: 0.3em; border-bottom: 1px solid #d1d9e0; }
h3 { font-size: 1.2em; margin: 1.4em 0 0.5em; }
p, ul, ol, blockquote, table { margin: 0 0 16px; }
ul, ol { padding-left: 2em; }
li + li { margin-top: 0.25em; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  background: #eff1f3; padding: 0.15em 0.35em; border-radius: 5px; }
blockquote { padding: 0 1em; color: #59636e; border-left: 0.25em solid #d1d9e0; }
table { border-collapse: collapse; border-spacing: 0; display: block; width: max-content;
  max-width: 100%; overflow-x: auto; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; background: #f6f8fa; }
tr:nth-child(2n) td { background: #f6f8fa; }
img { display: block; max-width: 100%; height: auto; margin: 8px 0; }
.mark { font-size: 0.8em; font-weight: 600; padding: 0.1em 0.5em; border-radius: 1em; white-space: nowrap; }
.mark.good { color: #116329; background: #dafbe1; }
.mark.bad { color: #a40e26; background: #ffebe9; }
.mark.doubt { color: #7d4e00; background: #fff8c5; }
.mark.neutral { color: #59636e; background: #eff1f3; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  main { padding: 8px 10px 32px; }
  h1 { font-size: 1.3em; }
  th, td { padding: 4px 8px; }
}
"#;

/// The whole page for `markdown` (report.md's text).
pub(crate) fn render(markdown: &str) -> String {
    let title = markdown.lines().find_map(|line| line.strip_prefix("# ")).unwrap_or("linreg-bench report");
    let mut body = String::with_capacity(markdown.len() * 2);
    let events: Vec<Event> = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).collect();
    html::push_html(&mut body, badges(only_own_markup(events)).into_iter());
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLESHEET}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        content_security_policy(),
        escape(title)
    )
}

/// No script, no frame, no form, no fetch: only the report's own images (beside it: 'self') and
/// its own stylesheet (by its hash, so no other style applies either).
fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLESHEET.as_bytes()));
    format!("default-src 'none'; img-src 'self'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

/// The events with any markup the report does not write itself made text: HTML other than the
/// report's anchors is shown as its characters, a link out of the page is its text alone, and an
/// image not beside the report is its description.
fn only_own_markup(events: Vec<Event>) -> Vec<Event> {
    let mut kept = Vec::with_capacity(events.len());
    let mut in_foreign_link = false;
    let mut foreign_images = 0usize;
    for event in events {
        match event {
            Event::Html(html) | Event::InlineHtml(html) if !is_own_anchor(&html) => kept.push(Event::Text(html)),
            Event::Start(Tag::Link { ref dest_url, .. }) if !dest_url.starts_with('#') => in_foreign_link = true,
            Event::End(TagEnd::Link) if in_foreign_link => in_foreign_link = false,
            Event::Start(Tag::Image { ref dest_url, .. }) if foreign_images > 0 || !is_beside_the_report(dest_url) => foreign_images += 1,
            Event::End(TagEnd::Image) if foreign_images > 0 => foreign_images -= 1,
            event => kept.push(event),
        }
    }
    kept
}

/// `<a id="…">` with a plain id, or `</a>`: the anchors the report writes before its sections.
fn is_own_anchor(html: &str) -> bool {
    let plain = |id: &str| !id.is_empty() && super::escape::id(id) == id;
    html == "</a>" || html.strip_prefix("<a id=\"").and_then(|rest| rest.strip_suffix("\">")).is_some_and(plain)
}

/// A relative path down from the report's folder (charts/x.png): no scheme, no root, no "..".
fn is_beside_the_report(url: &str) -> bool {
    !url.is_empty()
        && !url.starts_with('/')
        && url.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && url.split('/').all(|part| !part.is_empty() && part != "..")
}

/// A mark's bold word (`**not held**`) drawn as a coloured badge.
fn badges(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        if let (Event::End(TagEnd::Strong), [.., Event::Start(Tag::Strong), Event::Text(word)]) = (&event, out.as_slice()) {
            if let Some(mark) = Mark::from_word(word) {
                let badge = format!("<strong class=\"mark {}\">{}</strong>", mark.tone().class(), mark.word());
                out.truncate(out.len() - 2);
                out.push(Event::InlineHtml(CowStr::from(badge)));
                continue;
            }
        }
        out.push(event);
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_images_and_anchors_become_html_without_scripts_or_remote_resources() {
        let page = render("# Title <x>\n\n<a id=\"here\"></a>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![chart](charts/seed-wall.png)\n");
        assert!(page.contains("<title>Title &lt;x&gt;</title>"), "{page}");
        assert!(page.contains("<table>") && page.contains("<td>1</td>"), "{page}");
        assert!(page.contains("<img src=\"charts/seed-wall.png\" alt=\"chart\""), "{page}");
        assert!(page.contains("<a id=\"here\"></a>"), "{page}");
        assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"), "{page}");
    }

    /// Free text is escaped before it reaches report.md; were it not, the page would still hold
    /// none of the markup it tried to make.
    #[test]
    fn markup_the_report_does_not_write_itself_is_shown_as_text() {
        let hostile = "<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> [y](javascript:alert(1)) \
                       ![z](https://example.com/p.png) [w](https://example.com) <a id=\"a\" onclick=\"b\"></a>\n\n\
                       <iframe src=\"https://example.com\"></iframe>\n\n![](../../secret.png) ![](/etc/x.png) [ok](#here)\n";
        let page = render(hostile);
        let body = &page[page.find("<main>").unwrap()..];
        for tag in ["<script", "<img", "<iframe", "<a id=\"a\"", "href=\"javascript", "href=\"https"] {
            assert!(!body.contains(tag), "{tag} in {body}");
        }
        assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{body}");
        assert!(body.contains("y z w"), "the links' and images' words stay: {body}");
        assert!(body.contains("<a href=\"#here\">ok</a>"), "a link within the page stays: {body}");
    }

    #[test]
    fn the_page_forbids_scripts_and_every_fetch_but_its_own_images_and_stylesheet() {
        let page = render("# T\n");
        let policy = content_security_policy();
        assert!(page.contains(&format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">")), "{page}");
        assert!(policy.starts_with("default-src 'none'; img-src 'self'; style-src 'sha256-"), "{policy}");
        // The hash is of the stylesheet exactly as the page holds it.
        let sheet = &page[page.find("<style>").unwrap() + 7..page.find("</style>").unwrap()];
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(sheet.as_bytes()));
        assert!(policy.contains(&hash), "{policy}");
        assert!(page.contains("<meta name=\"referrer\" content=\"no-referrer\">"), "{page}");
    }

    #[test]
    fn marks_are_badges_and_other_bold_words_stay_bold() {
        let page = render(&format!("{} rust · {} numpy · **Speed** · **held.**\n", Mark::Held, Mark::NotHeld));
        assert!(page.contains("<strong class=\"mark good\">held</strong> rust"), "{page}");
        assert!(page.contains("<strong class=\"mark bad\">not held</strong> numpy"), "{page}");
        assert!(page.contains("<strong>Speed</strong>") && page.contains("<strong>held.</strong>"), "{page}");
    }
}
