//! `cargo run --release -p sluice-names --example bench` — speed figures.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let r = sluice_names::bench::run(20_000, 100_000)?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        for l in s
            .lines()
            .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        {
            println!("{l}");
        }
    }
    Ok(())
}
