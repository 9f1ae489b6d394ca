//! Where things are in a box.toml: byte spans to line:column, keys to spans and back, so that
//! every error names the file, the line, the column and the key.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a key path as users write it: `resources.memory`, `mounts[1].target`,
/// `env."A=B"` (a key that is not a bare TOML key is quoted).
pub fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A parsed document that keeps every key's and value's span.
pub struct Spans<'i>(Spanned<DeTable<'i>>);

impl<'i> Spans<'i> {
    pub fn parse(src: &'i str) -> Result<Spans<'i>, toml::de::Error> {
        DeTable::parse(src).map(Spans)
    }

    /// The span of the key at `path` (or of the array element, for an index).
    pub fn key_span(&self, path: &[Seg]) -> Option<Range<usize>> {
        let mut span = None;
        let mut table = Some(self.0.get_ref());
        let mut value: Option<&Spanned<DeValue<'i>>> = None;
        for seg in path {
            match seg {
                Seg::Key(k) => {
                    let t = table.take().or_else(|| match value?.get_ref() {
                        DeValue::Table(t) => Some(t),
                        _ => None,
                    })?;
                    let (key, v) = t.iter().find(|(key, _)| key.get_ref() == k)?;
                    span = Some(key.span());
                    value = Some(v);
                }
                Seg::Index(i) => {
                    let DeValue::Array(items) = value?.get_ref() else {
                        return None;
                    };
                    let item = items.get(*i)?;
                    span = Some(item.span());
                    value = Some(item);
                }
            }
        }
        span
    }

    /// Whether the value at `path` is a table (an array element of `[[tables]]` included).
    pub fn is_table(&self, path: &[Seg]) -> bool {
        self.table_at(path).is_some()
    }

    /// The keys of the table at `path`, in the order they appear in the file.
    pub fn keys(&self, path: &[Seg]) -> Vec<String> {
        let Some(table) = self.table_at(path) else {
            return Vec::new();
        };
        let mut keys: Vec<(usize, String)> = table
            .iter()
            .map(|(k, _)| (k.span().start, k.get_ref().to_string()))
            .collect();
        keys.sort();
        keys.into_iter().map(|(_, k)| k).collect()
    }

    fn table_at(&self, path: &[Seg]) -> Option<&DeTable<'i>> {
        let mut table = self.0.get_ref();
        let mut value: Option<&DeValue<'i>> = None;
        for seg in path {
            value = match (seg, value) {
                (Seg::Key(k), None) => Some(find(table, k)?),
                (Seg::Key(k), Some(DeValue::Table(t))) => Some(find(t, k)?),
                (Seg::Index(i), Some(DeValue::Array(items))) => Some(items.get(*i)?.get_ref()),
                _ => None,
            };
            if let Some(DeValue::Table(t)) = value {
                table = t;
            }
        }
        match value {
            None => Some(table),
            Some(DeValue::Table(t)) => Some(t),
            Some(_) => None,
        }
    }

    /// The deepest key path whose key or value contains `offset`.
    pub fn path_at(&self, offset: usize) -> Vec<Seg> {
        let mut path = Vec::new();
        walk_table(self.0.get_ref(), offset, &mut path);
        path
    }
}

fn find<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a DeValue<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v.get_ref())
}

/// Pushes the key path containing `offset` onto `path`; false when none does. Tables defined by
/// a `[header]` span only their header, so every child is searched, not just the spans around.
fn walk_table(table: &DeTable<'_>, offset: usize, path: &mut Vec<Seg>) -> bool {
    for (key, value) in table.iter() {
        path.push(Seg::Key(key.get_ref().to_string()));
        if walk_value(value.get_ref(), offset, path)
            || contains(key.span(), offset)
            || contains(value.span(), offset)
        {
            return true;
        }
        path.pop();
    }
    false
}

fn walk_value(value: &DeValue<'_>, offset: usize, path: &mut Vec<Seg>) -> bool {
    match value {
        DeValue::Table(t) => walk_table(t, offset, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(Seg::Index(i));
            let found = walk_value(item.get_ref(), offset, path) || contains(item.span(), offset);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

fn contains(r: Range<usize>, offset: usize) -> bool {
    r.start <= offset && offset < r.end.max(r.start + 1)
}

/// The closest of `candidates` to a misspelt `word`, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name = \"a\"\n[resources]\nmemory = \"1x\"\n[[mounts]]\ntype = \"tmpfs\"\n[[mounts]]\ntarget = \"/x\"\n";

    #[test]
    fn line_and_column() {
        assert_eq!(line_col(DOC, 0), (1, 1));
        assert_eq!(line_col(DOC, DOC.find("memory").unwrap()), (3, 1));
    }

    #[test]
    fn finds_keys_and_paths() {
        let spans = Spans::parse(DOC).unwrap();
        let memory = [Seg::Key("resources".into()), Seg::Key("memory".into())];
        let span = spans.key_span(&memory).unwrap();
        assert_eq!(&DOC[span.clone()], "memory");
        assert_eq!(spans.path_at(span.start + 10), memory);
        let target = [
            Seg::Key("mounts".into()),
            Seg::Index(1),
            Seg::Key("target".into()),
        ];
        let span = spans.key_span(&target).unwrap();
        assert_eq!(line_col(DOC, span.start), (7, 1));
        assert_eq!(render(&target), "mounts[1].target");
        let env = [Seg::Key("env".into()), Seg::Key("A=B".into())];
        assert_eq!(render(&env), "env.\"A=B\"");
        assert_eq!(
            render(&[Seg::Key("env".into()), Seg::Key("".into())]),
            "env.\"\""
        );
    }

    #[test]
    fn suggests_close_names_only() {
        let keys = ["name", "command", "rootfs", "hostname"];
        assert_eq!(suggest("comand", keys), Some("command"));
        assert_eq!(suggest("hostnme", keys), Some("hostname"));
        assert_eq!(suggest("banana", keys), None);
    }
}
