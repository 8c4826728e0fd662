//! The lease around an attempt: the conditional claim before it (pending, exact attempt count,
//! no live lease), so two copies of a message never POST the same attempt, and the recording
//! after it (the attempt item with `attribute_not_exists`, then the delivery, by the holder
//! only), so a repeated receive never records an attempt twice.

use shared::domain::clock::EpochMillis;
use shared::domain::model::{AttemptRecord, DeliveryRecord};
use shared::ports::{DeliveryUpdate, Enqueue, Sender, StoreError, Visibility};
use tracing::warn;

use crate::action::Action;
use crate::prepare::Dispatch;
use crate::schedule;
use crate::send::Completed;
use crate::worker::{Worker, WorkerStore};

impl<S: WorkerStore, Q: Enqueue + Visibility, H: Sender> Worker<S, Q, H> {
    /// Takes `delivery` for the dispatch's attempt. Returns that attempt when a previous holder
    /// made and recorded it, then stopped before moving the delivery on: its result is carried
    /// forward instead of POSTing again.
    pub(crate) async fn claim(
        &self,
        delivery: &DeliveryRecord,
        dispatch: &Dispatch,
        now: EpochMillis,
    ) -> Result<Option<AttemptRecord>, Action> {
        let lease_until = schedule::lease_until(now, dispatch.timeout);
        match self
            .store
            .claim(delivery, &self.instance, now, lease_until, dispatch.manual)
            .await
        {
            Ok(()) => {}
            // Another copy of the message holds it, or moved it on since the read.
            Err(StoreError::Conflict) => {
                let wait = schedule::claim_taken(dispatch.target.settings.timeout_seconds);
                return Err(Action::Hide(wait));
            }
            Err(e) => return Err(Action::Transient(e.to_string())),
        }
        // Only a holder that never moved the delivery on leaves its lease behind (claim sets
        // it; moving on, failing and restarting clear it), so the read is needed only then.
        if delivery.lease_owner.is_none() {
            return Ok(None);
        }
        let recorded = self
            .store
            .get_attempt(&delivery.tenant_id, &delivery.id, dispatch.number)
            .await
            .map_err(|e| Action::Transient(e.to_string()))?;
        if recorded.is_some() {
            warn!("attempt found recorded by a stopped worker; moving the delivery on from it");
        }
        Ok(recorded)
    }

    /// Records the attempt (unless it was recorded already) and moves the delivery on, while
    /// this worker still holds it.
    pub(crate) async fn record(
        &self,
        tenant_id: &str,
        completed: &Completed,
        update: &DeliveryUpdate,
    ) -> Result<(), Action> {
        let attempt = &completed.attempt;
        let recorded = if completed.carried_forward {
            self.store
                .advance_delivery(tenant_id, attempt, update, &self.instance)
                .await
        } else {
            self.store
                .record_attempt(tenant_id, attempt, update, &self.instance)
                .await
        };
        match recorded {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => {
                warn!("lease lost before the attempt was recorded; the holder's state decides");
                Err(Action::Hide(schedule::LEASE_LOST_SECONDS))
            }
            Err(e) => Err(Action::Transient(format!(
                "attempt made but not recorded: {e}"
            ))),
        }
    }
}
