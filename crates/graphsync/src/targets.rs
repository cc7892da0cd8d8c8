//! Which jobs a command acts on: ids with an owner flag, Graph URLs, a file
//! or stdin (one per line, or CSV with a header), or every job of an owner.

use std::io::Read as _;

use clap::Args;
use graph_model::{ApiVersion, JobOwner, JobRef};
use percent_encoding::percent_decode_str;

/// The owner flags, optional (a URL or a file can name the owner instead).
#[derive(Debug, Args, Default)]
#[group(id = "owner", required = false, multiple = false)]
pub(crate) struct OptOwner {
    /// The service principal's object id.
    #[arg(long, value_name = "ID", visible_alias = "sp")]
    pub(crate) service_principal: Option<String>,
    /// The application's object id.
    #[arg(long, value_name = "ID")]
    pub(crate) application: Option<String>,
    /// The application's appId (client id); addresses servicePrincipals(appId='…').
    #[arg(long, value_name = "APP_ID")]
    pub(crate) app_id: Option<String>,
}

impl OptOwner {
    pub(crate) fn owner(&self) -> Result<Option<JobOwner>, String> {
        let r = match (&self.service_principal, &self.application, &self.app_id) {
            (Some(id), _, _) => JobOwner::service_principal(id.clone()),
            (_, Some(id), _) => JobOwner::application(id.clone()),
            (_, _, Some(id)) => JobOwner::service_principal_app_id(id.clone()),
            (None, None, None) => return Ok(None),
        };
        r.map(Some).map_err(|e| e.to_string())
    }
}

/// One or many jobs.
#[derive(Debug, Args)]
pub(crate) struct JobTargets {
    #[command(flatten)]
    pub(crate) owner: OptOwner,
    /// A job: its id (with an owner flag), or its Graph URL
    /// (`https://graph.microsoft.com/v1.0/servicePrincipals/{id}/synchronization/jobs/{jobId}`).
    /// Repeatable.
    #[arg(long = "job", value_name = "JOB_ID|URL")]
    pub(crate) jobs: Vec<String>,
    /// Read jobs from FILE (`-` for stdin): one per line (a Graph URL,
    /// `OWNER_ID JOB_ID`, or a job id with an owner flag), or CSV whose
    /// header names the columns (servicePrincipalId, applicationId or
    /// appId, and jobId; or url).
    #[arg(long, value_name = "FILE")]
    pub(crate) from: Option<String>,
    /// Every job of the owner.
    #[arg(long, requires = "owner")]
    pub(crate) all: bool,
    /// With --all: only the jobs of this template (e.g. scim).
    #[arg(long = "template", value_name = "TEMPLATE_ID", requires = "all")]
    pub(crate) template_filter: Option<String>,
    /// Use the beta API instead of v1.0.
    #[arg(long)]
    pub(crate) beta: bool,
}

/// The jobs named on the command line, before `--all` is expanded.
#[derive(Debug, Default)]
pub(crate) struct Named {
    pub(crate) jobs: Vec<JobRef>,
    /// A URL named the beta endpoint.
    pub(crate) beta: bool,
}

impl JobTargets {
    /// Whether the command names more than one job (or may: a file or --all).
    pub(crate) fn is_bulk(&self) -> bool {
        self.all || self.from.is_some() || self.jobs.len() > 1
    }

    /// The jobs from `--job` and `--from`; `graph_host` is the host of the
    /// configured Graph root, which URLs must match.
    pub(crate) fn named(&self, graph_host: Option<&str>) -> Result<Named, String> {
        let owner = self.owner.owner()?;
        let mut named = Named::default();
        for text in &self.jobs {
            let (job, beta) = parse_one(text, owner.as_ref(), graph_host)
                .map_err(|e| format!("--job {text}: {e}"))?;
            named.beta |= beta;
            named.jobs.push(job);
        }
        if let Some(from) = &self.from {
            let text = read_source(from)?;
            let (jobs, beta) = parse_list(&text, owner.as_ref(), graph_host)
                .map_err(|e| format!("--from {from}: {e}"))?;
            named.beta |= beta;
            named.jobs.extend(jobs);
        }
        if self.jobs.is_empty() && self.from.is_none() && !self.all {
            return Err(
                "name a job: --job ID with --service-principal/--application/--app-id, --job URL, --from FILE, or --all".into(),
            );
        }
        Ok(named)
    }

    pub(crate) fn version(&self, named: &Named) -> ApiVersion {
        crate::api_version(self.beta || named.beta)
    }
}

fn read_source(from: &str) -> Result<String, String> {
    let mut text = String::new();
    if from == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(from).map_err(|e| format!("cannot read {from}: {e}"))?;
    }
    Ok(text)
}

