//! What a narrow table shows: which columns fit by their priority, how wide each is, and counts
//! and states short enough for a header at 80 columns.

/// How many columns show in `room` characters, leftmost first (each list puts what matters most
/// on the left): every column that fits whole, and the next one cut short when a fair part of it
/// fits. The columns left out show in the detail. At least one column shows.
pub fn fit_columns(wanted: &[u16], room: u16) -> usize {
    let mut used: u32 = 0;
    for (i, w) in wanted.iter().enumerate() {
        let need = u32::from(*w) + u32::from(i > 0);
        if used + need > u32::from(room) {
            let left = u32::from(room).saturating_sub(used + 1);
            return if i == 0 || left > u32::from((*w).min(12)) { i + 1 } else { i };
        }
        used += need;
    }
    wanted.len().max(1)
}

/// Which columns a table of `room` cells shows, in their own order: by `priority` (the sorted
/// column right after the first) until one does not fit whole, which still shows, cut, where a
/// fair part of it fits.
pub fn choose_columns(wanted: &[u16], room: u16, priority: &[usize], sorted: usize) -> Vec<usize> {
    let n = wanted.len();
    if priority.is_empty() {
        return (0..fit_columns(wanted, room).min(n)).collect();
    }
    let mut order: Vec<usize> = priority.iter().copied().filter(|&i| i < n).collect();
    let rest: Vec<usize> = (0..n).filter(|i| !order.contains(i)).collect();
    order.extend(rest);
    if let Some(at) = order.iter().position(|&i| i == sorted).filter(|&at| at > 1) {
        let s = order.remove(at);
        order.insert(1, s);
    }
    let mut chosen: Vec<usize> = Vec::new();
    let mut used: u32 = 0;
    for &i in &order {
        let need = u32::from(wanted[i]) + u32::from(!chosen.is_empty());
        // Strictly by priority: a less important column never takes the place of one that
        // did not fit.
        if used + need > u32::from(room) {
            // The next one still shows, cut, where a fair part of it fits.
            let left = u32::from(room).saturating_sub(used + 1);
            if !chosen.is_empty() && left > u32::from(wanted[i].min(12)) {
                chosen.push(i);
            }
            break;
        }
        chosen.push(i);
        used += need;
    }
    if chosen.is_empty() && n > 0 {
        chosen.push(order[0]);
    }
    chosen.sort_unstable();
    chosen
}

/// The width of each shown column: its natural width, but where they do not all fit, the least
/// important shown column gives up what is missing (it is the one cut short).
pub(super) fn shown_widths(natural: &[u16], shown: &[usize], room: u16, priority: &[usize], sorted: usize) -> Vec<u16> {
    let mut widths: Vec<u16> = shown.iter().map(|&i| natural[i]).collect();
    let total: u32 = widths.iter().map(|&w| u32::from(w)).sum::<u32>() + widths.len().saturating_sub(1) as u32;
    let over = total.saturating_sub(u32::from(room));
    if over > 0 {
        let rank = |i: usize| {
            if i == sorted {
                1
            } else {
                priority.iter().position(|&p| p == i).map_or(usize::MAX, |r| r + 2)
            }
        };
        if let Some(k) = (0..shown.len()).max_by_key(|&k| rank(shown[k])) {
            widths[k] = widths[k].saturating_sub(u16::try_from(over).unwrap_or(u16::MAX)).max(1);
        }
    }
    widths
}

/// A count in at most five characters: 999, 1.2k, 12k, 1.2M.
pub fn abbreviated(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    match a {
        _ if a < 1_000.0 => n.to_string(),
        _ if a < 10_000.0 => format!("{sign}{:.1}k", a / 1_000.0),
        _ if a < 1_000_000.0 => format!("{sign}{:.0}k", (a / 1_000.0).floor()),
        _ if a < 10_000_000.0 => format!("{sign}{:.1}M", a / 1_000_000.0),
        _ => format!("{sign}{:.0}M", (a / 1_000_000.0).floor()),
    }
}

/// A status or health in a few letters, for a narrow header.
pub fn short_status(s: &str) -> &str {
    match s {
        "queued" => "que",
        "pending" => "pend",
        "running" => "run",
        "paused" => "paus",
        "completed" => "done",
        "failed" => "fail",
        "cancelled" => "canc",
        "timeout" => "tout",
        "healthy" => "ok",
        "offline" => "off",
        "maintenance" => "maint",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_abbreviate_to_five_characters() {
        assert_eq!(
            [0, 999, 1_535, 12_345, 999_999, 1_000_000, 12_000_000].map(abbreviated),
            ["0", "999", "1.5k", "12k", "999k", "1.0M", "12M"]
        );
    }

    #[test]
    fn a_narrow_table_drops_columns_by_priority_and_keeps_the_sorted_one() {
        // NAME GEN SEQ STATE DONE: state and done first, then seq.
        let w = [10, 10, 5, 8, 8];
        let p = [0, 3, 4, 2, 1];
        assert_eq!(choose_columns(&w, 100, &p, 0), [0, 1, 2, 3, 4], "room for all");
        assert_eq!(choose_columns(&w, 28, &p, 0), [0, 3, 4], "the generator and sequence go first");
        assert_eq!(choose_columns(&w, 26, &p, 1), [0, 1], "sorted by the generator: it stays, state does not fit");
        assert_eq!(choose_columns(&w, 30, &p, 1), [0, 1, 3]);
        assert_eq!(choose_columns(&w, 5, &p, 0), [0], "the first column always");
        assert_eq!(choose_columns(&w, 28, &[], 0), [0, 1, 2], "no priority: left to right");
    }
}
