//! The part of Go's text/template that `docker inspect --format` users type: `{{.A.B}}`,
//! `{{json .A}}`, `{{range .List}}...{{end}}`, `{{.}}` and string literals (`{{"\n"}}`).

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Node {
    Text(String),
    Literal(String),
    Field { json: bool, path: Vec<String> },
    Range { path: Vec<String>, body: Vec<Node> },
}

/// A parsed template.
#[derive(Debug)]
pub struct Template(Vec<Node>);

impl Template {
    pub fn parse(text: &str) -> Result<Template> {
        let mut actions = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                actions.push(Token::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| anyhow!("template: unclosed action {:?}", &rest[open..]))?;
            actions.push(Token::Action(after[..close].trim().to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            actions.push(Token::Text(rest.to_string()));
        }
        let mut tokens = actions.into_iter();
        let nodes = parse_nodes(&mut tokens, 0)?;
        Ok(Template(nodes))
    }

    /// Renders the template with `dot` as `.`.
    pub fn render(&self, dot: &Value) -> Result<String> {
        let mut out = String::new();
        render(&self.0, dot, &mut out)?;
        Ok(out)
    }
}

enum Token {
    Text(String),
    Action(String),
}

/// How deep `{{range}}`s nest at most. Parsing and rendering recurse once per level, so a
/// template of a million `{{range .}}` would overflow the stack; box's own JSON nests a few
/// levels, and nothing deeper than this could range over it.
const MAX_RANGE_DEPTH: usize = 100;

/// The nodes up to the `{{end}}` closing the `depth`-th enclosing range (the end of the
/// template at depth 0).
fn parse_nodes(tokens: &mut impl Iterator<Item = Token>, depth: usize) -> Result<Vec<Node>> {
    let in_range = depth > 0;
    let mut nodes = Vec::new();
    while let Some(token) = tokens.next() {
        let action = match token {
            Token::Text(t) => {
                nodes.push(Node::Text(t));
                continue;
            }
            Token::Action(a) => a,
        };
        let words: Vec<&str> = action.split_whitespace().collect();
        match words.as_slice() {
            ["end"] if in_range => return Ok(nodes),
            ["end"] => bail!("template: {{{{end}}}} without {{{{range}}}}"),
            ["range", path] => {
                let path = field_path(path)?;
                if depth == MAX_RANGE_DEPTH {
                    bail!("template: {{{{range}}}} nested deeper than {MAX_RANGE_DEPTH}");
                }
                let body = parse_nodes(tokens, depth + 1)?;
                nodes.push(Node::Range { path, body });
            }
            ["json", path] => nodes.push(Node::Field {
                json: true,
                path: field_path(path)?,
            }),
            [path] if path.starts_with('.') => nodes.push(Node::Field {
                json: false,
                path: field_path(path)?,
            }),
            _ if action.starts_with('"') && action.ends_with('"') && action.len() >= 2 => {
                let literal: String = serde_json::from_str(&action)
                    .map_err(|e| anyhow!("template: bad string {action}: {e}"))?;
                nodes.push(Node::Literal(literal));
            }
            _ => bail!(
                "template: unsupported action {{{{{action}}}}}: box knows .Field.Path, json, range/end and \"strings\""
            ),
        }
    }
    if in_range {
        bail!("template: {{{{range}}}} without {{{{end}}}}");
    }
    Ok(nodes)
}

fn field_path(text: &str) -> Result<Vec<String>> {
    let rest = text
        .strip_prefix('.')
        .ok_or_else(|| anyhow!("template: expected a field like .State.Pid, got {text:?}"))?;
    Ok(rest
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// The value at `path`; a key that is not there is an error, as Go's templates make it
/// for a map (`docker inspect --format '{{.Nope}}'`): a typo must not print a blank.
fn lookup<'a>(dot: &'a Value, path: &[String]) -> Result<&'a Value> {
    path.iter().enumerate().try_fold(dot, |v, (i, key)| {
        v.get(key.as_str()).ok_or_else(|| {
            anyhow!(
                "template: executing at <.{}>: {} has no field {key:?}",
                path[..=i].join("."),
                match i {
                    0 => ".".to_string(),
                    _ => format!(".{}", path[..i].join(".")),
                }
            )
        })
    })
}

fn render(nodes: &[Node], dot: &Value, out: &mut String) -> Result<()> {
    for node in nodes {
        match node {
            Node::Text(t) | Node::Literal(t) => out.push_str(t),
            Node::Field { json, path } => match (lookup(dot, path)?, json) {
                (v, true) => out.push_str(&serde_json::to_string(v)?),
                (v, false) => out.push_str(&plain(v)),
            },
            Node::Range { path, body } => match lookup(dot, path)? {
                Value::Array(items) => {
                    for item in items {
                        render(body, item, out)?;
                    }
                }
                Value::Object(map) => {
                    for item in map.values() {
                        render(body, item, out)?;
                    }
                }
                Value::Null => {}
                other => bail!("template: range over {other}, which is not a list"),
            },
        }
    }
    Ok(())
}

/// A value as Go prints it with `{{.X}}`: strings bare, composites as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v).unwrap()
    }

    #[test]
    fn fields_json_and_range() {
        let v = json!({"State": {"Pid": 42, "Status": "running"},
            "Namespaces": [{"Kind": "net", "Shared": false}, {"Kind": "uts", "Shared": true}]});
        assert_eq!(render("{{.State.Pid}}", &v), "42");
        assert_eq!(
            render("pid={{ .State.Pid }} {{.State.Status}}", &v),
            "pid=42 running"
        );
        assert_eq!(
            render("{{json .State}}", &v),
            r#"{"Pid":42,"Status":"running"}"#
        );
        assert_eq!(
            render(
                r#"{{range .Namespaces}}{{.Kind}}={{.Shared}}{{"\n"}}{{end}}"#,
                &v
            ),
            "net=false\nuts=true\n"
        );
        let t = Template::parse("{{.State.Nope}}").unwrap();
        assert_eq!(
            t.render(&v).unwrap_err().to_string(),
            "template: executing at <.State.Nope>: .State has no field \"Nope\""
        );
        let t = Template::parse("{{json .Nope}}").unwrap();
        assert!(t.render(&v).is_err());
    }

    #[test]
    fn ranges_nest_a_hundred_deep_and_no_deeper() {
        let nested = |n: usize| {
            format!(
                "{}{{{{.}}}}{}",
                "{{range .}}".repeat(n),
                "{{end}}".repeat(n)
            )
        };
        let mut doc = json!("leaf");
        for _ in 0..MAX_RANGE_DEPTH {
            doc = json!([doc]);
        }
        assert_eq!(render(&nested(MAX_RANGE_DEPTH), &doc), "leaf");
        let err = Template::parse(&nested(MAX_RANGE_DEPTH + 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: {{range}} nested deeper than 100"
        );
        // Far deeper than any stack: refused, not overflowed.
        assert!(Template::parse(&"{{range .}}".repeat(1_000_000)).is_err());
    }

    #[test]
    fn errors_are_named() {
        for bad in ["{{.A", "{{range .A}}x", "{{end}}", "{{index .A 1}}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
