//! The job actions besides start: one subcommand each, sharing the target
//! flags, `--what-if` for every call that changes something, and
//! `--output table|json`.

use std::io::{IsTerminal, Read as _};

use clap::{Args, ValueEnum};
use graph_model::{
    ApiVersion, JobOwner, JobRef, Request, RestartScope, SynchronizationJob,
    SynchronizationJobApplicationParameters, SynchronizationJobSubject, SynchronizationSchema,
    SynchronizationSecret, SynchronizationSecretKeyStringValuePair, SynchronizationTemplate,
    ValidateCredentialsBody, requests,
};
use serde::Serialize;
use sync_jobs::{Outcome, SyncJobsClient};

use crate::commands::what_if;
use crate::config::{Conn, Settings};
use crate::report::render;
use crate::table::{Table, job_summary, provision_summary};
use crate::{EXIT_AMBIGUOUS, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Owner, Target};

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Output {
    /// A table on a terminal, JSON otherwise.
    #[default]
    Auto,
    /// Columns for people.
    Table,
    /// JSON for scripts.
    Json,
    /// One JSON object per line (per job in bulk commands).
    Ndjson,
}

impl Output {
    /// Whether to print JSON (ndjson counts: a single result is one line).
    pub(crate) fn json(self) -> bool {
        match self {
            Output::Json | Output::Ndjson => true,
            Output::Table => false,
            Output::Auto => !std::io::stdout().is_terminal(),
        }
    }
}

/// The owner of jobs (without a job): for list, create, secrets, templates.
#[derive(Debug, Args)]
pub(crate) struct OwnerTarget {
    #[command(flatten)]
    owner: Owner,
    /// Use the beta API instead of v1.0.
    #[arg(long)]
    beta: bool,
}

impl OwnerTarget {
    fn owner(&self) -> Result<JobOwner, u8> {
        self.owner.job_owner().map_err(usage)
    }

    fn version(&self) -> ApiVersion {
        crate::api_version(self.beta)
    }
}

/// Flags shared by the calls that change something.
#[derive(Debug, Args)]
pub(crate) struct WriteFlags {
    /// Show the request that would be sent (token redacted) and send nothing.
    #[arg(long)]
    what_if: bool,
    #[command(flatten)]
    confirm: crate::jobs::ConfirmFlags,
    /// Print `true` on success.
    #[arg(long)]
    pass_thru: bool,
    /// How to print the result.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    target: Target,
    /// How to print the job.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// How to print the jobs.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// The template to create the job from (see `graphsync templates`).
    #[arg(long, value_name = "TEMPLATE_ID")]
    template: String,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct JobActionArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct ProvisionArgs {
    #[command(flatten)]
    target: Target,
    /// The synchronization rule id from the job's schema (`graphsync schema`).
    #[arg(long, value_name = "RULE_ID")]
    rule: String,
    /// An object to provision: its id in the source, optionally followed by
    /// `:TYPE` (User by default; Group, Worker, user…). Repeatable.
    #[arg(long = "subject", value_name = "OBJECT_ID[:TYPE]", required = true)]
    subjects: Vec<String>,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// The job whose credentials to check; without it the collection form
    /// (…/jobs/validateCredentials) is called.
    #[arg(long, value_name = "JOB_ID")]
    job: Option<String>,
    /// Check the credentials saved on the owner.
    #[arg(long, conflicts_with = "credential")]
    saved: bool,
    /// A credential to check, as KEY=VALUE (BaseAddress=https://…,
    /// SecretToken=…). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    credential: Vec<String>,
    /// The template the credentials are for.
    #[arg(long, value_name = "TEMPLATE_ID")]
    template: Option<String>,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    #[command(flatten)]
    target: Target,
    /// Replace the schema whole with the JSON in FILE (`-` for stdin)
    /// instead of printing it.
    #[arg(long, value_name = "FILE")]
    replace: Option<String>,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct SecretsArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// A secret as KEY=VALUE (BaseAddress, SecretToken, SyncAll…).
    /// Repeatable. The whole set is replaced.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Secrets as JSON from FILE (`-` for stdin): `[{"key":…,"value":…}]`
    /// or `{"value":[…]}`, so values stay out of the shell history.
    #[arg(long, value_name = "FILE")]
    from_json: Option<String>,
    #[command(flatten)]
    flags: WriteFlags,
}

#[derive(Debug, Args)]
pub(crate) struct TemplatesArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// Show one template instead of listing them.
    #[arg(long, value_name = "TEMPLATE_ID")]
    template: Option<String>,
    /// How to print the templates.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    output: Output,
}

