//! Build script: decides at compile time whether the integration tests' PostgreSQL twins
//! run. libtest cannot skip a test at run time, so without `TEST_DATABASE_URL` the twins
//! are compiled as `#[ignore]` (reported as ignored, with the reason) instead of passing
//! without having run.

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(leadmarket_pg_tests)");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=leadmarket_pg_tests");
    }
}
