//! Plain-text tables and summaries for people at a terminal.

use std::fmt::Write as _;

use graph_model::{ProvisionOnDemandResult, SynchronizationJob, format_timestamp};

/// Left-aligned columns separated by two spaces.
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new<const N: usize>(header: [&str; N]) -> Self {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    pub(crate) fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows
            .push(cells.into_iter().map(|c| one_line(&c)).collect());
    }

    pub(crate) fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Control characters from the service never reach the terminal as such.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| one_line(&v.to_string()))
}

/// Whether to colour what goes to stdout: a terminal, and no `NO_COLOR`.
pub(crate) fn colour_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` in the colour its state deserves, when `colour` is on. Only the
/// last column is coloured, so the escapes never shift the alignment.
fn paint(
    text: String,
    state: Option<&graph_model::SynchronizationStatusCode>,
    colour: bool,
) -> String {
    use graph_model::SynchronizationStatusCode as Code;
    let code = match state {
        _ if !colour => return text,
        Some(Code::Active) => "32",
        Some(Code::Paused) => "33",
        Some(Code::Quarantine) => "31",
        Some(Code::NotRun | Code::NotConfigured) => "36",
        _ => return text,
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

/// What a person wants to know about a job, one fact per line; the state
/// in colour when `colour` is on.
pub(crate) fn job_summary(job: &SynchronizationJob, colour: bool) -> String {
    let mut t = Table::new(["FIELD", "VALUE"]);
    let s = &job.status;
    t.row(["job".into(), job.id.clone()]);
    t.row(["template".into(), or_dash(job.template_id.as_ref())]);
    let mut out_status = Some((
        t.rows.len(),
        paint(or_dash(s.code.as_ref()), s.code.as_ref(), colour),
    ));
    t.row(["status".into(), String::new()]);
    t.row([
        "schedule".into(),
        format!(
            "{} every {}",
            or_dash(job.schedule.state.as_ref()),
            or_dash(job.schedule.interval.as_ref().map(|i| i.as_str()))
        ),
    ]);
    if let Some(last) = &s.last_execution {
        t.row([
            "last run".into(),
            format!(
                "{} at {}: imported {}, exported {}, escrowed {}",
                or_dash(last.state.as_ref()),
                or_dash(last.time_ended.map(|t| format_timestamp(&t))),
                last.count_imported,
                last.count_exported,
                last.count_escrowed
            ),
        ]);
        if let Some(e) = &last.error {
            t.row([
                "last error".into(),
                format!(
                    "{}: {}",
                    or_dash(e.code.as_ref()),
                    or_dash(e.message.as_ref())
                ),
            ]);
        }
    } else {
        t.row(["last run".into(), "never".into()]);
    }
    for p in &s.progress {
        t.row([
            "progress".into(),
            format!(
                "{}/{} {}",
                p.completed_units,
                p.total_units,
                or_dash(p.units.as_ref())
            ),
        ]);
    }
    if let Some(q) = &s.quarantine {
        t.row(["quarantine".into(), or_dash(q.reason.as_ref())]);
        if let Some(e) = &q.error {
            t.row([
                "quarantine error".into(),
                format!(
                    "{}: {}",
                    or_dash(e.code.as_ref()),
                    or_dash(e.message.as_ref())
                ),
            ]);
        }
    }
    t.row([
        "steady state".into(),
        format!(
            "last {}, first {}",
            or_dash(s.steady_state_reached().map(|t| format_timestamp(&t))),
            or_dash(
                s.steady_state_first_achieved_time
                    .map(|t| format_timestamp(&t))
            )
        ),
    ]);
    if let Some(url) = s.troubleshooting_url.as_ref().filter(|u| !u.is_empty()) {
        t.row(["troubleshooting".into(), url.clone()]);
    }
    // The coloured cell goes in after the widths are fixed by plain text.
    if let Some((row, cell)) = out_status.take() {
        t.rows[row][1] = cell;
    }
    t.render()
}

/// The outcome of a provisionOnDemand call and its steps.
pub(crate) fn provision_summary(r: &ProvisionOnDemandResult) -> String {
    let mut out = format!(
        "result: {}{}\n",
        or_dash(r.result()),
        r.record
            .action
            .as_ref()
            .map(|a| format!(" (action {a})"))
            .unwrap_or_default()
    );
    for (key, value) in &r.outcome.details {
        let _ = writeln!(out, "  {key}: {}", one_line(&value.to_string()));
    }
    if !r.record.provisioning_steps.is_empty() {
        let mut t = Table::new(["STEP", "TYPE", "STATUS", "DESCRIPTION"]);
        for s in &r.record.provisioning_steps {
            t.row([
                or_dash(s.name.as_ref()),
                or_dash(s.step_type.as_ref()),
                or_dash(s.status.as_ref()),
                or_dash(s.description.as_ref()),
            ]);
        }
        out.push_str(&t.render());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_control_characters_are_neutralised() {
        let mut t = Table::new(["A", "B"]);
        t.row(["long value".into(), "x\u{1b}[31m".into()]);
        let out = t.render();
        assert_eq!(out, "A           B\nlong value  x [31m\n");
    }
}
