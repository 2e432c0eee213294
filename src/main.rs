fn main() -> std::process::ExitCode {
    ses_doctor::run::main()
}
