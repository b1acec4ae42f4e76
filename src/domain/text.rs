//! Text from the database on its way to the terminal. One sanitiser, [`sanitize_cell`] (and
//! [`sanitize_lines`] for multi-line views, built on it), neutralises what a crafted name,
//! description or log line could make a terminal do or hide: it is shown, never executed.
//!
//! - C0 controls and DEL become their Unicode control pictures (ESC `␛`, BEL `␇`, CR `␍`, …), so
//!   an escape sequence (CSI, OSC, DCS, …) shows as text such as `␛[2J` or `␛]0;title␇`;
//! - a line break in a one-line cell shows as `␤` (multi-line views break the line instead);
//!   a tab is drawn as a space;
//! - C1 controls, bidirectional overrides and isolates, zero-width and other invisible format
//!   characters show as their code point, such as `<U+202E>`;
//! - the emoji variation selectors U+FE0E and U+FE0F are dropped, so that the terminal and the
//!   layout agree on every character's width;
//! - a field longer than its view allows is cut, and an ellipsis marks the cut.

/// How a character is drawn.
enum Shown {
    Itself(char),
    /// Not drawn: an emoji or text variation selector (U+FE0E, U+FE0F). Terminals and ratatui
    /// disagree on the width it gives its base (`⚠️` is two cells to ratatui, one to tmux), and
    /// the cell in between showed a stray character from the frame before ("⚠️a Important
    /// Notice"); without it every side draws the base at its own default width.
    Dropped,
    /// A stand-in picture (C0 controls, DEL, line breaks in cells).
    Picture(char),
    /// `<U+XXXX>` (C1 controls, format and invisible characters).
    Code(u32),
}

fn shown(c: char) -> Shown {
    match c {
        '\t' => Shown::Picture(' '),
        '\n' => Shown::Picture('\u{2424}'),
        '\u{0}'..='\u{1f}' => Shown::Picture(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
        '\u{7f}' => Shown::Picture('\u{2421}'),
        '\u{fe0e}' | '\u{fe0f}' => Shown::Dropped,
        c if is_hidden(c) => Shown::Code(c as u32),
        c => Shown::Itself(c),
    }
}

/// C1 controls, and characters a terminal draws as nothing or that reorder what follows:
/// bidirectional controls, zero-width and other format characters, invisible fillers, line and
/// paragraph separators. (The emoji variation selectors are dropped instead, see `Shown`.)
fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9f}'
        | '\u{ad}' | '\u{34f}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
        | '\u{890}'..='\u{891}' | '\u{8e2}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}')
}

/// Would the sanitiser change this character? (Tabs, line breaks and controls included.)
pub fn is_neutralised(c: char) -> bool {
    !matches!(shown(c), Shown::Itself(_))
}

/// The output, cut at `max` characters with an ellipsis.
struct Cut {
    out: String,
    count: usize,
    max: usize,
    full: bool,
}

impl Cut {
    fn push(&mut self, c: char) {
        if self.full {
            return;
        }
        if self.count == self.max {
            self.out.pop();
            self.out.push('…');
            self.full = true;
            return;
        }
        self.out.push(c);
        self.count += 1;
    }
}

/// One line of text, safe to draw: every control, format and invisible character neutralised
/// (see the module's doc), at most `max` characters kept (an ellipsis marks the cut).
pub fn sanitize_cell(text: &str, max: usize) -> String {
    let mut cut = Cut { out: String::with_capacity(text.len().min(max * 4)), count: 0, max, full: false };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if cut.full {
            break;
        }
        match shown(c) {
            Shown::Itself(c) => cut.push(c),
            Shown::Dropped => {}
            // CR LF is one line break.
            Shown::Picture(_) if c == '\r' && chars.peek() == Some(&'\n') => {}
            Shown::Picture(p) => cut.push(p),
            Shown::Code(code) => format!("<U+{code:04X}>").chars().for_each(|c| cut.push(c)),
        }
    }
    cut.out
}

/// The first `named` items, then "and N more": `a, b, c and 4 more` (a confirmation names what
/// it acts on this way).
pub fn first_few<S: AsRef<str>>(items: &[S], named: usize) -> String {
    let first: Vec<&str> = items.iter().take(named).map(AsRef::as_ref).collect();
    let mut text = first.join(", ");
    if items.len() > named {
        text.push_str(&format!(" and {} more", items.len() - named));
    }
    text
}

