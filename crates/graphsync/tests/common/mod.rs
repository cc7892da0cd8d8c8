//! A `graphsync emulator` child process for the CLI tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_graphsync");

/// A `graphsync emulator` child process, killed on drop.
pub(crate) struct EmulatorProcess {
    child: Child,
    pub(crate) info: Value,
}

impl EmulatorProcess {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// `graphsync emulator` with extra arguments.
    pub(crate) fn start_with(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("emulator")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn graphsync emulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let info: Value = serde_json::from_str(&line).expect("first line is JSON");
        EmulatorProcess { child, info }
    }

    pub(crate) fn s(&self, key: &str) -> String {
        self.info[key].as_str().unwrap().to_owned()
    }

    pub(crate) fn job(&self, status: &str) -> Value {
        self.info["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["status"] == status)
            .unwrap_or_else(|| panic!("no {status} job"))
            .clone()
    }

    pub(crate) fn graphsync(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env_clear()
            .env("GRAPH_URL", self.s("graph_url"))
            .env("AZURE_AUTHORITY_HOST", self.s("authority_host"))
            .env("AZURE_TENANT_ID", self.s("tenant_id"))
            .env("AZURE_CLIENT_ID", self.s("client_id"))
            .env("AZURE_CLIENT_SECRET", self.s("client_secret"))
            .output()
            .expect("run graphsync")
    }

    /// A control API call (`/_emulator/{path}`), with a raw request (std only).
    pub(crate) fn control(&self, method: &str, path: &str, body: &str) -> Value {
        use std::io::{Read, Write};
        let url = self.s("graph_url");
        let addr = url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "{method} /_emulator/{path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        serde_json::from_str::<Value>(body).unwrap()
    }

    /// The emulator's request counters.
    pub(crate) fn stats(&self) -> Value {
        self.control("GET", "stats", "")
    }

    /// The `graphsync` command with this emulator's settings, to add to.
    pub(crate) fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("GRAPH_URL", self.s("graph_url"))
            .env("AZURE_AUTHORITY_HOST", self.s("authority_host"))
            .env("AZURE_TENANT_ID", self.s("tenant_id"))
            .env("AZURE_CLIENT_ID", self.s("client_id"))
            .env("AZURE_CLIENT_SECRET", self.s("client_secret"));
        c
    }

    pub(crate) fn actions(&self) -> Vec<Value> {
        // Through the control API, with a raw request (std only).
        use std::io::{Read, Write};
        let url = self.s("graph_url");
        let addr = url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /_emulator/actions HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        serde_json::from_str::<Value>(body).unwrap()["value"]
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The exit status (-1 when killed by a signal).
pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Fails with the whole stderr when it lacks `needle`.
pub(crate) fn stderr_has(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
}