// ---------------------------------------------------------------- plumbing

pub(crate) struct Ctx {
    pub(crate) settings: Settings,
    conn: Conn,
    /// The config file's defaults.
    pub(crate) defaults: crate::config_file::Defaults,
}

impl Ctx {
    pub(crate) fn new(conn: Conn) -> Result<Self, u8> {
        let file = crate::config_file::loaded();
        let settings = Settings::from_env(|k| std::env::var(k).ok().or_else(|| file.var(k)))
            .map_err(config_failed)?;
        Ok(Ctx {
            settings,
            conn,
            defaults: file.defaults.clone(),
        })
    }

    /// `output`, or the config file's default when the flag was left at auto.
    pub(crate) fn output(&self, output: Output) -> Output {
        match (output, self.defaults.output) {
            (Output::Auto, Some(d)) => d,
            (o, _) => o,
        }
    }

    /// The client `--what-if` uses: it never signs in or sends.
    pub(crate) fn offline(&self) -> Result<SyncJobsClient, u8> {
        self.settings.offline_client().map_err(config_failed)
    }

    pub(crate) fn client(&self, version: ApiVersion) -> Result<SyncJobsClient, u8> {
        self.settings
            .jobs_client(self.conn)
            .map(|c| c.with_version(version))
            .map_err(config_failed)
    }

    /// `--what-if`: prints the request as it would go out and sends nothing.
    pub(crate) fn what_if(
        &self,
        title: &str,
        target: &str,
        request: Result<Request, String>,
    ) -> Result<u8, u8> {
        let request = request.map_err(usage)?;
        let offline = self.offline()?;
        match offline.graph().prepare(&request) {
            Ok(http) => {
                print!("{}", what_if(title, target, &http));
                if let Some(note) = request
                    .operation
                    .beta_deprecation
                    .filter(|_| request.version == ApiVersion::Beta)
                {
                    eprintln!("warning: {note}");
                }
                Ok(EXIT_OK)
            }
            Err(e) => {
                eprint!("{}", render(&e, ""));
                Err(EXIT_USAGE)
            }
        }
    }
}

/// Prints why the CLI could not be set up; the value is the exit status.
fn config_failed(e: crate::config::ConfigError) -> u8 {
    eprint!("{}", render(&e, ""));
    EXIT_USAGE
}

/// Prints a usage error; the value is the exit status.
pub(crate) fn usage(e: impl std::fmt::Display) -> u8 {
    eprintln!("error: {e}");
    EXIT_USAGE
}

fn job_ref(target: &Target) -> Result<JobRef, u8> {
    target.job_ref().map_err(usage)
}

pub(crate) fn failed(action: &str) -> impl FnOnce(sync_jobs::Error) -> u8 + '_ {
    move |e| {
        eprint!("{}", render(&e, action));
        // No way to sign in is a configuration problem, not a failed call.
        let unconfigured = matches!(
            &e,
            sync_jobs::Error::Graph(graph_transport::Error::Credential(
                graph_transport::CredentialError::Unavailable(_)
            ))
        );
        if unconfigured {
            EXIT_USAGE
        } else if e.is_ambiguous() {
            EXIT_AMBIGUOUS
        } else {
            EXIT_FAILED
        }
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// What a bodiless success prints: a line on stderr for people, the outcome
/// as JSON on stdout for scripts, `true` with `--pass-thru`.
fn report(done: &str, target: &str, outcome: &Outcome, flags: &WriteFlags) -> u8 {
    if flags.output.json() && !flags.pass_thru {
        print_json(&serde_json::json!({
            "operation": outcome.operation,
            "target": target,
            "status": outcome.status,
            "requestId": outcome.request_id,
            "clientRequestId": outcome.client_request_id,
        }));
    }
    eprintln!(
        "{done} {target} ({}, request-id {})",
        outcome.status,
        outcome.request_id.as_deref().unwrap_or("none")
    );
    if flags.pass_thru {
        println!("true");
    }
    EXIT_OK
}

fn run(result: Result<u8, u8>) -> u8 {
    match result {
        Ok(code) | Err(code) => code,
    }
}

// ---------------------------------------------------------------- commands

/// `graphsync get`.
pub(crate) async fn get(args: GetArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let job = job_ref(&args.target)?;
        let jobs = ctx.client(args.target.version())?;
        let value = jobs.get(&job).await.map_err(failed("get"))?;
        show_job(&value, args.output);
        Ok(EXIT_OK)
    }
    .await)
}

