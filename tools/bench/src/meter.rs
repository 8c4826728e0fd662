//! What the counting proxy has seen: per DynamoDB operation the billed units (ours, from the
//! wire, and moto's own `ConsumedCapacity` for comparison), per SQS operation the calls and
//! 64 KB chunks, per KMS operation the calls. Snapshots subtract, so a scenario's share is the
//! difference of the snapshots around it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// One DynamoDB operation's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct DdbOp {
    pub calls: u64,
    /// Calls DynamoDB would refuse (a failed condition is not one of them: it is billed).
    pub errors: u64,
    pub conditional_failures: u64,
    /// Write units of the base table.
    pub table_wru: f64,
    /// Write units of the index entries the writes changed.
    pub index_wru: f64,
    pub rru: f64,
    /// What moto's `ConsumedCapacity` said (a constant per call: it ignores sizes and indexes).
    pub moto_units: f64,
    /// Calls where moto's figure equals ours for the base table.
    pub moto_agrees: u64,
    /// Query/Scan re-reads whose item count differed from the answer's `ScannedCount`.
    pub scanned_mismatch: u64,
}

impl DdbOp {
    pub fn wru(&self) -> f64 {
        self.table_wru + self.index_wru
    }

    fn add(&mut self, o: &Self, sign: f64) {
        let n = |a: &mut u64, b: u64| *a = (*a as f64 + sign * b as f64) as u64;
        n(&mut self.calls, o.calls);
        n(&mut self.errors, o.errors);
        n(&mut self.conditional_failures, o.conditional_failures);
        n(&mut self.moto_agrees, o.moto_agrees);
        n(&mut self.scanned_mismatch, o.scanned_mismatch);
        self.table_wru += sign * o.table_wru;
        self.index_wru += sign * o.index_wru;
        self.rru += sign * o.rru;
        self.moto_units += sign * o.moto_units;
    }
}

/// One SQS operation's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SqsOp {
    pub calls: u64,
    /// Billed requests: every started 64 KB of a call's payload.
    pub chunks: u64,
    /// Receives that returned no message (long polls of an idle queue).
    pub empty: u64,
    pub messages: u64,
}

impl SqsOp {
    fn add(&mut self, o: &Self, sign: i64) {
        let n = |a: &mut u64, b: u64| *a = (*a as i64 + sign * b as i64) as u64;
        n(&mut self.calls, o.calls);
        n(&mut self.chunks, o.chunks);
        n(&mut self.empty, o.empty);
        n(&mut self.messages, o.messages);
    }
}

/// Everything counted so far (or between two snapshots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Tally {
    pub dynamodb: BTreeMap<String, DdbOp>,
    /// Keyed `origin:Operation`: `function:` calls come from the functions, `esm:` from the
    /// event source mapping stand-in (AWS bills those to the account too).
    pub sqs: BTreeMap<String, SqsOp>,
    pub kms: BTreeMap<String, u64>,
    /// Write units per index.
    pub index_wru: BTreeMap<String, f64>,
    /// Requests of services not counted otherwise.
    pub other: BTreeMap<String, u64>,
}

impl Tally {
    /// What was added since `earlier`.
    pub fn since(&self, earlier: &Tally) -> Tally {
        let mut out = self.clone();
        for (k, v) in &earlier.dynamodb {
            out.dynamodb.entry(k.clone()).or_default().add(v, -1.0);
        }
        for (k, v) in &earlier.sqs {
            out.sqs.entry(k.clone()).or_default().add(v, -1);
        }
        for (k, v) in &earlier.kms {
            *out.kms.entry(k.clone()).or_default() -= v;
        }
        for (k, v) in &earlier.index_wru {
            *out.index_wru.entry(k.clone()).or_default() -= v;
        }
        for (k, v) in &earlier.other {
            *out.other.entry(k.clone()).or_default() -= v;
        }
        out.dynamodb.retain(|_, v| v.calls > 0);
        out.sqs.retain(|_, v| v.calls > 0);
        out.kms.retain(|_, v| *v > 0);
        out.index_wru.retain(|_, v| *v > 0.0);
        out.other.retain(|_, v| *v > 0);
        out
    }

    pub fn wru(&self) -> f64 {
        self.dynamodb.values().map(DdbOp::wru).sum()
    }

    pub fn rru(&self) -> f64 {
        self.dynamodb.values().map(|o| o.rru).sum()
    }

    pub fn moto_units(&self) -> f64 {
        self.dynamodb.values().map(|o| o.moto_units).sum()
    }

    /// Billed SQS requests, leaving out receives that found nothing (an idle mapping's polls
    /// are a fixed cost per month, not a cost per delivery).
    pub fn sqs_billed(&self) -> u64 {
        self.sqs
            .values()
            .map(|o| o.chunks - o.empty.min(o.chunks))
            .sum()
    }

    pub fn kms_calls(&self) -> u64 {
        self.kms.values().sum()
    }
}

/// The proxy's shared counters.
#[derive(Debug, Default)]
pub struct Meter(Mutex<Tally>);

impl Meter {
    pub fn snapshot(&self) -> Tally {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }

    fn with(&self, f: impl FnOnce(&mut Tally)) {
        if let Ok(mut t) = self.0.lock() {
            f(&mut t);
        }
    }

    pub fn dynamodb(&self, op: &str, add: &DdbOp, indexes: &[(String, u64)]) {
        self.with(|t| {
            t.dynamodb.entry(op.to_owned()).or_default().add(add, 1.0);
            for (name, units) in indexes {
                *t.index_wru.entry(name.clone()).or_default() += *units as f64;
            }
        });
    }

    pub fn sqs(&self, origin: &str, op: &str, add: &SqsOp) {
        self.with(|t| {
            t.sqs
                .entry(format!("{origin}:{op}"))
                .or_default()
                .add(add, 1)
        });
    }

    pub fn kms(&self, op: &str) {
        self.with(|t| *t.kms.entry(op.to_owned()).or_default() += 1);
    }

    pub fn other(&self, what: &str) {
        self.with(|t| *t.other.entry(what.to_owned()).or_default() += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_difference_is_what_happened_in_between() {
        let meter = Meter::default();
        let op = DdbOp {
            calls: 1,
            table_wru: 1.0,
            index_wru: 2.0,
            ..DdbOp::default()
        };
        meter.dynamodb("PutItem", &op, &[("gsi1".into(), 2)]);
        meter.sqs(
            "esm",
            "ReceiveMessage",
            &SqsOp {
                calls: 1,
                chunks: 1,
                empty: 1,
                messages: 0,
            },
        );
        let before = meter.snapshot();
        meter.dynamodb("PutItem", &op, &[("gsi1".into(), 2)]);
        meter.sqs(
            "function",
            "SendMessageBatch",
            &SqsOp {
                calls: 1,
                chunks: 2,
                ..SqsOp::default()
            },
        );
        let diff = meter.snapshot().since(&before);
        assert_eq!(diff.wru(), 3.0);
        assert_eq!(diff.dynamodb["PutItem"].calls, 1);
        assert_eq!(diff.index_wru["gsi1"], 2.0);
        assert_eq!(diff.sqs_billed(), 2);
        assert!(
            !diff.sqs.contains_key("esm:ReceiveMessage"),
            "unchanged entries drop out"
        );
    }
}
