//! Generate the shipped index `data/popular.idx.gz` from the popularity TSVs.
//!
//! `cargo run -p sluice-names --example gen_index -- POPULAR_PYPI.tsv POPULAR_NPM.tsv OUT`
//! (`sluice names update --pypi … --npm … --index OUT` does the same.)

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pypi, npm, out] = args.as_slice() else {
        return Err("usage: gen_index POPULAR_PYPI.tsv POPULAR_NPM.tsv OUT".into());
    };
    let open = |p: &str| std::fs::File::open(p).map(std::io::BufReader::new);
    let (pypi, bad_p) =
        sluice_names::PopularData::read_tsv(sluice_model::Ecosystem::PyPI, open(pypi)?)?;
    let (npm, bad_n) =
        sluice_names::PopularData::read_tsv(sluice_model::Ecosystem::Npm, open(npm)?)?;
    for b in bad_p.iter().chain(&bad_n) {
        eprintln!("skipped line {}: {}", b.line, b.reason);
    }
    let data = sluice_names::PopularData { pypi, npm };
    data.write_compact(std::fs::File::create(out)?)?;
    eprintln!(
        "wrote {} PyPI and {} npm names",
        data.pypi.len(),
        data.npm.len()
    );
    Ok(())
}