fn show_job(job: &SynchronizationJob, output: Output) {
    if output.json() {
        print_json(job);
    } else {
        print!("{}", job_summary(job, crate::table::colour_stdout()));
    }
}

/// `graphsync list`.
pub(crate) async fn list(args: ListArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let jobs = ctx.client(args.target.version())?;
        let all = jobs.list(&owner).await.map_err(failed("list"))?;
        if args.output.json() {
            print_json(&all);
        } else {
            let mut t = Table::new([
                "JOB", "TEMPLATE", "STATUS", "SCHEDULE", "LAST RUN", "RESULT",
            ]);
            for j in &all {
                let last = j.status.last_execution.as_ref();
                t.row([
                    j.id.clone(),
                    j.template_id.clone().unwrap_or_default(),
                    text(j.status.code.as_ref()),
                    text(j.schedule.state.as_ref()),
                    last.and_then(|l| l.time_ended)
                        .map(|t| graph_model::format_timestamp(&t))
                        .unwrap_or_else(|| "-".into()),
                    text(last.and_then(|l| l.state.as_ref())),
                ]);
            }
            print!("{}", t.render());
            eprintln!("{} job(s)", all.len());
        }
        Ok(EXIT_OK)
    }
    .await)
}

fn text<T: ToString>(v: Option<&T>) -> String {
    v.map_or_else(|| "-".to_owned(), ToString::to_string)
}

/// `graphsync create`.
pub(crate) async fn create(args: CreateArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let version = args.target.version();
        if args.flags.what_if {
            let req =
                requests::create_job(&owner, version, &args.template).map_err(|e| e.to_string());
            return ctx.what_if("Create", &owner.to_string(), req);
        }
        args.flags.confirm.check("Create: send this request?")?;
        let jobs = ctx.client(version)?;
        let job = jobs
            .create(&owner, &args.template)
            .await
            .map_err(failed("create"))?;
        eprintln!("created {} from template {}", job.id, args.template);
        if args.flags.pass_thru {
            println!("true");
        } else {
            show_job(&job, args.flags.output);
        }
        Ok(EXIT_OK)
    }
    .await)
}

/// `graphsync delete`.
pub(crate) async fn delete(args: JobActionArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let job = job_ref(&args.target)?;
        let version = args.target.version();
        if args.flags.what_if {
            let req = requests::delete_job(&job, version);
            return ctx.what_if("Delete", &job.to_string(), Ok(req));
        }
        args.flags
            .confirm
            .check(&format!("Delete {job} and all its state?"))?;
        let jobs = ctx.client(version)?;
        let outcome = jobs.delete(&job).await.map_err(failed("delete"))?;
        Ok(report("deleted", &job.to_string(), &outcome, &args.flags))
    }
    .await)
}

/// Parses `--scope` values into flags; unknown names are a usage error
/// rather than something the service finds out.
pub(crate) fn parse_scope(values: &[String]) -> Result<Option<RestartScope>, String> {
    if values.is_empty() {
        return Ok(None);
    }
    let scope: RestartScope = values.join(",").parse().unwrap_or_else(|e| match e {});
    if let Some(unknown) = scope.unknown_members().first() {
        return Err(format!(
            "--scope: unknown flag {unknown:?}; use None, ConnectorDataStore, Escrows, Watermark, QuarantineState, Full or ForceDeletes"
        ));
    }
    Ok(Some(scope))
}

