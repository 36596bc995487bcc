//! The marks a reader scans for — a claim held or not, a fit that differs from the reference, an
//! implementation that failed, a warning — as words, never emoji: a machine without an
//! emoji font (a default Debian one) draws ✅ and ❌ as empty boxes. report.md shows a mark as a
//! bold word; report.html the same word as a coloured badge (html.rs knows the words by `Mark`).

use std::fmt;

use crate::analysis::claims::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Held,
    NotHeld,
    Inconclusive,
    NoData,
    /// A fit does not agree with the reference (agreement, the rule, is not marked).
    Differs,
    /// Every run of an implementation at a point failed.
    Failed,
    /// Some runs of an implementation at a point failed.
    Partial,
    Warning,
}

/// How a badge is coloured: a good, a bad, a doubtful or a neutral mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Good,
    Bad,
    Doubt,
    Neutral,
}

impl Mark {
    const ALL: [Mark; 8] =
        [Mark::Held, Mark::NotHeld, Mark::Inconclusive, Mark::NoData, Mark::Differs, Mark::Failed, Mark::Partial, Mark::Warning];

    pub(crate) fn of_verdict(verdict: Verdict) -> Mark {
        match verdict {
            Verdict::Held => Mark::Held,
            Verdict::NotHeld => Mark::NotHeld,
            Verdict::Inconclusive => Mark::Inconclusive,
            Verdict::NoData => Mark::NoData,
        }
    }

    /// The word shown, in report.md and report.html alike.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Mark::Held => "held",
            Mark::NotHeld => "not held",
            Mark::Inconclusive => "inconclusive",
            Mark::NoData => "no data",
            Mark::Differs => "differs",
            Mark::Failed => "failed",
            Mark::Partial => "partial",
            Mark::Warning => "warning",
        }
    }

    pub(crate) fn tone(self) -> Tone {
        match self {
            Mark::Held => Tone::Good,
            Mark::NotHeld | Mark::Differs | Mark::Failed => Tone::Bad,
            Mark::Inconclusive | Mark::Partial | Mark::Warning => Tone::Doubt,
            Mark::NoData => Tone::Neutral,
        }
    }

    /// The mark whose word is `word`, if any.
    pub(crate) fn from_word(word: &str) -> Option<Mark> {
        Mark::ALL.into_iter().find(|m| m.word() == word)
    }
}

impl Tone {
    /// The badge's CSS class in report.html.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Doubt => "doubt",
            Tone::Neutral => "neutral",
        }
    }
}

/// The mark in Markdown: its word in bold.
impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "**{}**", self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_is_found_by_its_word_and_words_are_distinct_ascii() {
        for mark in Mark::ALL {
            assert_eq!(Mark::from_word(mark.word()), Some(mark));
            assert!(mark.word().chars().all(|c| c.is_ascii_lowercase() || c == ' '), "{mark:?}");
        }
        for verdict in [Verdict::Held, Verdict::NotHeld, Verdict::Inconclusive, Verdict::NoData] {
            assert_eq!(Mark::of_verdict(verdict).word(), verdict.as_str());
        }
        assert_eq!(Mark::from_word("Speed"), None);
        assert_eq!(Mark::of_verdict(Verdict::NotHeld).to_string(), "**not held**");
    }
}
