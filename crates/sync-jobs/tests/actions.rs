//! Every job action through the library against the emulator over loopback
//! HTTP: the documented statuses and bodies, the state machine, paging, the
//! resetScope round trip and the provisionOnDemand limit.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::Duration;

use graph_model::{
    ApiVersion, JobOwner, JobRef, RestartScope, SynchronizationJobApplicationParameters,
    SynchronizationJobSubject, SynchronizationScheduleState, SynchronizationSecret,
    SynchronizationSecretKeyStringValuePair, SynchronizationStatusCode as Code,
    ValidateCredentialsBody,
};
use graph_transport::{HyperTransport, TransportOptions};
use sync_emulator::default_ids::{self, ACTIVE, NOT_CONFIGURED, PAUSED, QUARANTINED};
use sync_emulator::{Emulator, EmulatorOptions, JobSeed, RunningEmulator, Seed};
use sync_jobs::{Error, SyncJobsClient};

mod common;

fn hyper() -> Arc<dyn graph_transport::Transport> {
    Arc::new(HyperTransport::with_options(&TransportOptions::default()).unwrap())
}

fn client_as(emu: &RunningEmulator, client_id: &str, secret: &str) -> SyncJobsClient {
    common::client(emu, hyper(), client_id, secret)
}

fn operator(emu: &RunningEmulator) -> SyncJobsClient {
    common::operator(emu, hyper())
}

fn sp(id: &str) -> JobOwner {
    JobOwner::service_principal(id).unwrap()
}

fn status(e: &Error) -> Option<u16> {
    e.service_error().map(|s| s.status.as_u16())
}

#[tokio::test]
async fn list_follows_next_links_across_pages_on_every_owner_form() {
    let mut seed = Seed::default_seed();
    let many = &mut seed.service_principals[0];
    for i in 0..23 {
        many.jobs
            .push(JobSeed::new(format!("scim.{i:032x}"), Code::Paused));
    }
    let emu = Emulator::start(EmulatorOptions::with_seed(seed).page_size(5))
        .await
        .unwrap();
    let jobs = operator(&emu);
    for owner in [
        sp(PAUSED.service_principal_id),
        JobOwner::service_principal_app_id(PAUSED.app_id).unwrap(),
        JobOwner::application(PAUSED.application_id).unwrap(),
    ] {
        for version in [ApiVersion::V1, ApiVersion::Beta] {
            let all = jobs.with_version(version).list(&owner).await.unwrap();
            assert_eq!(all.len(), 24, "{owner} {version}");
            assert_eq!(all[0].id, PAUSED.job_id);
            let mut ids: Vec<_> = all.iter().map(|j| j.id.clone()).collect();
            ids.dedup();
            assert_eq!(ids.len(), 24, "no page repeated");
        }
    }
    // Page by page: 5, 5, 5, 5, 4.
    let mut pages = jobs.list_pages(&sp(PAUSED.service_principal_id));
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        sizes.push(page.len());
    }
    assert_eq!(sizes, [5, 5, 5, 5, 4]);
    // The same as a stream.
    use futures_util::StreamExt;
    let stream = jobs
        .list_pages(&sp(PAUSED.service_principal_id))
        .into_stream();
    let pages: Vec<_> = stream.collect().await;
    let sizes: Vec<usize> = pages.into_iter().map(|p| p.unwrap().len()).collect();
    assert_eq!(sizes, [5, 5, 5, 5, 4]);
    // Six listings, the pager and the stream: 8 walks of 5 pages.
    assert_eq!(emu.stats().graph_requests, 8 * 5);
}

