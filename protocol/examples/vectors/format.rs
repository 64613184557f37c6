//! The Wycheproof layout every vector file shares, and a printer that writes it the same way on
//! every machine: fields in the order they were added (so no map's ordering, which a cargo
//! feature can change, decides the bytes), two-space indentation, one newline at the end.

use serde_json::Value;

/// The schema name every file carries, for readers to check.
pub const SCHEMA: &str = "candor_vectors_v1";

/// What an implementation must do with a case.
#[derive(Clone, Copy)]
pub enum Expect {
    /// Accept it, and produce the outputs the case lists.
    Valid,
    /// Refuse it, for the rule its flags name.
    Invalid,
}

/// One test case: its comment, expectation, flags and fields.
pub struct Case {
    comment: String,
    expect: Expect,
    flags: Vec<&'static str>,
    fields: Vec<(&'static str, Value)>,
}

impl Case {
    /// A case to accept.
    pub fn valid(comment: impl Into<String>) -> Self {
        Self {
            comment: comment.into(),
            expect: Expect::Valid,
            flags: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// A case to refuse, for the rule `flag` names (a key of the file's `notes`).
    pub fn invalid(comment: impl Into<String>, flag: &'static str) -> Self {
        Self {
            comment: comment.into(),
            expect: Expect::Invalid,
            flags: vec![flag],
            fields: Vec::new(),
        }
    }

    /// Adds a flag (to a valid case: a property it exercises).
    pub fn flag(mut self, flag: &'static str) -> Self {
        self.flags.push(flag);
        self
    }

    /// Adds a field.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Whether the case is to be accepted.
    pub fn is_valid(&self) -> bool {
        matches!(self.expect, Expect::Valid)
    }
}

/// A group of cases that share inputs.
pub struct Group {
    kind: &'static str,
    fields: Vec<(&'static str, Value)>,
    tests: Vec<Case>,
}

impl Group {
    /// A group whose `type` is `kind`.
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            fields: Vec::new(),
            tests: Vec::new(),
        }
    }

    /// Adds a shared input.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Adds a case.
    pub fn case(mut self, case: Case) -> Self {
        self.tests.push(case);
        self
    }
}

/// One file of `docs/vectors/`.
pub struct VectorFile {
    /// The file name, such as `codename.json`.
    pub name: &'static str,
    algorithm: &'static str,
    header: Vec<&'static str>,
    notes: Vec<(&'static str, &'static str)>,
    groups: Vec<Group>,
}

impl VectorFile {
    /// A file for the object `algorithm`, described by the lines of `header`.
    pub fn new(name: &'static str, algorithm: &'static str, header: &[&'static str]) -> Self {
        Self {
            name,
            algorithm,
            header: header.to_vec(),
            notes: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Describes a flag: the rule a case with it breaks, or the property it exercises.
    pub fn note(mut self, flag: &'static str, description: &'static str) -> Self {
        self.notes.push((flag, description));
        self
    }

    /// Adds a group.
    pub fn group(mut self, group: Group) -> Self {
        self.groups.push(group);
        self
    }

    /// The file's text. Every flag a case uses must have a note.
    pub fn render(&self) -> String {
        let count = self.groups.iter().map(|g| g.tests.len()).sum::<usize>();
        let mut id = 0u64;
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let tests = g
                    .tests
                    .iter()
                    .map(|t| {
                        id += 1;
                        for flag in &t.flags {
                            assert!(
                                self.notes.iter().any(|(f, _)| f == flag),
                                "{}: flag {flag} has no note",
                                self.name
                            );
                        }
                        let mut fields = vec![
                            ("tcId", Node::from(id)),
                            ("comment", Node::from(t.comment.as_str())),
                            (
                                "flags",
                                Node::Arr(t.flags.iter().map(|f| Node::from(*f)).collect()),
                            ),
                            (
                                "result",
                                Node::from(if t.is_valid() { "valid" } else { "invalid" }),
                            ),
                        ];
                        fields.extend(t.fields.iter().map(|(k, v)| (*k, Node::Leaf(v.clone()))));
                        Node::Obj(fields)
                    })
                    .collect();
                let mut fields = vec![("type", Node::from(g.kind))];
                fields.extend(g.fields.iter().map(|(k, v)| (*k, Node::Leaf(v.clone()))));
                fields.push(("tests", Node::Arr(tests)));
                Node::Obj(fields)
            })
            .collect();
        let notes = self
            .notes
            .iter()
            .map(|(flag, description)| (*flag, Node::from(*description)))
            .collect();
        let file = Node::Obj(vec![
            ("algorithm", Node::from(self.algorithm)),
            ("schema", Node::from(SCHEMA)),
            ("numberOfTests", Node::from(count as u64)),
            (
                "header",
                Node::Arr(self.header.iter().map(|h| Node::from(*h)).collect()),
            ),
            ("notes", Node::Obj(notes)),
            ("testGroups", Node::Arr(groups)),
        ]);
        let mut out = String::new();
        file.write(0, &mut out);
        out.push('\n');
        out
    }
}

/// A JSON value whose objects keep the order their fields were given in.
enum Node {
    Obj(Vec<(&'static str, Node)>),
    Arr(Vec<Node>),
    Leaf(Value),
}

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::Leaf(Value::from(s))
    }
}

impl From<u64> for Node {
    fn from(n: u64) -> Self {
        Node::Leaf(Value::from(n))
    }
}

impl Node {
    fn write(&self, indent: usize, out: &mut String) {
        match self {
            Node::Obj(fields) => {
                let entries: Vec<(String, &Node)> =
                    fields.iter().map(|(k, v)| ((*k).to_owned(), v)).collect();
                write_object(&entries, indent, out, |v, i, o| v.write(i, o));
            }
            Node::Arr(items) => write_array(items, indent, out, |v, i, o| v.write(i, o)),
            Node::Leaf(value) => write_value(value, indent, out),
        }
    }
}

/// Writes a value with objects' keys sorted, whatever order the map keeps them in.
fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, &Value)> =
                map.iter().map(|(k, v)| (k.clone(), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            write_object(&entries, indent, out, |v, i, o| write_value(v, i, o));
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            write_array(items, indent, out, write_value);
        }
        // Scalars, and arrays of scalars on one line.
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

fn write_object<T>(
    entries: &[(String, T)],
    indent: usize,
    out: &mut String,
    write: impl Fn(&T, usize, &mut String),
) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (key, value)) in entries.iter().enumerate() {
        push_indent(indent + 1, out);
        out.push_str(&serde_json::to_string(key).unwrap());
        out.push_str(": ");
        write(value, indent + 1, out);
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    push_indent(indent, out);
    out.push('}');
}

fn write_array<T>(
    items: &[T],
    indent: usize,
    out: &mut String,
    write: impl Fn(&T, usize, &mut String),
) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push_str("[\n");
    for (i, item) in items.iter().enumerate() {
        push_indent(indent + 1, out);
        write(item, indent + 1, out);
        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
    }
    push_indent(indent, out);
    out.push(']');
}

fn push_indent(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}
