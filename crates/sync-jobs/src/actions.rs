//! Every job action besides start and get: each is the request value from
//! `graph-model`, one send-and-check, and a decode.

use graph_model::operations as ops;
use graph_model::{
    AcquireAccessTokenBody, JobOwner, JobRef, Page, ProvisionOnDemandResult, Request, RestartScope,
    StringKeyStringValuePair, SynchronizationJob, SynchronizationJobApplicationParameters,
    SynchronizationSchema, SynchronizationSecretKeyStringValuePair, SynchronizationTemplate,
    ValidateCredentialsBody, requests,
};
use serde::de::DeserializeOwned;

use crate::{Error, Outcome, SyncJobsClient, decode, outcome_unknown};

/// How many pages a listing follows before it decides the service is
/// looping: far more than any real owner has (a page holds many jobs).
const MAX_PAGES: usize = 10_000;

impl SyncJobsClient {
    /// Lists the jobs of `owner`, following every `@odata.nextLink` to the
    /// last page.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`Error::Paging`] when the service sends a
    /// page link it already sent (it would loop forever).
    pub async fn list(&self, owner: &JobOwner) -> Result<Vec<SynchronizationJob>, Error> {
        self.list_pages(owner).collect().await
    }

    /// The jobs of `owner` a page at a time: call
    /// [`Pages::next_page`] until it returns `None`.
    pub fn list_pages(&self, owner: &JobOwner) -> Pages<SynchronizationJob> {
        Pages::new(self.clone(), requests::list_jobs(owner, self.version))
    }

    /// Creates a job from the template `template_id` of `owner`. The job is
    /// created disabled (`NotConfigured`); put its secrets in place, then
    /// start it.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`Error::Request`] for an empty template id.
    pub async fn create(
        &self,
        owner: &JobOwner,
        template_id: &str,
    ) -> Result<SynchronizationJob, Error> {
        let request = requests::create_job(owner, self.version, template_id)?;
        self.call_decode(request).await
    }

