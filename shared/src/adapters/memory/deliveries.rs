// shape: test support (compiled for tests and the `memory` feature only)
//! MemoryStore: deliveries, attempts, jobs and the reconcile marks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// An endpoint's deliveries in its index's key order (ids are ULIDs: creation order).
fn of_endpoint<'a>(
    s: &'a State,
    tenant_id: &'a str,
    endpoint_id: &'a str,
) -> impl DoubleEndedIterator<Item = &'a DeliveryRecord> + 'a {
    s.deliveries
        .values()
        .filter(move |d| d.tenant_id == tenant_id && d.endpoint_id.as_deref() == Some(endpoint_id))
}

#[async_trait]
impl DeliveryRead for MemoryStore {
    async fn get_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with("get_delivery", |s| {
            Ok(s.deliveries.get(&k(tenant_id, delivery_id)).cloned())
        })
    }

    async fn get_attempts(
        &self,
        tenant_id: &str,
        delivery_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        self.with("get_attempts", |s| {
            Ok(s.attempts
                .iter()
                .filter(|((t, d, _), _)| t == tenant_id && d == delivery_id)
                .map(|(_, a)| a.clone())
                .collect())
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
            let limit = limit.max(1);
            let mut found = Vec::new();
            let mut last_read: Option<String> = None;
            let newer_first = of_endpoint(s, tenant_id, endpoint_id)
                .rev()
                .filter(|d| after.is_none_or(|a| d.id.as_str() < a));
            for (read, d) in newer_first.enumerate() {
                if found.len() > limit || read == budget {
                    // Stopped with more left (as a Query stopped by its Limit).
                    let stopped_at = last_read.filter(|_| found.len() <= limit);
                    return Ok(DeliveryPage::cut(found, limit, stopped_at));
                }
                if status.is_none_or(|st| d.status == st) {
                    found.push(d.clone());
                }
                last_read = Some(d.id.clone());
            }
            Ok(DeliveryPage::cut(found, limit, None))
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
        self.with("window_page", |s| {
            let mut left = of_endpoint(s, tenant_id, endpoint_id)
                .filter(|d| d.id >= lo && d.id <= hi)
                .filter(|d| after.is_none_or(|a| d.id.as_str() > a));
            let deliveries: Vec<DeliveryRecord> =
                left.by_ref().take(limit.max(1)).cloned().collect();
            let more = left.next().is_some();
            let next_after = deliveries.last().map(|d| d.id.clone()).filter(|_| more);
            Ok(DeliveryPage {
                deliveries,
                next_after,
            })
        })
    }

    async fn failed_deliveries_between(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        since: EpochMillis,
        until: EpochMillis,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (lo, hi) = crate::domain::ids::delivery_id_bounds(since, until);
        self.with("failed_deliveries_between", |s| {
            Ok(of_endpoint(s, tenant_id, endpoint_id)
                .filter(|d| d.id >= lo && d.id <= hi && d.status == DeliveryStatus::Failed)
                .cloned()
                .collect())
        })
    }
}

#[async_trait]
impl AttemptLog for MemoryStore {
    async fn claim(
        &self,
        delivery: &DeliveryRecord,
        owner: &str,
        now: EpochMillis,
        lease_until: EpochMillis,
        manual: bool,
    ) -> Result<(), StoreError> {
        self.with("claim", |s| {
            match s.deliveries.get_mut(&k(&delivery.tenant_id, &delivery.id)) {
                Some(d)
                    if (manual || d.status == DeliveryStatus::Pending)
                        && d.attempt_count == delivery.attempt_count
                        && d.lease_until.is_none_or(|l| l < now) =>
                {
                    d.lease_until = Some(lease_until);
                    d.lease_owner = Some(owner.to_owned());
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn record_attempt(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.with("record_attempt", |s| {
            let key = (
                tenant_id.to_owned(),
                attempt.delivery_id.clone(),
                attempt.number,
            );
            if s.attempts.contains_key(&key) {
                return conflict();
            }
            s.attempts.insert(key, attempt.clone());
            advance(s, tenant_id, attempt, update, owner)
        })
    }

    async fn advance_delivery(
        &self,
        tenant_id: &str,
        attempt: &AttemptRecord,
        update: &DeliveryUpdate,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.with("advance_delivery", |s| {
            advance(s, tenant_id, attempt, update, owner)
        })
    }

    async fn get_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        number: u32,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        self.with("get_attempt", |s| {
            let key = (tenant_id.to_owned(), delivery_id.to_owned(), number);
            Ok(s.attempts.get(&key).cloned())
        })
    }
}

/// Moves a delivery on after `attempt`, if `owner` holds it and it is at the attempt before.
fn advance(
    s: &mut State,
    tenant_id: &str,
    attempt: &AttemptRecord,
    update: &DeliveryUpdate,
    owner: &str,
) -> Result<(), StoreError> {
    let Some(d) = s.deliveries.get_mut(&k(tenant_id, &attempt.delivery_id)) else {
        return conflict();
    };
    if d.lease_owner.as_deref() != Some(owner)
        || d.attempt_count != attempt.number.saturating_sub(1)
    {
        return conflict();
    }
    d.attempt_count = attempt.number;
    d.status = update.status;
    d.updated_at = attempt.started_at + i64::try_from(attempt.duration_ms).unwrap_or(0);
    if attempt.manual {
        d.retry_base += 1; // a manual attempt takes no place in the schedule
    }
    d.next_attempt_at = update.next_attempt_at;
    d.last_error = update.last_error.clone();
    d.lease_until = None;
    d.lease_owner = None;
    if d.status != DeliveryStatus::Pending {
        s.marks.remove(&k(tenant_id, &attempt.delivery_id));
    }
    Ok(())
}

#[async_trait]
impl DeliveryControl for MemoryStore {
    async fn restart_delivery(
        &self,
        delivery: &DeliveryRecord,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("restart_delivery", |s| {
            match s.deliveries.get_mut(&k(&delivery.tenant_id, &delivery.id)) {
                Some(d) if d.status == DeliveryStatus::Failed => {
                    s.marks.insert(k(&delivery.tenant_id, &delivery.id), now);
                    d.status = DeliveryStatus::Pending;
                    d.retry_base = d.attempt_count;
                    d.updated_at = now;
                    d.next_attempt_at = None;
                    d.last_error = None;
                    d.lease_until = None;
                    d.lease_owner = None;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }

    async fn fail_delivery(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("fail_delivery", |s| {
            match s.deliveries.get_mut(&k(tenant_id, delivery_id)) {
                Some(d) if d.status == DeliveryStatus::Pending => {
                    s.marks.remove(&k(tenant_id, delivery_id));
                    d.status = DeliveryStatus::Failed;
                    d.last_error = Some(reason.to_owned());
                    d.updated_at = now;
                    d.next_attempt_at = None;
                    d.lease_until = None;
                    d.lease_owner = None;
                    Ok(())
                }
                _ => conflict(),
            }
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
    async fn stale_candidates(
        &self,
        before: EpochMillis,
        limit: usize,
    ) -> Result<Vec<StaleCandidate>, StoreError> {
        self.with("stale_candidates", |s| {
            let mut found: Vec<StaleCandidate> = s
                .marks
                .iter()
                .filter(|(_, mark)| **mark < before)
                .map(|((t, d), mark)| StaleCandidate {
                    tenant_id: t.clone(),
                    delivery_id: d.clone(),
                    mark: *mark,
                })
                .collect();
            found.sort_by_key(|c| c.mark);
            found.truncate(limit);
            Ok(found)
        })
    }

    async fn move_mark(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<(), StoreError> {
        self.with("move_mark", |s| {
            let key = k(tenant_id, delivery_id);
            let pending = s
                .deliveries
                .get(&key)
                .is_some_and(|d| d.status == DeliveryStatus::Pending);
            match s.marks.get_mut(&key) {
                Some(mark) if pending && *mark == from => {
                    *mark = to;
                    Ok(())
                }
                _ => conflict(),
            }
        })
    }
}
