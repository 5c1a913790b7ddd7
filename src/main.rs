//! The `leadmarket` command: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    leadmarket::cli::main()
}
