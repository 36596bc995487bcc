//! `orchestrator`: the program behind `make compare`. All of it lives in the library; see cli/.

fn main() -> std::process::ExitCode {
    orchestrator::cli::main()
}
