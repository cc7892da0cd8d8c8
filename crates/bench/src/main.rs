//! `graphsync-bench`: what `cargo xtask bench` runs.
//!
//! - `graphsync-bench run [--quick] [--only NAME] [--graphsync PATH]`: every
//!   benchmark (or one: pipeline, token, batch, bulk_rss, cold_start),
//!   one JSON object per line on stdout. Ratios compare with a raw hyper
//!   client measured in the same run, in alternating rounds.
//! - `graphsync-bench responder`: the loopback responder (a process of its
//!   own, one thread).
//! - `graphsync-bench bulk-rss --port P --jobs N`: a bulk start of N jobs in
//!   a fresh process, reporting its peak resident memory.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod measure;
mod responder;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("responder") => responder::run().map_err(|e| e.to_string()),
        Some("bulk-rss") => measure::bulk_rss_child(&args[1..]),
        Some("run") => measure::run(&args[1..]),
        _ => Err("usage: graphsync-bench run [--quick] [--graphsync PATH] | responder | bulk-rss --port P --jobs N".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
