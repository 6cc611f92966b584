//! Real-world false-positive estimate: build the engine from the top part of
//! each popularity list and check the remaining (legitimate, less popular)
//! names against it, as if they were unknown.
//! `cargo run --release -p sluice-names --example holdout_fp`

use sluice_model::PackageName;
use sluice_names::{Engine, NameVerdict, PopularData, verdict_of};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Engine::builtin_data()?;
    let split = |v: &Vec<sluice_names::Popular>| {
        let k = v.len() * 2 / 3;
        (v[..k].to_vec(), v[k..].to_vec())
    };
    let (pt, ph) = split(&data.pypi);
    let (nt, nh) = split(&data.npm);
    let engine = Engine::from_data(&PopularData { pypi: pt, npm: nt });
    for (label, eco, held) in [
        ("pypi", sluice_model::Ecosystem::PyPI, ph),
        ("npm", sluice_model::Ecosystem::Npm, nh),
    ] {
        let names: Vec<PackageName> = held
            .iter()
            .filter_map(|p| PackageName::parse(eco, &p.name).ok())
            .collect();
        let res = engine.check_many(&names);
        let flagged = res
            .iter()
            .filter(|m| verdict_of(m) != NameVerdict::Ok)
            .count();
        let squat = res
            .iter()
            .filter(|m| verdict_of(m) == NameVerdict::Squat)
            .count();
        if std::env::args().any(|a| a == "-v") {
            let mut by_class = std::collections::BTreeMap::<String, usize>::new();
            for (n, m) in names.iter().zip(&res) {
                if verdict_of(m) != NameVerdict::Ok {
                    *by_class.entry(m[0].class.to_string()).or_default() += 1;
                    println!(
                        "  {n} -> {} ({}, {:.2})",
                        m[0].target, m[0].class, m[0].score
                    );
                }
            }
            println!("  {by_class:?}");
        }
        println!(
            "{label}: {} held-out popular names, {:.1}% flagged ({:.1}% squat level)",
            names.len(),
            100.0 * flagged as f64 / names.len() as f64,
            100.0 * squat as f64 / names.len() as f64
        );
    }
    Ok(())
}
