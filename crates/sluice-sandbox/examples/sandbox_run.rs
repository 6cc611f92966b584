//! Run one input through the sandbox and print the text report:
//! `cargo run -p sluice-sandbox --example sandbox_run -- FILE [--execute]`.
//! `SLUICE_SANDBOX_PYTHON` picks the interpreter (to try pip's wheel path).

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: sandbox_run FILE [--execute]");
        std::process::exit(2);
    };
    let execute = args.any(|a| a == "--execute");
    let opts = sluice_sandbox::SandboxOptions {
        execute,
        python: std::env::var_os("SLUICE_SANDBOX_PYTHON").map(Into::into),
        ..sluice_sandbox::SandboxOptions::default()
    };
    match sluice_sandbox::run(std::path::Path::new(&path), &opts) {
        Ok(r) => {
            print!("{}", sluice_sandbox::render_text(&r));
            if std::env::var_os("SLUICE_SANDBOX_DEBUG").is_some() {
                for p in &r.phases {
                    println!(
                        "--- {} stdout\n{}\n--- stderr\n{}",
                        p.phase.as_str(),
                        p.stdout_tail,
                        p.stderr_tail
                    );
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
