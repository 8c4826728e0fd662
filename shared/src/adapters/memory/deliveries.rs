// shape: test support (compiled for tests and the `memory` feature only)
//! MemoryStore: events, delivery logs, jobs and the reconciler's cursor — kept as
//! `DynamoStore` keeps them: an event names its deliveries, a delivery is its latest log
//! record (pending while it has none), and only recorded deliveries are listed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::domain::ids::{delivery_id, parse_delivery_id};
use crate::domain::log::{after_attempt, after_failure, after_restart};

use super::*;

/// Delivery `index` of `event`: its latest record's state, or pending with nothing recorded.
pub(super) fn state_at(s: &State, event: &EventRecord, index: usize) -> Option<DeliveryRecord> {
    let id = delivery_id(&event.id, index)?;
    if let Some(r) = s.logs.get(&k(&event.tenant_id, &id)).and_then(|l| l.last()) {
        return Some(r.state.clone());
    }
    let url = match event.endpoint_ids.get(index) {
        Some(ep) => s
            .endpoints
            .get(&k(&event.tenant_id, ep))
            .map(|e| e.url.clone())
            .unwrap_or_default(),
        None => event.webhook_url.clone().unwrap_or_default(),
    };
    event.unrecorded_delivery(index, url)
}

fn locate<'a>(s: &'a State, tenant_id: &str, delivery: &str) -> Option<(&'a EventRecord, usize)> {
    let (event_id, index) = parse_delivery_id(delivery)?;
    let event = s.events.get(&k(tenant_id, &event_id))?;
    (index < event.delivery_count()).then_some((event, index))
}

/// Appends `record` unless its number is not the next one.
fn append(s: &mut State, record: LogRecord) -> Result<(), StoreError> {
    let log = s
        .logs
        .entry(k(&record.state.tenant_id, &record.state.id))
        .or_default();
    if usize::try_from(record.state.seq).ok() != Some(log.len() + 1) {
        return conflict();
    }
    log.push(record);
    Ok(())
}

/// The recorded deliveries of an endpoint with their record counts, in id order.
fn of_endpoint<'a>(
    s: &'a State,
    tenant_id: &'a str,
    endpoint_id: &'a str,
) -> impl DoubleEndedIterator<Item = (&'a DeliveryRecord, usize)> + 'a {
    s.logs
        .range(k(tenant_id, "")..k(&format!("{tenant_id}\0"), ""))
        .filter_map(|(_, log)| log.last().map(|r| (&r.state, log.len())))
        .filter(move |(d, _)| d.endpoint_id.as_deref() == Some(endpoint_id))
}

/// The page of `deliveries` (in scan order, with record counts) a scan of at most `budget`
/// records answers, keeping those `keep` accepts.
fn scan<'a>(
    deliveries: impl Iterator<Item = (&'a DeliveryRecord, usize)>,
    limit: usize,
    budget: usize,
    keep: impl Fn(&DeliveryRecord) -> bool,
) -> DeliveryPage {
    let mut found = Vec::new();
    let mut read = 0;
    let mut deliveries = deliveries.peekable();
    while let Some((d, records)) = deliveries.next() {
        read += records;
        if keep(d) {
            found.push(d.clone());
        }
        if found.len() > limit || read >= budget {
            let more = deliveries.peek().is_some();
            return DeliveryPage::cut(found, limit, more.then(|| d.id.clone()));
        }
    }
    DeliveryPage::cut(found, limit, None)
}

#[async_trait]
impl EventWrite for MemoryStore {
    async fn put_event(&self, event: &EventRecord) -> Result<(), StoreError> {
        self.with("put_event", |s| {
            if parse_delivery_id(&delivery_id(&event.id, 0).unwrap_or_default()).is_none() {
                return Err(StoreError::Corrupt(format!(
                    "not an event id: {}",
                    event.id
                )));
            }
            s.events
                .entry(k(&event.tenant_id, &event.id))
                .or_insert_with(|| event.clone());
            Ok(())
        })
    }
}

#[async_trait]
impl EventRead for MemoryStore {
    async fn get_event(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.with("get_event", |s| {
            Ok(s.events.get(&k(tenant_id, event_id)).cloned())
        })
    }

    async fn list_event_deliveries(
        &self,
        tenant_id: &str,
        event_id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with("list_event_deliveries", |s| {
            let Some(e) = s.events.get(&k(tenant_id, event_id)) else {
                return Ok(Vec::new());
            };
            Ok((0..e.delivery_count())
                .filter_map(|i| state_at(s, e, i))
                .collect())
        })
    }
}

#[async_trait]
impl DeliveryRead for MemoryStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with("get_delivery", |s| {
            Ok(locate(s, tenant_id, delivery_id).and_then(|(e, i)| state_at(s, e, i)))
        })
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        self.with("get_attempts", |s| {
            Ok(s.logs
                .get(&k(tenant_id, delivery_id))
                .map(|log| log.iter().filter_map(|r| r.attempt.clone()).collect())
                .unwrap_or_default())
        })
    }

    async fn list_endpoint_deliveries(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DeliveryPage, StoreError> {
        let budget = self.list_scan_budget();
        self.with("list_endpoint_deliveries", |s| {
            let newer_first = of_endpoint(s, tenant_id, endpoint_id)
                .rev()
                .filter(|(d, _)| after.is_none_or(|a| d.id.as_str() < a));
            Ok(scan(newer_first, limit.max(1), budget, |d| {
                status.is_none_or(|st| d.status == st)
            }))
        })
    }

    async fn window_page(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        (since, until): (EpochMillis, EpochMillis),
        after: Option<&str>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let (lo, hi) = crate::domain::ids::delivery_id_bounds(since, until);
        let budget = self.list_scan_budget().max(limit * 4);
        self.with("window_page", |s| {
            let older_first = of_endpoint(s, tenant_id, endpoint_id)
                .filter(|(d, _)| d.id >= lo && d.id <= hi)
                .filter(|(d, _)| after.is_none_or(|a| d.id.as_str() > a));
            Ok(scan(older_first, limit.max(1), budget, |_| true))
        })
    }
}

