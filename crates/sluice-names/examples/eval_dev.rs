//! Print evaluation figures (and misses with `-v`) for a names-dev-shaped TSV.
//! `cargo run --release -p sluice-names --example eval_dev -- FILE.tsv [-v]`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: eval_dev FILE.tsv [-v]")?;
    let verbose = args.iter().any(|a| a == "-v");
    let engine = sluice_names::Engine::builtin();
    let r = std::io::BufReader::new(std::fs::File::open(path)?);
    let rep = sluice_names::eval::evaluate(engine, r)?;
    for (k, t) in rep.by_ecosystem.iter().chain(&rep.by_class) {
        println!(
            "{k:32} squats {:4} recall {:5.1}% (target ok {:4})  benign {:4} flagged {:5.1}%",
            t.squats,
            100.0 * t.recall(),
            t.target_agrees,
            t.benign,
            100.0 * t.fp_rate()
        );
    }
    if verbose {
        for r in &rep.rows {
            let flagged = r.verdict != sluice_names::NameVerdict::Ok;
            if (r.label == "squat") != flagged || args.iter().any(|a| a == "-a") {
                println!(
                    "MISS {} {} {} {} -> {:?} {:?}",
                    r.ecosystem, r.label, r.candidate, r.target, r.verdict, r.best
                );
            }
        }
    }
    for (l, e) in &rep.bad_lines {
        eprintln!("line {l}: {e}");
    }
    Ok(())
}