#[tokio::test]
async fn create_get_start_pause_delete_walk_the_documented_states() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = operator(&emu);
    let owner = sp(PAUSED.service_principal_id);

    let created = jobs.create(&owner, "scim").await.unwrap();
    assert!(created.id.starts_with("scim."), "{}", created.id);
    assert_eq!(created.status.code, Some(Code::NotConfigured));
    assert_eq!(
        created.schedule.state,
        Some(SynchronizationScheduleState::Disabled)
    );
    assert_eq!(
        created.schedule.interval.as_ref().unwrap().as_str(),
        "P10675199DT2H48M5.4775807S"
    );
    let job = JobRef::new(owner.clone(), created.id.clone()).unwrap();

    let unknown_template = jobs.create(&owner, "NoSuchTemplate").await.unwrap_err();
    assert_eq!(status(&unknown_template), Some(400));

    jobs.start(&job).await.unwrap();
    assert_eq!(
        jobs.get(&job).await.unwrap().status.code,
        Some(Code::NotRun)
    );
    // Half the first cycle: progress shows, then pause keeps it.
    emu.advance_clock(Duration::from_secs(30)).unwrap();
    let running = jobs.get(&job).await.unwrap();
    let progress = running.status.progress[0].completed_units;
    assert!(progress > 0, "{running:?}");
    let paused = jobs.pause(&job).await.unwrap();
    assert_eq!(paused.status, 204);
    // (Less than the token lifetime: the emulator's clock ages tokens too.)
    emu.advance_clock(Duration::from_secs(1800)).unwrap();
    let held = jobs.get(&job).await.unwrap();
    assert_eq!(held.status.code, Some(Code::Paused));
    assert_eq!(
        held.schedule.state,
        Some(SynchronizationScheduleState::Paused)
    );
    assert!(held.status.progress[0].completed_units >= progress);
    // Start resumes; the rest of the cycle runs; the job is Active.
    jobs.start(&job).await.unwrap();
    emu.advance_clock(Duration::from_secs(31)).unwrap();
    let active = jobs.get(&job).await.unwrap();
    assert_eq!(active.status.code, Some(Code::Active));
    let last = active.status.last_execution.clone().unwrap();
    assert_eq!(last.count_exported, 25);
    assert!(active.status.steady_state_reached().is_some());

    let deleted = jobs.delete(&job).await.unwrap();
    assert_eq!(deleted.status, 204);
    let gone = jobs.get(&job).await.unwrap_err();
    assert_eq!(status(&gone), Some(404));
    assert!(
        jobs.list(&owner)
            .await
            .unwrap()
            .iter()
            .all(|j| j.id != created.id)
    );
}

#[tokio::test]
async fn restart_reset_scope_round_trips_and_each_flag_takes_effect() {
    let mut seed = Seed::default_seed();
    seed.service_principals[1].jobs[0].held_deletions = 9;
    seed.service_principals[1].jobs[0].quarantine_reason =
        Some(graph_model::QuarantineReason::TooManyDeletes);
    let emu = Emulator::start(EmulatorOptions::with_seed(seed))
        .await
        .unwrap();
    let jobs = operator(&emu);
    let q =
        JobRef::service_principal(QUARANTINED.service_principal_id, QUARANTINED.job_id).unwrap();
    let internals = || {
        emu.job_internals(QUARANTINED.service_principal_id, QUARANTINED.job_id)
            .unwrap()
    };
    assert_eq!(internals().escrows, 3);

    // Escrows alone: escrows cleared, still quarantined.
    jobs.restart(&q, Some(RestartScope::ESCROWS)).await.unwrap();
    assert_eq!(internals().escrows, 0);
    assert_eq!(
        jobs.get(&q).await.unwrap().status.code,
        Some(Code::Quarantine)
    );
    // ForceDeletes: held deletions go out, the TooManyDeletes quarantine lifts.
    jobs.restart(&q, Some(RestartScope::FORCE_DELETES))
        .await
        .unwrap();
    assert_eq!(internals().held_deletions, 0);
    assert_eq!(internals().released_deletions, 9);
    assert_eq!(jobs.get(&q).await.unwrap().status.code, Some(Code::Active));
    // The documented example: watermark reset means a full cycle (NotRun).
    let scope: RestartScope = "Watermark, Escrows, QuarantineState".parse().unwrap();
    jobs.restart(&q, Some(scope.clone())).await.unwrap();
    assert!(!internals().watermark);
    assert_eq!(jobs.get(&q).await.unwrap().status.code, Some(Code::NotRun));

    // The emulator's log shows what reached the wire, flag by flag.
    let restarts: Vec<_> = emu
        .actions()
        .into_iter()
        .filter(|a| a.action == "restart")
        .collect();
    assert_eq!(restarts.len(), 3);
    let detail = restarts[2].detail.clone().unwrap();
    assert!(
        detail.starts_with("resetScope Escrows, Watermark, QuarantineState"),
        "{detail}"
    );

    // A quarantined job restarted with the portal's default lifts it.
    let emu2 = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs2 = operator(&emu2);
    jobs2.restart(&q, None).await.unwrap();
    let after = jobs2.get(&q).await.unwrap();
    assert!(after.status.quarantine.is_none());
    // An unknown flag is refused by the service, not dropped by the client.
    let bad: RestartScope = "Watermark, Everything".parse().unwrap();
    let e = jobs2.restart(&q, Some(bad)).await.unwrap_err();
    assert_eq!(status(&e), Some(400));
}

