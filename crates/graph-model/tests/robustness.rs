//! Property tests over generated input, run in CI: ids always stay one path
//! segment, and no parser panics on arbitrary bytes or on mutations of real
//! documents. (The cargo-fuzz targets in `fuzz/` explore the same parsers
//! with coverage guidance.)

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use graph_model::{
    GraphErrorResponse, IsoDuration, JobOwner, JobRef, Page, ProvisionOnDemandResult, RestartScope,
    StringKeyStringValuePair, SynchronizationJob, SynchronizationSchema, SynchronizationTemplate,
    parse_timestamp,
};

/// xorshift64*: deterministic, so a failure can be replayed from its case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A string biased towards the characters that break URLs.
    fn hostile_string(&mut self) -> String {
        const SPICY: &[&str] = &[
            "/", "?", "#", "%", "%2F", "%2e", ".", "..", "'", "''", "(", ")", "=", "&", " ", "\\",
            "\u{0}", "\n", "\r", "é", "ß", "😀", "\u{202e}", "+", ";", ":", "@", "[", "]", "~",
        ];
        let len = self.below(12);
        let mut s = String::new();
        for _ in 0..len {
            if self.below(3) == 0 {
                s.push(char::from(b'a' + self.below(26) as u8));
            } else {
                s.push_str(SPICY[self.below(SPICY.len())]);
            }
        }
        s
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const CASES: u64 = 20_000;

#[test]
fn every_id_becomes_exactly_one_path_segment() {
    let mut rng = Rng(0x05EE_D1D5);
    let mut checked = 0;
    for case in 0..CASES {
        let sp = rng.hostile_string();
        let job_id = rng.hostile_string();
        for owner in [
            JobOwner::service_principal(sp.clone()),
            JobOwner::application(sp.clone()),
            JobOwner::service_principal_app_id(sp.clone()),
        ] {
            let (Ok(owner), Ok(job)) = (
                owner.clone(),
                owner.and_then(|o| JobRef::new(o, job_id.clone())),
            ) else {
                // Refused ids are empty, blank or dot segments, nothing else.
                let refused = |id: &str| {
                    let d = percent_encoding::percent_decode_str(id)
                        .decode_utf8_lossy()
                        .into_owned();
                    id.trim().is_empty() || d == "." || d == ".."
                };
                assert!(
                    refused(&sp) || refused(&job_id),
                    "case {case}: {sp:?} / {job_id:?} refused"
                );
                continue;
            };
            let path = job.path();
            // Nothing that ends or restructures a path survives unescaped.
            assert!(!path.contains(['?', '#', ' ', '\\']), "case {case}: {path}");
            let url = url::Url::parse(&format!("https://graph.microsoft.com/v1.0{path}")).unwrap();
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            let expected = if matches!(owner, JobOwner::ServicePrincipalAppId(_)) {
                5
            } else {
                6
            };
            assert_eq!(segments.len(), expected, "case {case}: {path}");
            // The job id decodes back to exactly what was given.
            let last = percent_encoding::percent_decode_str(segments[expected - 1])
                .decode_utf8()
                .unwrap();
            assert_eq!(last, job_id, "case {case}");
            if let JobOwner::ServicePrincipalAppId(app_id) = &owner {
                let key = percent_encoding::percent_decode_str(segments[1])
                    .decode_utf8()
                    .unwrap();
                let inner = key
                    .strip_prefix("servicePrincipals(appId='")
                    .unwrap()
                    .strip_suffix("')")
                    .unwrap();
                assert_eq!(
                    inner.replace("''", "'"),
                    *app_id,
                    "case {case}: quotes doubled"
                );
                assert!(!inner.replace("''", "").contains('\''), "case {case}");
            }
            checked += 1;
        }
    }
    assert!(
        checked > CASES as usize,
        "most cases were valid ids: {checked}"
    );
}

#[test]
fn dot_segments_are_refused_in_every_spelling() {
    for id in [".", "..", "%2e", "%2E%2e", ".%2E", "%2e.", "", "  "] {
        assert!(JobRef::service_principal("sp", id).is_err(), "{id:?}");
        assert!(JobOwner::application(id).is_err(), "{id:?}");
    }
    for ok in ["...", ".a", "a.", "%2e%2e%2e", "%2", "%zz"] {
        assert!(JobRef::service_principal("sp", ok).is_ok(), "{ok:?}");
    }
}

/// Every parser, fed `bytes`; none may panic.
fn parse_everything(bytes: &[u8]) {
    let _ = serde_json::from_slice::<SynchronizationJob>(bytes);
    let _ = serde_json::from_slice::<Page<SynchronizationJob>>(bytes);
    let _ = serde_json::from_slice::<SynchronizationSchema>(bytes);
    let _ = serde_json::from_slice::<SynchronizationTemplate>(bytes);
    let _ = serde_json::from_slice::<Page<SynchronizationTemplate>>(bytes);
    let _ = GraphErrorResponse::from_slice(bytes);
    if let Ok(pair) = serde_json::from_slice::<StringKeyStringValuePair>(bytes) {
        let _ = ProvisionOnDemandResult::from_pair(pair);
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = ProvisionOnDemandResult::from_pair(StringKeyStringValuePair::new(
        text.as_ref(),
        text.as_ref(),
    ));
    let _ = text.parse::<IsoDuration>();
    let _ = text.parse::<RestartScope>();
    let _ = parse_timestamp(&text);
}

#[test]
fn what_parses_round_trips() {
    let mut rng = Rng(0x7E57);
    let pieces = [
        "P",
        "T",
        "1",
        "2.5",
        "D",
        "H",
        "M",
        "S",
        "Full",
        "None",
        ",",
        " ",
        "Watermark",
        "x",
        "-",
    ];
    for _ in 0..CASES {
        let text: String = (0..rng.below(8))
            .map(|_| pieces[rng.below(pieces.len())])
            .collect();
        if let Ok(d) = text.parse::<IsoDuration>() {
            assert_eq!(d.as_str(), text, "durations keep their text");
        }
        let scope: RestartScope = text.parse().unwrap_or_default();
        let again: RestartScope = scope.to_string().parse().unwrap_or_default();
        assert_eq!(scope, again, "{text:?}");
    }
}

#[test]
fn parsers_never_panic_on_arbitrary_bytes() {
    let mut rng = Rng(0xB17E5);
    for _ in 0..CASES {
        let bytes = rng.bytes(64);
        parse_everything(&bytes);
    }
}

#[test]
fn parsers_never_panic_on_mutated_documents() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let docs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!docs.is_empty());
    let mut rng = Rng(0xD0C5);
    // Tokens that make a value present but wrong, or change its type.
    const SPLICE: &[&[u8]] = &[
        b"\"\"",
        b"null",
        b"{}",
        b"[]",
        b"-1",
        b"1e999",
        b"9223372036854775808",
        b"\"P\"",
        b"\"PT\"",
        b"\"0001-01-01T00:00:00Z\"",
        b"\"Full, Bogus\"",
        b"true",
        b"\"\\u0000\"",
    ];
    let mut runs = 0;
    for case in 0..CASES {
        let mut doc = docs[rng.below(docs.len())].clone();
        for _ in 0..1 + rng.below(4) {
            if doc.is_empty() {
                break;
            }
            let at = rng.below(doc.len());
            match rng.below(4) {
                0 => doc[at] = rng.next() as u8,
                1 => {
                    doc.truncate(at);
                }
                2 => {
                    let end = (at + rng.below(16)).min(doc.len());
                    doc.splice(at..end, SPLICE[rng.below(SPLICE.len())].iter().copied());
                }
                _ => {
                    doc.remove(at);
                }
            }
        }
        let outcome = std::panic::catch_unwind(|| parse_everything(&doc));
        assert!(
            outcome.is_ok(),
            "case {case} panicked: {}",
            String::from_utf8_lossy(&doc)
        );
        runs += 1;
    }
    println!("{runs} mutated documents parsed without a panic");
}
