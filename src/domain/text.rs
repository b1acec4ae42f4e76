//! Text from the database on its way to the terminal: escape sequences and control characters
//! removed, so a crafted name cannot move the cursor, retitle the window or hide what follows.

/// One line of text, safe to draw: ANSI/OSC escape sequences dropped, tabs and line breaks
/// turned into spaces, other control characters (C0, DEL, C1) and bidirectional overrides
/// dropped, and at most `max` characters kept (an ellipsis marks the cut).
pub fn sanitize_cell(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut chars = text.chars().peekable();
    let mut count = 0;
    while let Some(c) = chars.next() {
        let keep = match c {
            '\u{1b}' => {
                skip_escape(&mut chars);
                None
            }
            '\t' | '\n' | '\r' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        };
        if let Some(c) = keep {
            if count == max {
                out.pop();
                out.push('…');
                break;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Text of several lines (logs, YAML), each line sanitised; tabs become four spaces.
pub fn sanitize_lines(text: &str, max_line: usize) -> Vec<String> {
    text.lines().map(|l| sanitize_cell(&l.replace('\t', "    "), max_line)).collect()
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// After an ESC: skip a CSI (`[` … final byte), an OSC/DCS/APC/PM/SOS string (up to BEL or
/// ESC `\`), or the single character of a two-character sequence.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']' | 'P' | '_' | '^' | 'X') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes_unchanged() {
        assert_eq!(sanitize_cell("nginx-ingress 1.2 — ünïcode ✓", 100), "nginx-ingress 1.2 — ünïcode ✓");
    }

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(sanitize_cell("\u{1b}[31mred\u{1b}[0m", 100), "red");
        assert_eq!(sanitize_cell("a\u{1b}]0;pwned\u{7}b", 100), "ab", "OSC window title");
        assert_eq!(sanitize_cell("a\u{1b}]8;;http://x\u{1b}\\link", 100), "alink", "OSC 8 with ST");
        assert_eq!(sanitize_cell("bell\u{7}\u{8}\u{7f}\u{9b}2J", 100), "bell2J");
        assert_eq!(sanitize_cell("line\none\ttab\r", 100), "line one tab ");
        assert_eq!(sanitize_cell("evil\u{202e}txt.exe", 100), "eviltxt.exe");
        assert_eq!(sanitize_cell("trailing\u{1b}", 100), "trailing");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(sanitize_cell("abcdef", 4), "abc…");
        assert_eq!(sanitize_cell("abcd", 4), "abcd");
        assert_eq!(sanitize_cell("", 4), "");
    }

    #[test]
    fn lines_are_sanitised_one_by_one() {
        assert_eq!(sanitize_lines("a\tb\n\u{1b}[2Jc", 80), vec!["a    b", "c"]);
    }
}