    /// Deletes `job`: stops it and removes all its state. Accounts it already
    /// provisioned are left alone.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn delete(&self, job: &JobRef) -> Result<Outcome, Error> {
        self.call(requests::delete_job(job, self.version)).await
    }

    /// Pauses `job`. Its progress is kept; the next start resumes it.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    ///
    /// When the answer is lost (a timeout, a dropped connection, a 504), the
    /// job is read: if it is paused the outcome is `verified`, otherwise
    /// pause is sent once more.
    pub async fn pause(&self, job: &JobRef) -> Result<Outcome, Error> {
        let request = self.prepare_request(requests::pause(job, self.version));
        // Once paused, a start is what the job needs next: never refuse it.
        self.start_guard().forget(job);
        match self.execute(&request).await {
            Ok(response) => Ok(Outcome::new(&request, &response)),
            Err(e) if outcome_unknown(&e) => {
                // If the job cannot be read either, the outcome stays unknown.
                let Ok(current) = self.get(job).await else {
                    return Err(e);
                };
                if current.status.code == Some(graph_model::SynchronizationStatusCode::Paused) {
                    return Ok(Outcome::verified(request.operation.name));
                }
                let response = self.execute(&request).await.map_err(|_| e)?;
                Ok(Outcome::new(&request, &response))
            }
            Err(e) => Err(e),
        }
    }

    /// Restarts `job`, reprocessing every object and clearing what `scope`
    /// names. `None` restarts as the portal's "Restart provisioning" does.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn restart(
        &self,
        job: &JobRef,
        scope: Option<RestartScope>,
    ) -> Result<Outcome, Error> {
        self.call(requests::restart(job, self.version, scope)?)
            .await
    }

    /// Provisions the given objects now, outside the schedule, and returns
    /// the decoded outcome. The service allows 5 calls per 10 seconds per
    /// job; past that it answers 429.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`Error::Decode`] when the answer's key or
    /// value is not the JSON document it should be.
    pub async fn provision_on_demand(
        &self,
        job: &JobRef,
        parameters: &[SynchronizationJobApplicationParameters],
    ) -> Result<ProvisionOnDemandResult, Error> {
        let request = requests::provision_on_demand(job, self.version, parameters)?;
        let response = self.execute(&request).await?;
        let pair: StringKeyStringValuePair = decode(request.operation, &response)?;
        ProvisionOnDemandResult::from_pair(pair).map_err(|e| Error::Decode {
            operation: request.operation.name,
            path: e.part.to_owned(),
            message: e.message,
            request_id: response.request_id().map(str::to_owned),
        })
    }

    /// Checks that credentials (or, with `use_saved_credentials`, the saved
    /// ones) reach the target system of `job`. Success means they do.
    ///
    /// # Errors
    /// As [`get`](Self::get); a refusal is an [`Error::Graph`] with the
    /// service's reason.
    pub async fn validate_credentials(
        &self,
        job: &JobRef,
        body: &ValidateCredentialsBody,
    ) -> Result<Outcome, Error> {
        self.call(requests::validate_job_credentials(job, self.version, body)?)
            .await
    }

    /// Checks credentials for a template of `owner` before any job exists
    /// (`…/jobs/validateCredentials`).
    ///
    /// # Errors
    /// As [`validate_credentials`](Self::validate_credentials).
    pub async fn validate_credentials_for_owner(
        &self,
        owner: &JobOwner,
        body: &ValidateCredentialsBody,
    ) -> Result<Outcome, Error> {
        self.call(requests::validate_credentials(owner, self.version, body)?)
            .await
    }

    /// Reads the schema of `job`. Properties graphsync does not model are
    /// kept, so the value can be changed and written back whole.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn schema(&self, job: &JobRef) -> Result<SynchronizationSchema, Error> {
        self.call_decode(requests::get_job_schema(job, self.version))
            .await
    }

    /// Replaces the schema of `job` whole with `schema`.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn replace_schema(
        &self,
        job: &JobRef,
        schema: &SynchronizationSchema,
    ) -> Result<Outcome, Error> {
        self.call(requests::replace_job_schema(job, self.version, schema)?)
            .await
    }

    /// Replaces the secrets (credentials for the target system) of `owner`.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn replace_secrets(
        &self,
        owner: &JobOwner,
        secrets: &[SynchronizationSecretKeyStringValuePair],
    ) -> Result<Outcome, Error> {
        self.call(requests::replace_secrets(owner, self.version, secrets)?)
            .await
    }

    /// Acquires an OAuth access token for the target application of `owner`
    /// with `credentials` and saves it for its jobs.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn acquire_access_token(
        &self,
        owner: &JobOwner,
        credentials: Vec<SynchronizationSecretKeyStringValuePair>,
    ) -> Result<Outcome, Error> {
        let body = AcquireAccessTokenBody::new(credentials);
        let request = Request::for_owner(&ops::ACQUIRE_ACCESS_TOKEN, self.version, owner);
        self.call(request.with_json_body(&body)?).await
    }

    /// Beta only: whether the synchronization of `owner` answers, with the
    /// text the service sends back.
    ///
    /// # Errors
    /// [`Error::Request`] on a v1.0 client (the function is beta only);
    /// otherwise as [`get`](Self::get).
    pub async fn ping(&self, owner: &JobOwner) -> Result<String, Error> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            value: String,
        }
        let answer: Answer = self
            .call_decode(requests::ping(owner, self.version)?)
            .await?;
        Ok(answer.value)
    }

    /// Lists the templates of `owner`, every page.
    ///
    /// # Errors
    /// As [`list`](Self::list).
    pub async fn templates(&self, owner: &JobOwner) -> Result<Vec<SynchronizationTemplate>, Error> {
        Pages::new(self.clone(), requests::list_templates(owner, self.version))
            .collect()
            .await
    }

    /// Reads one template of `owner`.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`Error::Request`] for an unusable template id.
    pub async fn template(
        &self,
        owner: &JobOwner,
        template_id: &str,
    ) -> Result<SynchronizationTemplate, Error> {
        let request = requests::get_template(owner, self.version, template_id)?;
        self.call_decode(request).await
    }

    /// Sends a request whose answer has no body worth reading.
    async fn call(&self, request: Request) -> Result<Outcome, Error> {
        let request = self.prepare_request(request);
        let response = self.execute(&request).await?;
        Ok(Outcome::new(&request, &response))
    }

    /// Sends a request and decodes its answer as `T`.
    async fn call_decode<T: DeserializeOwned>(&self, request: Request) -> Result<T, Error> {
        let request = self.prepare_request(request);
        let response = self.execute(&request).await?;
        decode(request.operation, &response)
    }
}