/// A job from a URL, or an id under `owner`. The bool: the URL is beta.
fn parse_one(
    text: &str,
    owner: Option<&JobOwner>,
    graph_host: Option<&str>,
) -> Result<(JobRef, bool), String> {
    let text = text.trim();
    if text.starts_with("https://") || text.starts_with("http://") {
        return parse_job_url(text, graph_host);
    }
    let owner =
        owner.ok_or("a job id needs an owner: --service-principal, --application or --app-id")?;
    Ok((
        JobRef::new(owner.clone(), text.to_owned()).map_err(|e| e.to_string())?,
        false,
    ))
}

/// The job a Graph URL names: `{root}/{version}/{owner}/synchronization/jobs/{jobId}[/action]`.
pub(crate) fn parse_job_url(
    text: &str,
    graph_host: Option<&str>,
) -> Result<(JobRef, bool), String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if let (Some(expected), Some(host)) = (graph_host, url.host_str())
        && !host.eq_ignore_ascii_case(expected)
    {
        return Err(format!(
            "the URL is for {host}, but the configured Graph is {expected} (set GRAPH_CLOUD or GRAPH_URL)"
        ));
    }
    let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    // [version, owner…, "synchronization", "jobs", jobId, action?]
    let sync = segments
        .iter()
        .position(|s| *s == "synchronization")
        .ok_or("the URL does not name a synchronization job")?;
    if sync < 2 || segments.get(sync + 1) != Some(&"jobs") {
        return Err("the URL does not name a synchronization job".into());
    }
    let version: ApiVersion = segments[0]
        .parse()
        .map_err(|_| format!("unknown API version {:?} in the URL", segments[0]))?;
    let job_id = segments
        .get(sync + 2)
        .filter(|s| !s.is_empty())
        .ok_or("the URL has no job id")?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let owner = match &segments[1..sync] {
        ["servicePrincipals", id] => JobOwner::service_principal(decode(id)),
        ["applications", id] => JobOwner::application(decode(id)),
        [one] => {
            let one = decode(one);
            let app_id = one
                .strip_prefix("servicePrincipals(appId='")
                .and_then(|r| r.strip_suffix("')"))
                .ok_or_else(|| format!("unknown owner {one:?} in the URL"))?;
            JobOwner::service_principal_app_id(app_id.replace("''", "'"))
        }
        _ => return Err("unknown owner in the URL".into()),
    }
    .map_err(|e| e.to_string())?;
    let job = JobRef::new(owner, decode(job_id)).map_err(|e| e.to_string())?;
    Ok((job, version == ApiVersion::Beta))
}

/// Jobs from a list: one per line, or CSV with a header.
pub(crate) fn parse_list(
    text: &str,
    owner: Option<&JobOwner>,
    graph_host: Option<&str>,
) -> Result<(Vec<JobRef>, bool), String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((first_no, first)) = lines.next() else {
        return Ok((Vec::new(), false));
    };
    let header = csv_fields(first);
    let column = |names: &[&str]| {
        header.iter().position(|h| {
            let h: String = h
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            names.contains(&h.as_str())
        })
    };
    let job_col = column(&["jobid", "job"]);
    let url_col = column(&["url", "joburl"]);
    let mut jobs = Vec::new();
    let mut beta = false;
    if job_col.is_some() || url_col.is_some() {
        let sp_col = column(&["serviceprincipalid", "serviceprincipal", "spid", "sp"]);
        let app_col = column(&["applicationid", "application", "applicationobjectid"]);
        let appid_col = column(&["appid"]);
        for (no, line) in lines {
            let f = csv_fields(line);
            let cell = |c: Option<usize>| {
                c.and_then(|c| f.get(c))
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
            };
            let result = if let Some(url) = cell(url_col) {
                parse_job_url(url, graph_host)
            } else {
                let row_owner = if let Some(id) = cell(sp_col) {
                    Some(JobOwner::service_principal(id.to_owned()))
                } else if let Some(id) = cell(app_col) {
                    Some(JobOwner::application(id.to_owned()))
                } else {
                    cell(appid_col).map(|id| JobOwner::service_principal_app_id(id.to_owned()))
                }
                .transpose()
                .map_err(|e| e.to_string());
                match (row_owner, cell(job_col)) {
                    (Err(e), _) => Err(e),
                    (Ok(o), Some(job)) => parse_one(job, o.as_ref().or(owner), graph_host),
                    (Ok(_), None) => Err("no job id".into()),
                }
            };
            let (job, b) = result.map_err(|e| format!("line {no}: {e}"))?;
            beta |= b;
            jobs.push(job);
        }
        return Ok((jobs, beta));
    }
    for (no, line) in std::iter::once((first_no, first)).chain(lines) {
        let parts: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        let result = match parts.as_slice() {
            [one] => parse_one(one, owner, graph_host),
            [owner_id, job] => JobOwner::service_principal((*owner_id).to_owned())
                .map_err(|e| e.to_string())
                .and_then(|o| parse_one(job, Some(&o), graph_host)),
            _ => Err("expected a URL, OWNER_ID JOB_ID, or a job id".into()),
        };
        let (job, b) = result.map_err(|e| format!("line {no}: {e}"))?;
        beta |= b;
        jobs.push(job);
    }
    Ok((jobs, beta))
}

