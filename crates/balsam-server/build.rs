//! With the `embed-web` feature the web client's build, `web/dist`, is compiled into the
//! binary (`src/http/spa.rs`). Fail early with what to run when it has not been built, and
//! rebuild when it changes (a new build has new hashed file names).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_EMBED_WEB").is_none() {
        return;
    }
    // crates/balsam-server → the repository root.
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir.ancestors().nth(2).unwrap_or(&manifest_dir);
    let dist = root.join("web").join("dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        eprintln!(
            "\nerror: the `embed-web` feature embeds the built web client, and {} has no \
             index.html.\n\
             Build the web client first, from the repository root:\n\
             \n    make web\n\
             \nor, without make:\n\
             \n    npm --prefix web ci && npm --prefix web run build\n\
             \n(`make release` does both steps and builds the single-file server.)\n",
            dist.display()
        );
        std::process::exit(1);
    }
}
