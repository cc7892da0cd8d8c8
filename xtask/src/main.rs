//! Maintainer tasks: `cargo xtask ci` runs every gate CI runs;
//! `cargo xtask codegen` regenerates graph-model's generated modules from
//! `spec/`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod codegen;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci                codegen --check, cargo fmt --check, cargo clippy (all targets
                    and features, -D warnings), cargo test --workspace (unit,
                    integration and doc tests), cargo doc (no warnings)
  codegen           regenerate crates/graph-model/src/generated from spec/
  codegen --check   fail if a generated file differs from what spec/ gives
  soak [ARGS]       start and pause 1,000 emulator jobs 10,000 times under
                    20% injected faults; prints one JSON line; fails when a
                    call was lost or an action doubled (ARGS: --jobs N
                    --calls N --concurrency N --fault-rate R --seed N
                    --max-seconds N)
  test              cargo test --workspace only
  bench [ARGS]      build in release and measure graphsync's pipeline against
                    a raw hyper client on loopback, in one run; one JSON line
                    per figure (ARGS: --quick for a short smoke run, --only
                    pipeline|token|batch|bulk_rss|cold_start)

ci also runs a small soak (100 jobs, 2,000 calls) and cargo package
--workspace (each crate packed and built from its package).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: Vec<(&str, Vec<&str>)> = match args.first().map(String::as_str) {
        Some("codegen") => {
            return match args.get(1).map(String::as_str) {
                None => codegen_write(),
                Some("--check") => codegen_check(),
                Some(_) => {
                    eprintln!("{USAGE}");
                    ExitCode::from(2)
                }
            };
        }
        Some("bench") => return bench(&args[1..]),
        Some("soak") => {
            let mut soak = vec!["run", "--quiet", "--package", "graphsync-soak", "--"];
            soak.extend(args[1..].iter().map(String::as_str));
            return run_steps(vec![("soak", soak)]);
        }
        Some("ci") => {
            if codegen_check() != ExitCode::SUCCESS {
                return ExitCode::FAILURE;
            }
            vec![
                ("format", vec!["fmt", "--all", "--", "--check"]),
                (
                    "lint",
                    vec![
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--all-features",
                        "--",
                        "-D",
                        "warnings",
                    ],
                ),
                ("test", test_args()),
                (
                    "docs",
                    vec!["doc", "--workspace", "--no-deps", "--all-features"],
                ),
                // Links must also hold when optional features are off.
                (
                    "docs (default features)",
                    vec!["doc", "--workspace", "--no-deps"],
                ),
                (
                    "soak",
                    vec![
                        "run",
                        "--quiet",
                        "--package",
                        "graphsync-soak",
                        "--",
                        "--jobs",
                        "100",
                        "--calls",
                        "2000",
                        "--max-seconds",
                        "300",
                    ],
                ),
                // Every crate packs and its package builds on its own, as
                // crates.io would build it (publish = false ones included).
                ("package", vec!["package", "--workspace", "--allow-dirty"]),
            ]
        }
        Some("test") => vec![("test", test_args())],
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    run_steps(steps)
}

/// Runs cargo once per step, stopping at the first failure.
fn run_steps(steps: Vec<(&str, Vec<&str>)>) -> ExitCode {
    let started = Instant::now();
    for (name, args) in steps {
        let step = Instant::now();
        let mut args = args;
        if name == "package" {
            forget_unpublished_extractions();
        }
        // In CI the lock file is the truth: fail rather than resolve anew.
        // The flag goes right after the subcommand, before any `--`.
        if std::env::var_os("CI").is_some() && name != "format" {
            args.insert(1, "--locked");
        }
        eprintln!("xtask: {name}: cargo {}", args.join(" "));
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(&args);
        if name.starts_with("docs") {
            cmd.env("RUSTDOCFLAGS", "-D warnings");
        }
        match cmd.status() {
            Ok(status) if status.success() => {
                eprintln!("xtask: {name}: ok in {:.1} s", step.elapsed().as_secs_f64());
            }
            Ok(status) => {
                eprintln!("xtask: {name} failed ({status})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("xtask: could not run cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!(
        "xtask: all gates passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// The workspace root: xtask lives one level below it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn codegen_write() -> ExitCode {
    match codegen::write(&root()) {
        Ok(written) if written.is_empty() => {
            eprintln!("xtask: codegen: generated files already match spec/");
            ExitCode::SUCCESS
        }
        Ok(written) => {
            for path in written {
                eprintln!("xtask: codegen: wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn codegen_check() -> ExitCode {
    match codegen::stale(&root()) {
        Ok(stale) if stale.is_empty() => {
            eprintln!("xtask: codegen: generated files match spec/");
            ExitCode::SUCCESS
        }
        Ok(stale) => {
            for path in stale {
                eprintln!(
                    "xtask: codegen: {} differs from what spec/ gives (edited by hand, or spec changed); run `cargo xtask codegen`",
                    path.display()
                );
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask: codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test_args() -> Vec<&'static str> {
    vec!["test", "--workspace", "--all-features"]
}

/// `cargo xtask bench`: a release build, then the benchmark binary, which
/// starts its own loopback responder and prints one JSON line per figure.
fn bench(args: &[String]) -> ExitCode {
    let build = vec![
        "build",
        "--release",
        "--package",
        "graphsync-bench",
        "--package",
        "graphsync",
    ];
    if run_steps(vec![("bench build", build)]) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("release");
    let exe = |name: &str| target.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    eprintln!("xtask: bench: measuring (a full run takes a few minutes)");
    let status = Command::new(exe("graphsync-bench"))
        .arg("run")
        .arg("--graphsync")
        .arg(exe("graphsync"))
        .args(args)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: could not run the benchmark: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo package --workspace` verifies each crate against the packages of
/// its unpublished siblings, which cargo unpacks under
/// `$CARGO_HOME/registry/src/-<hash>/<name>-<version>` and then reuses as
/// long as the version is unchanged, so a second run would check against
/// the sources of the first. The unpacked copies of this workspace's own
/// crates are removed first; nothing else is touched.
fn forget_unpublished_extractions() {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return;
    };
    let ours = [
        "graph-model",
        "graph-transport",
        "graph-auth",
        "sync-jobs",
        "sync-emulator",
        "graphsync",
    ];
    for registry in registries.flatten() {
        // Local overlay registries are named by a hash alone ("-<hash>");
        // crates.io's own ("index.crates.io-…") is left alone.
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_ours = ours.iter().any(|c| {
                name.strip_prefix(c)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|v| v.starts_with(|ch: char| ch.is_ascii_digit()))
            });
            if is_ours {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
