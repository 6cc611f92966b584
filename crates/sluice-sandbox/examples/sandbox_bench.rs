//! Median install + import wall time per input:
//! `cargo run -p sluice-sandbox --example sandbox_bench -- [-n 3] FILE...`.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut n = 3usize;
    if args.first().is_some_and(|a| a == "-n") && args.len() > 1 {
        n = args[1].parse().unwrap_or(3);
        args.drain(..2);
    }
    let opts = sluice_sandbox::SandboxOptions::default();
    for path in &args {
        let mut ms: Vec<u64> = Vec::new();
        let mut findings = 0;
        for _ in 0..n {
            match sluice_sandbox::run(std::path::Path::new(path), &opts) {
                Ok(r) => {
                    ms.push(r.install_import_ms);
                    findings = r.findings.len();
                }
                Err(e) => eprintln!("{path}: {e}"),
            }
        }
        ms.sort_unstable();
        let median = ms.get(ms.len() / 2).copied().unwrap_or(0);
        println!(
            "{path}: install+import median {:.2} s over {} runs (all: {ms:?} ms), {findings} findings",
            median as f64 / 1000.0,
            ms.len()
        );
    }
}
