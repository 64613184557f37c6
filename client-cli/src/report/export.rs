//! The office's own copy of its tallies: `candor report --export FILE` and `--import FILE`.
//!
//! The file is JSON Lines: a header `{"format":"candor-tallies","v":1,"office":"<id>"}`, then
//! one `{"sealed":"<base64url>"}` per tally, each still sealed under the records key as the
//! relay kept it. So the file is encrypted without a passphrase of its own: whoever holds the
//! office's records key (its keystore and bundles) reads it, nobody else. It is written and read
//! a line at a time.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use candor_protocol::OfficeId;
use candor_protocol::encoding::b64_vec;
use serde::{Deserialize, Serialize};

const FORMAT: &str = "candor-tallies";
const VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    v: u64,
    office: OfficeId,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(with = "b64_vec")]
    sealed: Vec<u8>,
}

/// Writes an export of `office` to `path`, taking each sealed tally from `fill`, which calls
/// the writer it is given once per tally. Returns how many were written.
pub fn write(
    path: &Path,
    office: &OfficeId,
    fill: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<()>,
) -> Result<u64> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let what = || format!("could not write the export {}", path.display());
    let tmp = tempfile::NamedTempFile::new_in(dir).with_context(what)?;
    let mut out = BufWriter::new(tmp);
    let header = Header {
        format: FORMAT.to_owned(),
        v: VERSION,
        office: office.clone(),
    };
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n").with_context(what)?;
    let mut n = 0u64;
    fill(&mut |sealed| {
        serde_json::to_writer(&mut out, &Line { sealed })?;
        out.write_all(b"\n")?;
        n += 1;
        Ok(())
    })?;
    let tmp = out
        .into_inner()
        .map_err(|e| anyhow!("{}: {}", what(), e.error()))?;
    tmp.as_file().sync_all().with_context(what)?;
    tmp.persist(path).map_err(|e| e.error).with_context(what)?;
    Ok(n)
}

/// Reads an export of `office` from `path`, handing each sealed tally to `each`.
pub fn read(path: &Path, office: &OfficeId, mut each: impl FnMut(Vec<u8>)) -> Result<()> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not read the export {}", path.display()))?;
    let mut lines = BufReader::new(file).lines();
    let damaged = |n: usize| format!("the export {} is damaged at line {n}", path.display());
    let first = lines
        .next()
        .ok_or_else(|| anyhow!("the export {} is empty", path.display()))?
        .with_context(|| damaged(1))?;
    let header: Header = serde_json::from_str(&first).with_context(|| {
        format!(
            "{} is not an export of tallies (made by `candor report --export FILE`)",
            path.display()
        )
    })?;
    if header.format != FORMAT || header.v != VERSION {
        bail!(
            "{} is an export of format {} version {}, which this candor does not read",
            path.display(),
            header.format,
            header.v
        );
    }
    if &header.office != office {
        bail!(
            "{} holds the tallies of office {}, not of this office ({office}); report with that \
             office's home (--home or CANDOR_HOME)",
            path.display(),
            header.office
        );
    }
    for (i, line) in lines.enumerate() {
        let line = line.with_context(|| damaged(i + 2))?;
        if line.is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&line).with_context(|| damaged(i + 2))?;
        each(line.sealed);
    }
    Ok(())
}
