//! Jobs: long work accepted by the API (202) and carried out page by page behind it. A job is
//! an item holding its cursor and counts; a job message on the delivery queue makes the delivery
//! function run one page, save the progress (conditional on the progress it read) and send the
//! message on. A crash resumes from the saved cursor; a page done twice is harmless because
//! restarting a delivery is conditional (only a failed one restarts).

use serde::{Deserialize, Serialize};

use crate::domain::clock::EpochMillis;
use crate::domain::ids::IdKind;
use crate::domain::model::{DeliveryRecord, DeliveryStatus, ENDPOINT_DISABLED};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `POST .../endpoints/{ep}/recover`: every failed delivery of a window through its
    /// schedule again.
    Recover,
    /// `PATCH .../endpoints/{ep}` with `enabled: true`: the deliveries its disabling ended.
    Resume,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// A job and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub tenant_id: String,
    pub kind: JobKind,
    pub endpoint_id: String,
    /// The window of deliveries (by creation time, inclusive) the job reads.
    pub since: EpochMillis,
    pub until: EpochMillis,
    /// `Resume` only: deliveries ended by the disabling at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_since: Option<EpochMillis>,
    pub status: JobStatus,
    /// The last delivery id read; the next page starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Deliveries read so far (every page adds what it read).
    pub done: u64,
    /// Deliveries put back on their schedule so far.
    pub requeued: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
}

