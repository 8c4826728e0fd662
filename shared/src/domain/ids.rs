//! Prefixed, sortable identifiers (`evt_`, `dlv_`, `ep_`, `att_`, `key_`, `job_`) with ULID bodies.

/// The kinds of id the API hands out; the prefix tells a reader what an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Event,
    Delivery,
    Endpoint,
    Attempt,
    ApiKey,
    Job,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Event => "evt_",
            IdKind::Delivery => "dlv_",
            IdKind::Endpoint => "ep_",
            IdKind::Attempt => "att_",
            IdKind::ApiKey => "key_",
            IdKind::Job => "job_",
        }
    }

    /// A new id of this kind. ULIDs sort by creation time, so "newest first" is a key order.
    pub fn generate(self) -> String {
        format!("{}{}", self.prefix(), ulid::Ulid::new())
    }

    /// `n` new ids of this kind in increasing order (one event's deliveries: their key order is
    /// the order they were planned in).
    pub fn generate_ordered(self, n: usize) -> Vec<String> {
        let mut generator = ulid::Generator::new();
        (0..n)
            .map(|_| {
                let ulid = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
                format!("{}{ulid}", self.prefix())
            })
            .collect()
    }

    /// Whether `s` has this kind's shape (prefix + a valid ULID), so malformed ids in URLs are
    /// answered 404 without a table read.
    pub fn is_valid(self, s: &str) -> bool {
        s.strip_prefix(self.prefix())
            .is_some_and(|body| ulid::Ulid::from_string(body).is_ok())
    }
}

/// The smallest and largest delivery ids that deliveries created from `since` to `until`
/// (epoch ms, inclusive) can have: ULIDs start with their millisecond.
pub fn delivery_id_bounds(since: i64, until: i64) -> (String, String) {
    let ms = |t: i64| u64::try_from(t.max(0)).unwrap_or(0);
    (
        format!("dlv_{}", ulid::Ulid::from_parts(ms(since), 0)),
        format!("dlv_{}", ulid::Ulid::from_parts(ms(until), u128::MAX)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_sort_in_generation_order() {
        let ids = IdKind::Delivery.generate_ordered(200);
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.iter().all(|i| IdKind::Delivery.is_valid(i)));
    }

    #[test]
    fn generated_ids_carry_their_prefix_and_validate() {
        for kind in [
            IdKind::Event,
            IdKind::Delivery,
            IdKind::Endpoint,
            IdKind::Attempt,
            IdKind::ApiKey,
            IdKind::Job,
        ] {
            let id = kind.generate();
            assert!(id.starts_with(kind.prefix()), "{id}");
            assert!(kind.is_valid(&id));
        }
        assert!(!IdKind::Event.is_valid("evt_not-a-ulid"));
        assert!(!IdKind::Event.is_valid(&IdKind::Delivery.generate()));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = IdKind::Delivery.generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = IdKind::Delivery.generate();
        assert!(a < b);
    }

    #[test]
    fn delivery_id_bounds_cover_every_id_of_the_window() {
        let (lo, hi) = delivery_id_bounds(1_000, 2_000);
        let id = |ms: u64, r: u128| format!("dlv_{}", ulid::Ulid::from_parts(ms, r));
        assert!(lo <= id(1_000, 0) && id(2_000, u128::MAX) <= hi);
        assert!(id(999, u128::MAX) < lo && hi < id(2_001, 0));
        let (lo, _) = delivery_id_bounds(-5, 0);
        assert_eq!(lo, id(0, 0));
    }
}