#[tokio::test]
async fn provision_on_demand_is_typed_and_limited_to_five_per_ten_seconds() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    // Without retries, to see the 429 itself rather than wait it out.
    let jobs = common::client_with(
        &emu,
        hyper(),
        default_ids::OPERATOR_CLIENT_ID,
        default_ids::OPERATOR_CLIENT_SECRET,
        graph_transport::RetryOptions::none(),
    );
    let job = JobRef::service_principal(ACTIVE.service_principal_id, ACTIVE.job_id).unwrap();
    let schema = jobs.schema(&job).await.unwrap();
    let rule = schema.synchronization_rules[0].id.clone().unwrap();
    let params = [SynchronizationJobApplicationParameters::new(
        rule.clone(),
        vec![SynchronizationJobSubject::new(
            "52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76",
            "User",
        )],
    )];
    for _ in 0..5 {
        let result = jobs.provision_on_demand(&job, &params).await.unwrap();
        assert_eq!(result.result(), Some("Success"));
        assert_eq!(result.record.provisioning_steps.len(), 3);
        assert_eq!(
            result.record.reportable_identifier.as_deref(),
            Some("52cf7b7a-52be-4a9b-9c69-e4d4a4a14f76")
        );
    }
    let throttled = jobs.provision_on_demand(&job, &params).await.unwrap_err();
    let service = throttled.service_error().unwrap();
    assert_eq!(service.status.as_u16(), 429);
    assert!(service.retry_after.is_some(), "{service:?}");
    assert!(throttled.request_id().is_some());
    emu.advance_clock(Duration::from_secs(10)).unwrap();
    jobs.provision_on_demand(&job, &params).await.unwrap();

    let wrong_rule = [SynchronizationJobApplicationParameters::new(
        "not-a-rule",
        vec![SynchronizationJobSubject::new("x", "User")],
    )];
    let e = jobs
        .provision_on_demand(&job, &wrong_rule)
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(400));
}

#[tokio::test]
async fn secrets_validate_credentials_schema_and_templates() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = operator(&emu);
    let owner = sp(NOT_CONFIGURED.service_principal_id);
    let job = JobRef::new(owner.clone(), NOT_CONFIGURED.job_id).unwrap();

    // Saved credentials: none yet, so validation fails; after PUT secrets it passes.
    let saved = ValidateCredentialsBody::saved();
    let e = jobs.validate_credentials(&job, &saved).await.unwrap_err();
    assert_eq!(status(&e), Some(400));
    let secrets = vec![
        SynchronizationSecretKeyStringValuePair::new(
            SynchronizationSecret::BaseAddress,
            "https://scim.example.com/scim",
        ),
        SynchronizationSecretKeyStringValuePair::new(SynchronizationSecret::SecretToken, "s3cr3t"),
    ];
    assert_eq!(
        jobs.replace_secrets(&owner, &secrets).await.unwrap().status,
        204
    );
    assert_eq!(
        jobs.validate_credentials(&job, &saved)
            .await
            .unwrap()
            .status,
        204
    );
    // The collection form, with explicit credentials.
    let explicit =
        ValidateCredentialsBody::with_credentials(secrets.clone()).template_id("SfSandboxOutDelta");
    jobs.validate_credentials_for_owner(&owner, &explicit)
        .await
        .unwrap();
    // The log names the secret keys, never their values.
    let log = serde_json::to_string(&emu.actions()).unwrap();
    assert!(
        log.contains("BaseAddress") && !log.contains("s3cr3t"),
        "{log}"
    );

    // acquireAccessToken: refused without a secret token, saved with one.
    let e = jobs
        .acquire_access_token(&owner, secrets[..1].to_vec())
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(400));
    assert_eq!(
        jobs.acquire_access_token(&owner, secrets.clone())
            .await
            .unwrap()
            .status,
        204
    );

    // Schema: read, change, write back; unknown parts survive.
    let mut schema = jobs.schema(&job).await.unwrap();
    assert!(schema.additional_properties.contains_key("directories"));
    schema.synchronization_rules[0].name = Some("renamed".into());
    jobs.replace_schema(&job, &schema).await.unwrap();
    let again = jobs.schema(&job).await.unwrap();
    assert_eq!(
        again.synchronization_rules[0].name.as_deref(),
        Some("renamed")
    );
    assert_eq!(again.additional_properties, schema.additional_properties);
    assert!(
        again.synchronization_rules[0]
            .additional_properties
            .contains_key("objectMappings")
    );

    // Templates: list and get; beta writes metadata keys in its casing.
    let templates = jobs.templates(&owner).await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].id, "SfSandboxOutDelta");
    let one = jobs.template(&owner, "sfsandboxoutdelta").await.unwrap();
    assert!(one.default);
    let beta = jobs
        .with_version(ApiVersion::Beta)
        .template(&owner, "SfSandboxOutDelta")
        .await
        .unwrap();
    assert_eq!(beta.metadata[0].key, one.metadata[0].key);
    // Ping is beta only: a v1.0 client refuses before sending anything.
    let pong = jobs
        .with_version(ApiVersion::Beta)
        .ping(&owner)
        .await
        .unwrap();
    assert!(pong.contains("reachable"), "{pong}");
    assert!(matches!(jobs.ping(&owner).await, Err(Error::Request(_))));
    let missing = jobs.template(&owner, "Nope").await.unwrap_err();
    assert_eq!(status(&missing), Some(404));
}