/// Text of several lines (logs, YAML, READMEs): broken at its line breaks (LF or CR LF), each
/// line sanitised as a cell; tabs become four spaces.
pub fn sanitize_lines(text: &str, max_line: usize) -> Vec<String> {
    text.lines().map(|l| sanitize_cell(&l.replace('\t', "    "), max_line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes_unchanged() {
        assert_eq!(sanitize_cell("nginx-ingress 1.2 — ünïcode ✓", 100), "nginx-ingress 1.2 — ünïcode ✓");
    }

    #[test]
    fn escape_sequences_and_controls_are_shown_not_executed() {
        assert_eq!(sanitize_cell("\u{1b}[31mred\u{1b}[0m", 100), "␛[31mred␛[0m");
        assert_eq!(sanitize_cell("a\u{1b}]0;pwned\u{7}b", 100), "a␛]0;pwned␇b", "OSC window title");
        assert_eq!(sanitize_cell("a\u{1b}]8;;http://x\u{1b}\\link", 100), "a␛]8;;http://x␛\\link", "OSC 8 with ST");
        assert_eq!(sanitize_cell("\u{1b}P1$r\u{1b}\\", 100), "␛P1$r␛\\", "DCS");
        assert_eq!(sanitize_cell("bell\u{7}\u{8}\u{7f}\u{9b}2J\u{0}", 100), "bell␇␈␡<U+009B>2J␀");
        assert_eq!(sanitize_cell("line\none\ttab\r\nnext\rover", 100), "line␤one tab␤next␍over");
        assert_eq!(sanitize_cell("trailing\u{1b}", 100), "trailing␛");
    }

    #[test]
    fn bidi_zero_width_and_invisible_characters_are_shown_by_code_point() {
        assert_eq!(sanitize_cell("evil\u{202e}txt.exe", 100), "evil<U+202E>txt.exe");
        assert_eq!(sanitize_cell("a\u{2066}b\u{2069}", 100), "a<U+2066>b<U+2069>");
        assert_eq!(sanitize_cell("ad\u{200b}min\u{feff}", 100), "ad<U+200B>min<U+FEFF>");
        assert_eq!(sanitize_cell("x\u{e0041}\u{2028}y", 100), "x<U+E0041><U+2028>y");
        assert_eq!(sanitize_cell("soft\u{ad}hyphen", 100), "soft<U+00AD>hyphen");
        // Letters of every script pass; an emoji's variation selector is dropped (see below).
        assert_eq!(sanitize_cell("❤\u{fe0f} שלום 日本", 100), "❤ שלום 日本");
        for c in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{200b}', '\n', '\t'] {
            assert!(is_neutralised(c), "{c:?}");
        }
        assert!(!is_neutralised('a') && !is_neutralised('…'));
    }

    #[test]
    fn a_code_point_is_cut_like_any_text() {
        assert_eq!(sanitize_cell("ab\u{202e}", 5), "ab<U…");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(sanitize_cell("abcdef", 4), "abc…");
        assert_eq!(sanitize_cell("abcd", 4), "abcd");
        assert_eq!(sanitize_cell("", 4), "");
    }

    #[test]
    fn lines_are_sanitised_one_by_one() {
        assert_eq!(sanitize_lines("a\tb\r\n\u{1b}[2Jc\u{7}", 80), vec!["a    b", "␛[2Jc␇"]);
    }

    #[test]
    fn a_few_are_named_then_counted() {
        assert_eq!(first_few(&["a", "b"], 3), "a, b");
        assert_eq!(first_few(&["a", "b", "c", "d", "e"], 3), "a, b, c and 2 more");
        assert_eq!(first_few::<&str>(&[], 3), "");
    }

    #[test]
    fn variation_selectors_are_dropped_so_widths_agree() {
        let s = sanitize_cell("## ⚠\u{fe0f} Important Notice ✔\u{fe0e}", 80);
        assert_eq!(s, "## ⚠ Important Notice ✔");
        // ratatui's width of the raw text counts the warning sign as two cells (tmux: one).
        assert_eq!(ratatui::text::Span::raw("⚠\u{fe0f}").width(), 2);
        assert_eq!(ratatui::text::Span::raw(s.clone()).width(), s.chars().count(), "one cell each");
        assert!(is_neutralised('\u{fe0f}'));
        assert_eq!(sanitize_lines("a\u{fe0f}\nb", 80), ["a", "b"]);
    }
}
