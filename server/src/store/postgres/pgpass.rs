//! The database password, found as libpq finds it when the URL holds none: the config file's
//! `store_password` (as a connection parameter would be), then `PGPASSWORD`, then the first
//! matching line of the password file (`PGPASSFILE`, or `~/.pgpass`):
//! `hostname:port:database:username:password`, `*` matching anything, `\` escaping `:` and
//! `\`, lines starting with `#` ignored.

use std::path::PathBuf;

use zeroize::Zeroizing;

/// What a password file line is matched against.
pub(super) struct Target<'a> {
    pub(super) host: &'a str,
    pub(super) port: u16,
    pub(super) database: &'a str,
    pub(super) user: &'a str,
}

/// The password for `target`, if any source gives one.
pub(super) fn find(configured: Option<&[u8]>, target: &Target<'_>) -> Option<Zeroizing<Vec<u8>>> {
    if let Some(password) = configured {
        return Some(Zeroizing::new(password.to_vec()));
    }
    if let Some(password) = std::env::var_os("PGPASSWORD") {
        return Some(Zeroizing::new(password.into_encoded_bytes()));
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
    let text = Zeroizing::new(std::fs::read_to_string(file).ok()?);
    lookup(&text, target)
}

/// The password of the first line of `text` that matches `target`.
pub(super) fn lookup(text: &str, target: &Target<'_>) -> Option<Zeroizing<Vec<u8>>> {
    let port = target.port.to_string();
    let wanted = [target.host, port.as_str(), target.database, target.user];
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = split(line);
            let [host, port, database, user, password] = fields.as_slice() else {
                return None;
            };
            let matches = [host, port, database, user]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field.as_str() == "*" || field.as_str() == want);
            matches.then(|| Zeroizing::new(password.as_bytes().to_vec()))
        })
}

/// The fields of a line, `\:` and `\\` unescaped.
fn split(line: &str) -> Vec<Zeroizing<String>> {
    let mut fields = vec![Zeroizing::new(String::new())];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(Zeroizing::new(String::new())),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::{Target, lookup};

    const TARGET: Target<'static> = Target {
        host: "db.internal",
        port: 5432,
        database: "candor",
        user: "relay",
    };

    #[test]
    fn the_first_matching_line_gives_the_password() {
        // Arrange
        let text = "# a comment\n\
                    other:5432:candor:relay:wrong\n\
                    db.internal:5432:*:relay:s3cr\\:et\\\\\n\
                    *:*:*:*:fallback\n";

        // Act
        let found = lookup(text, &TARGET);

        // Assert
        assert_eq!(found.as_deref().map(Vec::as_slice), Some(&b"s3cr:et\\"[..]));
    }

    #[test]
    fn no_matching_line_gives_none() {
        // Arrange
        let text = "db.internal:5433:candor:relay:other-port\nmalformed line\n";

        // Act
        let found = lookup(text, &TARGET);

        // Assert
        assert!(found.is_none());
    }
}
