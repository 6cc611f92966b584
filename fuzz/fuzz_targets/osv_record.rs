//! Arbitrary bytes as one OSV file through `sluice_intel::osv::check_record`,
//! and, when it is accepted, its matcher data compiled and asked about a
//! few versions. Any answer is fine; a panic or hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_model::Ecosystem;

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = sluice_intel::osv::check_record("fuzz.json", data) else {
        return;
    };
    for p in &rec.row.packages {
        let Ok(eco) = p.ecosystem.parse::<Ecosystem>() else {
            continue;
        };
        let hit = sluice_store::IntelPackageHit {
            record_id: rec.row.id.clone(),
            summary: rec.row.summary.clone(),
            ecosystem: p.ecosystem.clone(),
            name: p.name.clone(),
            matcher: p.matcher.clone(),
        };
        // Checked records always compile.
        let pkg = sluice_intel::PackageIntel::from_hits(eco, &[hit]).expect("checked record compiles");
        for v in ["0", "1.0.0", "1.0", "2.0.0-rc.1", "1!2.0.post1", "not a version"] {
            let _ = pkg.matches(v);
        }
        let _ = pkg.whole_package();
    }
});