/// `graphsync provision`.
pub(crate) async fn provision(args: ProvisionArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let job = job_ref(&args.target)?;
        let subjects = args
            .subjects
            .iter()
            .map(|s| {
                let (id, kind) = s
                    .rsplit_once(':')
                    .filter(|(id, kind)| !id.is_empty() && !kind.is_empty() && !kind.contains('='))
                    .unwrap_or((s, "User"));
                SynchronizationJobSubject::new(id, kind)
            })
            .collect();
        let params = [SynchronizationJobApplicationParameters::new(
            args.rule.clone(),
            subjects,
        )];
        let version = args.target.version();
        if args.flags.what_if {
            let req =
                requests::provision_on_demand(&job, version, &params).map_err(|e| e.to_string());
            return ctx.what_if("ProvisionOnDemand", &job.to_string(), req);
        }
        args.flags
            .confirm
            .check("ProvisionOnDemand: send this request?")?;
        let jobs = ctx.client(version)?;
        let result = jobs
            .provision_on_demand(&job, &params)
            .await
            .map_err(failed("provision"))?;
        if args.flags.pass_thru {
            println!("true");
        } else if args.flags.output.json() {
            print_json(&serde_json::json!({
                "outcome": result.outcome,
                "record": result.record,
            }));
        } else {
            print!("{}", provision_summary(&result));
        }
        Ok(EXIT_OK)
    }
    .await)
}

fn parse_pairs(
    values: &[String],
    what: &str,
) -> Result<Vec<SynchronizationSecretKeyStringValuePair>, String> {
    values
        .iter()
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{what} {pair:?} is not KEY=VALUE"))?;
            let key: SynchronizationSecret = key.trim().parse().unwrap_or_else(|e| match e {});
            if !key.is_known() {
                return Err(format!(
                    "{what}: {key} is not a synchronization secret name (BaseAddress, SecretToken, SyncAll, …)"
                ));
            }
            Ok(SynchronizationSecretKeyStringValuePair::new(key, value))
        })
        .collect()
}

/// `graphsync validate-credentials`.
pub(crate) async fn validate(args: ValidateArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let mut body = if args.saved {
            ValidateCredentialsBody::saved()
        } else if args.credential.is_empty() {
            return Err(usage("give --saved or at least one --credential KEY=VALUE"));
        } else {
            ValidateCredentialsBody::with_credentials(
                parse_pairs(&args.credential, "--credential").map_err(usage)?,
            )
        };
        if let Some(t) = &args.template {
            body = body.template_id(t);
        }
        let version = args.target.version();
        let job = match &args.job {
            Some(id) => Some(JobRef::new(owner.clone(), id.clone()).map_err(usage)?),
            None => None,
        };
        let target = job
            .as_ref()
            .map_or_else(|| owner.to_string(), ToString::to_string);
        if args.flags.what_if {
            let req = match &job {
                Some(j) => requests::validate_job_credentials(j, version, &body),
                None => requests::validate_credentials(&owner, version, &body),
            };
            return ctx.what_if(
                "ValidateCredentials",
                &target,
                req.map_err(|e| e.to_string()),
            );
        }
        args.flags
            .confirm
            .check("ValidateCredentials: send this request?")?;
        let jobs = ctx.client(version)?;
        let outcome = match &job {
            Some(j) => jobs.validate_credentials(j, &body).await,
            None => jobs.validate_credentials_for_owner(&owner, &body).await,
        }
        .map_err(failed("validate-credentials"))?;
        Ok(report(
            "credentials are valid for",
            &target,
            &outcome,
            &args.flags,
        ))
    }
    .await)
}

fn read_input(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading stdin: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    }
}