/// The fields of one CSV line (commas; double quotes around a field, `""`
/// for a quote inside one).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> JobOwner {
        JobOwner::service_principal("sp-1").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn urls_of_every_owner_form_and_version() {
        let (j, beta) = parse_job_url(
            "https://graph.microsoft.com/v1.0/servicePrincipals/3f1e/synchronization/jobs/scim.1/start",
            Some("graph.microsoft.com"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            j.to_string(),
            JobRef::service_principal("3f1e", "scim.1")
                .unwrap_or_else(|_| unreachable!())
                .to_string()
        );
        assert!(!beta);
        let (j, beta) = parse_job_url(
            "https://graph.microsoft.com/beta/servicePrincipals(appId='b2c3')/synchronization/jobs/scim.2",
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(beta);
        assert!(j.to_string().contains("b2c3"));
        let (j, _) = parse_job_url(
            "https://graph.microsoft.com/v1.0/applications/app%201/synchronization/jobs/scim.3",
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.owner().id(), "app 1");
        for bad in [
            "https://graph.microsoft.com/v1.0/users/x",
            "https://graph.microsoft.com/v9/servicePrincipals/x/synchronization/jobs/y",
            "https://graph.microsoft.com/v1.0/servicePrincipals/x/synchronization/jobs/",
            "not a url",
        ] {
            assert!(parse_job_url(bad, None).is_err(), "{bad}");
        }
        let e = parse_job_url(
            "https://graph.microsoft.us/v1.0/servicePrincipals/x/synchronization/jobs/y",
            Some("graph.microsoft.com"),
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("graph.microsoft.us"), "{e}");
    }

    #[test]
    fn lines_and_csv() {
        let (jobs, _) = parse_list(
            "# restart after incident\nsp-1 scim.1\nsp-2,scim.2\n\nscim.3\nhttps://h/v1.0/servicePrincipals/sp-4/synchronization/jobs/scim.4\n",
            Some(&sp()),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let owners: Vec<&str> = jobs.iter().map(|j| j.owner().id()).collect();
        assert_eq!(owners, ["sp-1", "sp-2", "sp-1", "sp-4"]);

        let (jobs, _) = parse_list(
            "Service Principal Id,Job Id,Note\nsp-1,scim.1,\"a, b\"\n\"sp-2\",\"scim.2\",x\n",
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[1].job_id(), "scim.2");

        let (jobs, _) =
            parse_list("appId,jobId\nb2c3,scim.9\n", None, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(jobs[0].to_string().contains("appId"));

        let e = parse_list("jobId\nscim.1\n", None, None)
            .err()
            .unwrap_or_default();
        assert!(e.contains("line 2"), "{e}");
        let e = parse_list("a b c\n", Some(&sp()), None)
            .err()
            .unwrap_or_default();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(csv_fields("a,\"b,\"\"c\"\"\",d"), ["a", "b,\"c\"", "d"]);
        assert_eq!(csv_fields(""), [""]);
    }

    #[test]
    fn arbitrary_input_is_an_error_or_jobs_never_a_panic() {
        // Pieces that sit on the parsers' edges, joined at random.
        const PIECES: &[&str] = &[
            ",",
            "\"",
            "\"\"",
            "\n",
            "\r\n",
            " ",
            "#",
            "/",
            "%",
            "%2",
            "%zz",
            "..",
            ".",
            "https://",
            "http://h",
            "/v1.0",
            "/beta",
            "/servicePrincipals",
            "/applications",
            "(appId='",
            "')",
            "/synchronization",
            "/jobs/",
            "scim.1",
            "sp-1",
            "jobId",
            "servicePrincipalId",
            "url",
            "appId",
            "\u{1b}",
            "é",
            "\u{0}",
            "?a=b",
            "'",
            "''",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let owner = sp();
        for _ in 0..5_000 {
            let len = (next() % 12) as usize;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let _ = parse_list(&text, Some(&owner), Some("h"));
            let _ = parse_list(&text, None, None);
            let _ = parse_job_url(&text, None);
            let _ = csv_fields(&text);
        }
    }
}
