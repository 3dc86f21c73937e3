//! Finds where a key path stands in a block-style YAML text, so that an error found after
//! parsing (a sum that is not 1, an unknown metric) can still name line and column.

/// One step of a path: a mapping key or a sequence index.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// The 1-based `(line, column)` of the last segment of `path` that could be found, or of the
/// deepest found ancestor; `(1, 1)` when not even the first is found.
pub fn locate(text: &str, path: &[Seg<'_>]) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let mut best = (1, 1);
    // The block being searched: lines (start..end) deeper than `parent`.
    let (mut start, mut end, mut parent): (usize, usize, isize) = (0, lines.len(), -1);
    for seg in path {
        let found = match *seg {
            Seg::Key(key) => find_key(&lines, start, end, parent, key),
            Seg::Index(i) => find_item(&lines, start, end, parent, i),
        };
        let Some((line, col)) = found else {
            return best;
        };
        best = (line + 1, col + 1);
        // The next block: the lines after `line` deeper than the found token's column (an item's
        // keys sit right of its dash).
        parent = isize::try_from(col).unwrap_or(isize::MAX) - 1;
        start = line;
        end = lines.len();
        for (j, l) in lines.iter().enumerate().skip(line + 1) {
            if is_content(l) && (indent(l) as isize) <= parent {
                end = j;
                break;
            }
        }
        if let Seg::Index(_) = seg {
            // The item's first key is on the dash line itself.
            parent = isize::try_from(col).unwrap_or(isize::MAX) - 1;
        }
    }
    best
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// `key:` at the shallowest indent deeper than `parent`, also right after a `- `.
fn find_key(
    lines: &[&str],
    start: usize,
    end: usize,
    parent: isize,
    key: &str,
) -> Option<(usize, usize)> {
    let want = format!("{key}:");
    for (j, l) in lines.iter().enumerate().take(end).skip(start) {
        if !is_content(l) {
            continue;
        }
        let mut col = indent(l);
        let mut rest = &l[col..];
        if let Some(after) = rest.strip_prefix("- ") {
            col += 2;
            rest = after;
        }
        if (col as isize) > parent && rest.starts_with(&want) {
            return Some((j, col));
        }
    }
    None
}

/// The `i`-th `- ` item at the first dash indent found deeper than `parent`.
fn find_item(
    lines: &[&str],
    start: usize,
    end: usize,
    parent: isize,
    i: usize,
) -> Option<(usize, usize)> {
    let mut dash_indent = None;
    let mut seen = 0;
    for (j, l) in lines.iter().enumerate().take(end).skip(start) {
        if !is_content(l) {
            continue;
        }
        let col = indent(l);
        if (col as isize) <= parent || !l[col..].starts_with('-') {
            continue;
        }
        if *dash_indent.get_or_insert(col) != col {
            continue;
        }
        if seen == i {
            return Some((j, col + 2));
        }
        seen += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: x\ncallee:\n  answer: 0.5\n  decline: 0.1\nthresholds:\n  - metric: a\n    max: 1\n  - metric: bogus\n    max: 2\n";

    #[test]
    fn finds_nested_keys_and_items() {
        assert_eq!(
            locate(TEXT, &[Seg::Key("callee"), Seg::Key("decline")]),
            (4, 3)
        );
        assert_eq!(
            locate(
                TEXT,
                &[Seg::Key("thresholds"), Seg::Index(1), Seg::Key("metric")]
            ),
            (8, 5)
        );
        assert_eq!(
            locate(
                TEXT,
                &[Seg::Key("thresholds"), Seg::Index(0), Seg::Key("max")]
            ),
            (7, 5)
        );
    }

    #[test]
    fn falls_back_to_the_deepest_ancestor() {
        assert_eq!(
            locate(TEXT, &[Seg::Key("callee"), Seg::Key("busy")]),
            (2, 1)
        );
        assert_eq!(locate(TEXT, &[Seg::Key("nope")]), (1, 1));
    }
}
