//! The `logfunnel-collector` binary: all of it is [`logfunnel_collector::cli::main_with_args`].

fn main() {
    std::process::exit(logfunnel_collector::cli::main_with_args(std::env::args_os()));
}
