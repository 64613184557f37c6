//! Writes Candor's test vectors, one Wycheproof-style JSON file per object, to `docs/vectors/`
//! (or to the directory given): `cargo run -p candor-protocol --example vectors [-- DIR]`.
//!
//! Every input, random ones included (HPKE `ikmE`, content keys, request IDs, challenge random
//! values), is fixed and written into the vectors, so the files are the same on every run; a
//! test fails when the committed files differ from what this writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

mod generate;

fn main() {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("create the vectors directory");
    for (name, text) in generate::files() {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a vector file");
        println!("wrote {}", path.display());
    }
}