/// `graphsync schema`.
pub(crate) async fn schema(args: SchemaArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let job = job_ref(&args.target)?;
        let version = args.target.version();
        let Some(path) = &args.replace else {
            let jobs = ctx.client(version)?;
            let schema = jobs.schema(&job).await.map_err(failed("schema"))?;
            if args.flags.output.json() {
                print_json(&schema);
            } else {
                // On a terminal: the rules (their ids are what provision
                // takes); `-o json` gives the whole document.
                let mut t = Table::new(["RULE", "NAME", "PRIORITY", "SOURCE", "TARGET"]);
                for r in &schema.synchronization_rules {
                    t.row([
                        r.id.clone().unwrap_or_default(),
                        r.name.clone().unwrap_or_default(),
                        r.priority.to_string(),
                        r.source_directory_name.clone().unwrap_or_default(),
                        r.target_directory_name.clone().unwrap_or_default(),
                    ]);
                }
                print!("{}", t.render());
            }
            return Ok(EXIT_OK);
        };
        let schema: SynchronizationSchema = read_input(path)
            .and_then(|text| {
                serde_json::from_str(&text).map_err(|e| format!("{path}: not a schema: {e}"))
            })
            .map_err(usage)?;
        if args.flags.what_if {
            let req =
                requests::replace_job_schema(&job, version, &schema).map_err(|e| e.to_string());
            return ctx.what_if("ReplaceSchema", &job.to_string(), req);
        }
        args.flags
            .confirm
            .check("ReplaceSchema: send this request?")?;
        let jobs = ctx.client(version)?;
        let outcome = jobs
            .replace_schema(&job, &schema)
            .await
            .map_err(failed("schema"))?;
        Ok(report(
            "replaced the schema of",
            &job.to_string(),
            &outcome,
            &args.flags,
        ))
    }
    .await)
}

/// `graphsync secrets`.
pub(crate) async fn secrets(args: SecretsArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let mut secrets = parse_pairs(&args.set, "--set").map_err(usage)?;
        if let Some(path) = &args.from_json {
            #[derive(serde::Deserialize)]
            #[serde(untagged)]
            enum Doc {
                List(Vec<SynchronizationSecretKeyStringValuePair>),
                Wrapped {
                    value: Vec<SynchronizationSecretKeyStringValuePair>,
                },
            }
            let doc: Doc = read_input(path)
                .and_then(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| format!("{path}: not a list of secrets: {e}"))
                })
                .map_err(usage)?;
            secrets.extend(match doc {
                Doc::List(v) | Doc::Wrapped { value: v } => v,
            });
        }
        if secrets.is_empty() {
            return Err(usage(
                "give the secrets with --set KEY=VALUE or --from-json FILE",
            ));
        }
        let version = args.target.version();
        if args.flags.what_if {
            let req =
                requests::replace_secrets(&owner, version, &secrets).map_err(|e| e.to_string());
            // The body holds credentials: show their keys, not the request.
            let req = req.map(|mut r| {
                let masked: Vec<_> = secrets
                    .iter()
                    .map(|s| serde_json::json!({"key": s.key, "value": "<redacted>"}))
                    .collect();
                r.body = serde_json::to_vec(&serde_json::json!({ "value": masked }))
                    .unwrap_or_default()
                    .into();
                r
            });
            return ctx.what_if("ReplaceSecrets", &owner.to_string(), req);
        }
        args.flags
            .confirm
            .check("ReplaceSecrets: send this request?")?;
        let jobs = ctx.client(version)?;
        let outcome = jobs
            .replace_secrets(&owner, &secrets)
            .await
            .map_err(failed("secrets"))?;
        if let Some(note) = outcome_deprecation(version) {
            eprintln!("warning: {note}");
        }
        let keys: Vec<String> = secrets.iter().map(|s| s.key.to_string()).collect();
        Ok(report(
            &format!("replaced secrets ({})", keys.join(", ")),
            &owner.to_string(),
            &outcome,
            &args.flags,
        ))
    }
    .await)
}

fn outcome_deprecation(version: ApiVersion) -> Option<&'static str> {
    graph_model::operations::REPLACE_SECRETS
        .beta_deprecation
        .filter(|_| version == ApiVersion::Beta)
}