/// The pages of a collection, fetched one at a time as they are asked for.
///
/// ```no_run
/// # async fn run(jobs: sync_jobs::SyncJobsClient) -> Result<(), sync_jobs::Error> {
/// let owner = graph_model::JobOwner::service_principal("sp-object-id").unwrap();
/// let mut pages = jobs.list_pages(&owner);
/// while let Some(page) = pages.next_page().await? {
///     for job in page {
///         println!("{} {:?}", job.id, job.status.code);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Pages<T> {
    client: SyncJobsClient,
    next: Option<Request>,
    seen: std::collections::HashSet<String>,
    fetched: usize,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    fn new(client: SyncJobsClient, first: Request) -> Self {
        Pages {
            client,
            next: Some(first),
            seen: std::collections::HashSet::new(),
            fetched: 0,
            _item: std::marker::PhantomData,
        }
    }

    /// The next page's items, or `None` after the last page.
    ///
    /// # Errors
    /// As [`SyncJobsClient::get`]; [`Error::Paging`] when the service links
    /// back to a page it already sent. After an error the same page is
    /// asked for again on the next call.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let prepared = self.client.prepare_request(request.clone());
        let response = match self.client.execute(&prepared).await {
            Ok(r) => r,
            Err(e) => {
                self.next = Some(request);
                return Err(e);
            }
        };
        let page: Page<T> = match decode(prepared.operation, &response) {
            Ok(p) => p,
            Err(e) => {
                self.next = Some(request);
                return Err(e);
            }
        };
        self.fetched += 1;
        if let Some(link) = page.next_link {
            if !self.seen.insert(link.clone()) || self.fetched >= MAX_PAGES {
                return Err(Error::Paging {
                    operation: prepared.operation.name,
                    link,
                    pages: self.fetched,
                });
            }
            self.next = Some(Request::next_page(
                prepared.operation,
                prepared.version,
                &link,
            ));
        }
        Ok(Some(page.value))
    }

    /// The remaining pages as a [`Stream`](futures_core::Stream): one item
    /// per page, ending after the last. An error is the stream's last item.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// # async fn run(jobs: sync_jobs::SyncJobsClient) -> Result<(), sync_jobs::Error> {
    /// let owner = graph_model::JobOwner::service_principal("sp-object-id").unwrap();
    /// let mut pages = std::pin::pin!(jobs.list_pages(&owner).into_stream());
    /// while let Some(page) = pages.next().await {
    ///     println!("{} jobs", page?.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl futures_core::Stream<Item = Result<Vec<T>, Error>> + Send
    where
        T: Send + 'static,
    {
        futures_util::stream::unfold(Some(self), |state| async move {
            let mut pages = state?;
            match pages.next_page().await {
                Ok(Some(page)) => Some((Ok(page), Some(pages))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Every remaining item, from every remaining page.
    ///
    /// # Errors
    /// As [`next_page`](Self::next_page).
    pub async fn collect(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(mut page) = self.next_page().await? {
            all.append(&mut page);
        }
        Ok(all)
    }
}