#[tokio::test]
async fn reads_need_read_and_writes_need_write_permission() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let reader = client_as(
        &emu,
        default_ids::READER_CLIENT_ID,
        default_ids::READER_CLIENT_SECRET,
    );
    let owner = sp(PAUSED.service_principal_id);
    let job = JobRef::new(owner.clone(), PAUSED.job_id).unwrap();
    reader.list(&owner).await.unwrap();
    reader.templates(&owner).await.unwrap();
    reader.schema(&job).await.unwrap();
    for e in [
        reader.pause(&job).await.unwrap_err(),
        reader.restart(&job, None).await.unwrap_err(),
        reader.delete(&job).await.unwrap_err(),
        reader.create(&owner, "scim").await.unwrap_err(),
        reader.replace_secrets(&owner, &[]).await.unwrap_err(),
    ] {
        assert_eq!(status(&e), Some(403), "{e}");
        assert_eq!(
            e.service_error().unwrap().code,
            "Authorization_RequestDenied"
        );
    }
    // The owner-scoped client may change the app it owns, and no other.
    let owner_client = client_as(
        &emu,
        default_ids::OWNER_CLIENT_ID,
        default_ids::OWNER_CLIENT_SECRET,
    );
    owner_client.pause(&job).await.unwrap();
    let other = JobRef::service_principal(ACTIVE.service_principal_id, ACTIVE.job_id).unwrap();
    assert_eq!(
        status(&owner_client.pause(&other).await.unwrap_err()),
        Some(403)
    );
    // Nothing the refused calls asked for happened.
    let applied: Vec<_> = emu.actions().into_iter().map(|a| a.action).collect();
    assert_eq!(applied, ["pause"]);
}

#[tokio::test]
async fn a_token_the_service_refuses_is_dropped_from_the_cache_and_replaced() {
    let emu = Emulator::start(EmulatorOptions::default()).await.unwrap();
    let jobs = operator(&emu);
    let job = JobRef::service_principal(PAUSED.service_principal_id, PAUSED.job_id).unwrap();
    jobs.get(&job).await.unwrap();
    assert_eq!(emu.stats().token_requests, 1);
    // The emulator's clock passes the token's lifetime; the client's cache,
    // on real time, still thinks it fresh. The 401 evicts it.
    emu.advance_clock(Duration::from_secs(2 * 3600)).unwrap();
    jobs.get(&job).await.unwrap();
    assert_eq!(emu.stats().token_requests, 2);
    // The fresh token is cached in turn.
    jobs.get(&job).await.unwrap();
    assert_eq!(emu.stats().token_requests, 2);
}