/// `graphsync templates`.
pub(crate) async fn templates(args: TemplatesArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let jobs = ctx.client(args.target.version())?;
        let list: Vec<SynchronizationTemplate> = match &args.template {
            Some(id) => vec![
                jobs.template(&owner, id)
                    .await
                    .map_err(failed("templates"))?,
            ],
            None => jobs.templates(&owner).await.map_err(failed("templates"))?,
        };
        if args.output.json() {
            if args.template.is_some() {
                print_json(&list[0]);
            } else {
                print_json(&list);
            }
        } else {
            let mut t = Table::new(["TEMPLATE", "DEFAULT", "FACTORY TAG", "DESCRIPTION"]);
            for tpl in &list {
                t.row([
                    tpl.id.clone(),
                    tpl.default.to_string(),
                    tpl.factory_tag.clone().unwrap_or_default(),
                    tpl.description.clone().unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
        }
        Ok(EXIT_OK)
    }
    .await)
}

#[derive(Debug, Args)]
pub(crate) struct AcquireTokenArgs {
    #[command(flatten)]
    target: OwnerTarget,
    /// A credential as KEY=VALUE. Repeatable.
    #[arg(long, value_name = "KEY=VALUE", required = true)]
    credential: Vec<String>,
    #[command(flatten)]
    flags: WriteFlags,
}

/// `graphsync acquire-access-token`.
pub(crate) async fn acquire_access_token(args: AcquireTokenArgs, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.target.owner()?;
        let credentials = parse_pairs(&args.credential, "--credential").map_err(usage)?;
        let jobs = ctx.client(args.target.version())?;
        let outcome = jobs
            .acquire_access_token(&owner, credentials)
            .await
            .map_err(failed("acquire-access-token"))?;
        Ok(report(
            "acquired an access token for",
            &owner.to_string(),
            &outcome,
            &args.flags,
        ))
    }
    .await)
}

/// `graphsync ping` (beta only).
pub(crate) async fn ping(args: OwnerTarget, conn: Conn) -> u8 {
    run(async {
        let ctx = Ctx::new(conn)?;
        let owner = args.owner()?;
        // Ping exists only in beta, so beta is the default here.
        let jobs = ctx.client(ApiVersion::Beta)?;
        let text = jobs.ping(&owner).await.map_err(failed("ping"))?;
        println!("{text}");
        Ok(EXIT_OK)
    }
    .await)
}

#[derive(Debug, Args)]
pub(crate) struct WhoamiArgs {
    /// How to print the identity.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    output: Output,
}

/// `graphsync whoami`: signs in and shows who that is, from the token's
/// claims (decoded, not verified; the token itself is never printed).
pub(crate) async fn whoami(args: WhoamiArgs, conn: Conn) -> u8 {
    use base64::Engine as _;
    run(async {
        let ctx = Ctx::new(conn)?;
        let jobs = ctx.client(ApiVersion::V1)?;
        let graph = jobs.graph();
        let token = graph
            .credential()
            .get_token(&[graph.scope()])
            .await
            .map_err(|e| {
                eprint!("{}", render(&e, "whoami"));
                if matches!(e, graph_transport::CredentialError::Unavailable(_)) {
                    EXIT_USAGE
                } else {
                    EXIT_FAILED
                }
            })?;
        let claims: serde_json::Value = token
            .token
            .expose()
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(serde_json::Value::Null);
        let expires = graph_model::time::OffsetDateTime::from(token.expires_on);
        let text = |k: &str| claims[k].as_str().map(str::to_owned);
        let list = |k: &str| -> Vec<String> {
            match &claims[k] {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                serde_json::Value::String(s) => s.split(' ').map(str::to_owned).collect(),
                _ => Vec::new(),
            }
        };
        let identity = serde_json::json!({
            "cloud": graph.cloud().name(),
            "graph": graph.cloud().graph_root(),
            "tenant_id": text("tid"),
            "client_id": text("appid").or_else(|| text("azp")),
            "user": text("upn").or_else(|| text("unique_name")),
            "identity_type": text("idtyp"),
            "roles": list("roles"),
            "scopes": list("scp"),
            "expires": graph_model::format_timestamp(&expires),
        });
        if args.output.json() {
            print_json(&identity);
        } else {
            let mut t = Table::new(["FIELD", "VALUE"]);
            for key in [
                "cloud",
                "graph",
                "tenant_id",
                "client_id",
                "user",
                "identity_type",
                "expires",
            ] {
                let v = match &identity[key] {
                    serde_json::Value::String(s) => s.clone(),
                    _ => "-".into(),
                };
                t.row([key.replace('_', " "), v]);
            }
            for key in ["roles", "scopes"] {
                let v: Vec<&str> = identity[key]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                t.row([
                    key.to_owned(),
                    if v.is_empty() {
                        "-".into()
                    } else {
                        v.join(", ")
                    },
                ]);
            }
            print!("{}", t.render());
        }
        if claims.is_null() {
            eprintln!("note: the token is not a JWT, so who it names cannot be shown");
        }
        Ok(EXIT_OK)
    }
    .await)
}