#[async_trait]
impl AttemptLog for MemoryStore {
    async fn delivery_state(
        &self,
        tenant_id: &str,
        endpoint_id: Option<&str>,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with("delivery_state", |s| {
            Ok(s.logs
                .get(&k(tenant_id, delivery_id))
                .and_then(|log| log.last())
                .map(|r| r.state.clone())
                .filter(|d| d.endpoint_id.as_deref() == endpoint_id))
        })
    }

    async fn record_attempt(
        &self,
        before: &DeliveryRecord,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
    ) -> Result<(), StoreError> {
        let racing = self.take_racing();
        self.with("record_attempt", |s| {
            if let Some(r) = racing {
                append(s, r)?;
            }
            append(s, after_attempt(before, attempt, update))
        })
    }
}

#[async_trait]
impl DeliveryControl for MemoryStore {
    async fn restart_delivery(
        &self,
        d: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("restart_delivery", |s| match after_restart(d, now) {
            Some(r) => append(s, r),
            None => conflict(),
        })
    }

    async fn fail_delivery(
        &self,
        d: &DeliveryRecord,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("fail_delivery", |s| match after_failure(d, reason, now) {
            Some(r) => append(s, r),
            None => conflict(),
        })
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn create_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        self.with("create_job", |s| {
            let key = k(&job.tenant_id, &job.id);
            if s.jobs.contains_key(&key) {
                return conflict();
            }
            s.jobs.insert(key, job.clone());
            Ok(())
        })
    }

    async fn get_job(
        &self,
        tenant_id: &str,
        job_id: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.with("get_job", |s| {
            Ok(s.jobs.get(&k(tenant_id, job_id)).cloned())
        })
    }

    async fn save_job(&self, job: &JobRecord, expected_done: u64) -> Result<(), StoreError> {
        self.with("save_job", |s| {
            match s.jobs.get_mut(&k(&job.tenant_id, &job.id)) {
                Some(j) if j.status == JobStatus::Running && j.done == expected_done => {
                    *j = job.clone();
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}

#[async_trait]
impl Reconcile for MemoryStore {
    async fn take_reconcile_lease(
        &self,
        now: EpochMillis,
        until: EpochMillis,
    ) -> Result<Option<i64>, StoreError> {
        self.with("take_reconcile_lease", |s| {
            if s.reconcile.1 >= now {
                return conflict();
            }
            s.reconcile.1 = until;
            Ok(s.reconcile.0)
        })
    }

    async fn save_reconcile_cursor(
        &self,
        minute: i64,
        until: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("save_reconcile_cursor", |s| {
            s.reconcile = (Some(minute), until);
            Ok(())
        })
    }

    async fn unrecorded_in_minute(&self, minute: i64) -> Result<Vec<Unrecorded>, StoreError> {
        use crate::domain::reconcile::minute_of;
        self.with("unrecorded_in_minute", |s| {
            let mut events: Vec<&EventRecord> = s
                .events
                .values()
                .filter(|e| crate::domain::ids::created_at(&e.id).map(minute_of) == Some(minute))
                .collect();
            events.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(events
                .into_iter()
                .filter_map(|e| {
                    let deliveries: Vec<DeliveryRecord> = (0..e.delivery_count())
                        .filter_map(|i| state_at(s, e, i))
                        .filter(|d| d.seq == 0)
                        .map(|d| DeliveryRecord {
                            url: if d.endpoint_id.is_some() {
                                String::new()
                            } else {
                                d.url
                            },
                            ..d
                        })
                        .collect();
                    (!deliveries.is_empty()).then(|| Unrecorded {
                        event: e.clone(),
                        deliveries,
                    })
                })
                .collect())
        })
    }
}
