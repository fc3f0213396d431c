//! `urna verify`'s human report: renders the verifier's findings, nothing more
//! (specs/verifier.md §5; `--json` prints the report itself).

use urna_verifier::Report;

/// The first lines: the verdict, exactly what was verified (how many entries, under whose
/// cosignatures, whether the Result is among them), the failure and the warnings.
pub fn summary(r: &Report) -> String {
    let mut s = format!(
        "{}: the log's first {} entries",
        if r.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        },
        r.size
    );
    if let Some(w) = &r.witnesses {
        if w.cosigners.is_empty() {
            s.push_str(", under a checkpoint no witness of the manifest cosigned");
        } else {
            s.push_str(&format!(
                ", under a checkpoint cosigned by {} ({} of {} needed)",
                w.cosigners.join(", "),
                w.quorum,
                w.named
            ));
        }
    }
    s.push('\n');
    let phase = r
        .phase
        .map_or("unknown".to_string(), |p| format!("{p:?}").to_lowercase());
    s.push_str(&if r.includes_result {
        "the Result is included: the election is finished\n".to_string()
    } else {
        format!("the Result is not included (phase {phase})\n")
    });
    if let Some(latest) = r.latest_size.filter(|l| *l > r.size) {
        s.push_str(&format!(
            "the board's latest checkpoint has {latest} entries: the last {} are not yet cosigned and were not verified\n",
            latest - r.size
        ));
    }
    if let Some(f) = &r.failure {
        s.push_str(&format!("failure: {}: {}\n", f.title, f.detail));
    }
    for w in &r.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    if let (Some(key), Some(source)) = (&r.board_key, r.key_source) {
        s.push_str(&format!("board key {key} ({})\n", source.describe()));
    }
    s
}

/// The rest: counts, the result table, every check, and the verdict again.
pub fn body(r: &Report) -> String {
    let mut s = format!(
        "election {}{}\n{} entries:",
        r.election_id,
        r.title
            .as_ref()
            .map(|t| format!(" — {t}"))
            .unwrap_or_default(),
        r.size
    );
    for (k, n) in &r.entries_by_kind {
        s.push_str(&format!(" {k} {n};"));
    }
    s.push('\n');
    if let Some(c) = &r.counts {
        s.push_str(&format!(
            "ballots: {} cast, {} counted, {} superseded, {} challenged; {} voters on the roll\n",
            c.ballots, c.counted, c.superseded, c.challenged, c.voters
        ));
    }
    for c in &r.challenged {
        s.push_str(&format!("  challenged: {c}\n"));
    }
    if let (Some(res), Some(m)) = (&r.result, &r.manifest) {
        s.push_str(&urna_verifier::result_table(m, res, &r.ranked));
    }
    for f in &r.findings {
        let title = match &f.field {
            Some(field) if f.code == urna_verifier::Check::VoterReceipt => {
                format!("{} ({field})", f.title)
            }
            _ => f.title.to_string(),
        };
        s.push_str(&format!(
            "{} {title} — {}\n",
            if f.ok { "✓" } else { "✗" },
            f.detail
        ));
    }
    s.push_str(if r.verified {
        "VERIFIED\n"
    } else {
        "NOT VERIFIED\n"
    });
    s
}
