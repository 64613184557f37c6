//! The committed vectors in `docs/vectors/` are exactly what the generator writes
//! (`cargo run -p candor-protocol --example vectors`): this includes the generator's modules and
//! compares their output with the files, byte for byte, so that a change to the protocol that
//! changes a vector cannot land without the regenerated file, and a hand edit cannot land at all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

#[allow(dead_code)]
#[path = "../examples/vectors/generate.rs"]
mod generate;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors")
}

#[test]
fn the_committed_vectors_are_what_the_generator_writes() {
    // Arrange
    let generated = generate::files();

    // Act
    let stale: Vec<&str> = generated
        .iter()
        .filter(|(name, text)| {
            std::fs::read_to_string(vectors_dir().join(name))
                .ok()
                .as_deref()
                != Some(text)
        })
        .map(|(name, _)| *name)
        .collect();

    // Assert
    assert!(
        stale.is_empty(),
        "docs/vectors/{{{}}} differ from what the generator writes: run `cargo run -p \
         candor-protocol --example vectors` and commit the result",
        stale.join(",")
    );
}

#[test]
fn every_json_file_in_docs_vectors_is_generated() {
    let generated: BTreeSet<String> = generate::files()
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .collect();
    let committed: BTreeSet<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(committed, generated);
}

#[test]
fn the_generator_writes_the_same_bytes_twice() {
    assert_eq!(generate::files(), generate::files());
}