impl JobRecord {
    /// A running job over an endpoint's deliveries created from `since` to `until`.
    pub fn new(
        tenant_id: &str,
        endpoint_id: &str,
        kind: JobKind,
        (since, until): (EpochMillis, EpochMillis),
        now: EpochMillis,
    ) -> Self {
        Self {
            id: IdKind::Job.generate(),
            tenant_id: tenant_id.to_owned(),
            kind,
            endpoint_id: endpoint_id.to_owned(),
            since,
            until,
            disabled_since: None,
            status: JobStatus::Running,
            cursor: None,
            done: 0,
            requeued: 0,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `d` was restarted by this job and still waits for its first attempt since: a
    /// page that ran before but was not saved (the process stopped between the restart and the
    /// enqueue) enqueues it again. A second message is harmless: the log records each attempt
    /// once.
    pub fn restarted(&self, d: &DeliveryRecord) -> bool {
        d.status == DeliveryStatus::Pending
            && d.restarted_at.is_some_and(|at| at >= self.created_at)
    }

    /// Whether this job puts `d` back on its schedule.
    pub fn selects(&self, d: &DeliveryRecord) -> bool {
        if d.status != DeliveryStatus::Failed {
            return false;
        }
        match self.kind {
            JobKind::Recover => true,
            JobKind::Resume => {
                d.last_error.as_deref() == Some(ENDPOINT_DISABLED)
                    && self
                        .disabled_since
                        .is_none_or(|since| d.updated_at >= since)
            }
        }
    }

    /// The job after a page that read `read` deliveries and requeued `requeued` of them;
    /// `next` is where the following page starts (None: this was the last page).
    pub fn after_page(
        &self,
        read: usize,
        requeued: usize,
        next: Option<String>,
        now: EpochMillis,
    ) -> Self {
        let status = if next.is_some() {
            JobStatus::Running
        } else {
            JobStatus::Done
        };
        Self {
            status,
            cursor: next.or_else(|| self.cursor.clone()),
            done: self.done + read as u64,
            requeued: self.requeued + requeued as u64,
            updated_at: now,
            ..self.clone()
        }
    }
}

/// The body of a job message on the delivery queue: "run the next page of this job". The job
/// item, not the message, holds the cursor, so any copy of the message continues from the
/// progress last saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMessage {
    pub v: u8,
    pub job: JobRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRef {
    pub tenant_id: String,
    pub job_id: String,
}

impl JobMessage {
    pub const VERSION: u8 = 1;

    pub fn new(job: &JobRecord) -> Self {
        Self {
            v: Self::VERSION,
            job: JobRef {
                tenant_id: job.tenant_id.clone(),
                job_id: job.id.clone(),
            },
        }
    }

    /// The message as a queue message (its id is the job's).
    pub fn outgoing(&self) -> Result<crate::ports::queue::OutgoingMessage, serde_json::Error> {
        Ok(crate::ports::queue::OutgoingMessage {
            id: self.job.job_id.clone(),
            body: serde_json::to_string(self)?,
        })
    }

    /// The job a queue message body names, when it is a job message (a delivery message is not).
    /// Job messages are written only by [`Self::outgoing`], which starts them with `{"v":1,"job":`
    /// (a delivery message starts `{"v":1,"tenant_id":`), so a delivery body is told apart
    /// without being parsed twice.
    pub fn parse(body: &str) -> Option<Self> {
        if !body.starts_with(r#"{"v":1,"job":"#) {
            return None;
        }
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            job: Option<JobRef>,
            v: u8,
        }
        let probe: Probe = serde_json::from_str(body).ok()?;
        probe.job.map(|job| Self { v: probe.v, job })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::fanout::new_delivery;
    use crate::domain::model::EventRecord;

    fn failed(last_error: &str, updated_at: EpochMillis) -> DeliveryRecord {
        let event = EventRecord {
            id: crate::domain::ids::IdKind::Event.generate(),
            tenant_id: "t".into(),
            event_type: "a.b".into(),
            payload: "{}".into(),
            metadata: None,
            idempotency_key: None,
            created_at: 1,
            endpoint_ids: vec!["ep_1".into()],
            webhook_url: None,
        };
        DeliveryRecord {
            status: DeliveryStatus::Failed,
            last_error: Some(last_error.into()),
            updated_at,
            ..new_delivery(&event, 0, Some("ep_1".into()), "https://x".into(), 1)
        }
    }

    #[test]
    fn recover_selects_failed_resume_only_what_disabling_ended_since() {
        let recover = JobRecord::new("t", "ep_1", JobKind::Recover, (0, 10), 5);
        let mut resume = JobRecord::new("t", "ep_1", JobKind::Resume, (0, 10), 5);
        resume.disabled_since = Some(100);
        assert!(recover.selects(&failed("HTTP 500", 1)));
        assert!(!resume.selects(&failed("HTTP 500", 200)));
        assert!(resume.selects(&failed(ENDPOINT_DISABLED, 100)));
        assert!(!resume.selects(&failed(ENDPOINT_DISABLED, 99)));
        let pending = DeliveryRecord {
            status: DeliveryStatus::Pending,
            ..failed(ENDPOINT_DISABLED, 200)
        };
        assert!(!recover.selects(&pending) && !resume.selects(&pending));
        let restarted = DeliveryRecord {
            restarted_at: Some(5),
            ..pending.clone()
        };
        assert!(
            recover.restarted(&restarted),
            "restarted since the job began"
        );
        assert!(!recover.restarted(&DeliveryRecord {
            restarted_at: Some(4),
            ..pending.clone()
        }));
        assert!(!recover.restarted(&pending));
    }

    #[test]
    fn pages_add_up_and_the_last_one_ends_the_job() {
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, (0, 10), 5);
        let one = job.after_page(100, 7, Some("dlv_b".into()), 6);
        assert_eq!(
            (one.status, one.done, one.requeued),
            (JobStatus::Running, 100, 7)
        );
        assert_eq!(one.cursor.as_deref(), Some("dlv_b"));
        let two = one.after_page(3, 1, None, 7);
        assert_eq!(
            (two.status, two.done, two.requeued),
            (JobStatus::Done, 103, 8)
        );
        assert_eq!(two.cursor.as_deref(), Some("dlv_b"));
    }

    #[test]
    fn job_messages_are_told_from_delivery_messages() {
        let job = JobRecord::new("t", "ep_1", JobKind::Recover, (0, 10), 5);
        let out = JobMessage::new(&job).outgoing().unwrap();
        assert_eq!(JobMessage::parse(&out.body), Some(JobMessage::new(&job)));
        let delivery = r#"{"v":1,"tenant_id":"t","delivery_id":"dlv_1","event_id":"e","event_type":"a","payload":{"job":1}}"#;
        assert_eq!(JobMessage::parse(delivery), None);
        assert_eq!(JobMessage::parse("not json"), None);
    }
}
