//! Build script: decides at compile time which integration tests can run. libtest cannot
//! skip a test at run time, so a test whose outside dependency is missing is compiled as
//! `#[ignore]` (reported as ignored, with the reason) instead of passing without having run:
//! - `leadmarket_pg_tests`: the PostgreSQL twins, when `TEST_DATABASE_URL` is set;
//! - `leadmarket_browser_tests`: the headless-Chromium journeys (`tests/it/browser/`), when
//!   a chromedriver is found (`CHROMEDRIVER`, else `chromedriver` on `PATH`, else
//!   `/usr/bin/chromedriver`).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(leadmarket_pg_tests)");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=leadmarket_pg_tests");
    }

    println!("cargo::rerun-if-env-changed=CHROMEDRIVER");
    println!("cargo::rustc-check-cfg=cfg(leadmarket_browser_tests)");
    match chromedriver_candidates().into_iter().find(|p| p.is_file()) {
        Some(found) => {
            // Its removal reruns this script (and turns the tests back into ignored ones).
            println!("cargo::rerun-if-changed={}", found.display());
            println!("cargo::rustc-cfg=leadmarket_browser_tests");
            // The tests start this very binary, so a build and its run agree on it.
            println!(
                "cargo::rustc-env=LEADMARKET_CHROMEDRIVER={}",
                found.display()
            );
        }
        // `apt-get install chromium-driver` changes /usr/bin. A path that does not exist
        // would rerun this script, and so rebuild the crate, on every build: not tracked.
        None if Path::new("/usr/bin").is_dir() => println!("cargo::rerun-if-changed=/usr/bin"),
        None => {}
    }
}

/// Where chromedriver may be, in the order the tests look.
fn chromedriver_candidates() -> Vec<PathBuf> {
    if let Some(explicit) = std::env::var_os("CHROMEDRIVER").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(explicit)];
    }
    let mut out: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join("chromedriver"))
                .collect()
        })
        .unwrap_or_default();
    out.push(PathBuf::from("/usr/bin/chromedriver"));
    out.dedup();
    out
}
