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
    /// A portal session (a short-lived tenant key made from a portal link).
    Session,
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
            IdKind::Session => "ses_",
        }
    }

    /// A new id of this kind. ULIDs sort by creation time, so "newest first" is a key order.
    /// A new id of this kind. An event id's body has its low [`INDEX_BITS`] bits clear: its
    /// deliveries' ids are the event's body with those bits set to their index + 1 (see
    /// [`delivery_id`]), so a delivery id says which event (and which of its deliveries) it is.
    pub fn generate(self) -> String {
        let body = match self {
            IdKind::Event => ulid::Ulid(ulid::Ulid::new().0 & !INDEX_MASK),
            _ => ulid::Ulid::new(),
        };
        format!("{}{body}", self.prefix())
    }

    pub fn is_valid(self, s: &str) -> bool {
        s.strip_prefix(self.prefix())
            .is_some_and(|body| ulid::Ulid::from_string(body).is_ok())
    }
}

/// The smallest and largest delivery ids that deliveries created from `since` to `until`
/// (epoch ms, inclusive) can have: ULIDs start with their millisecond.
/// How many low bits of an event id's body number its deliveries.
pub const INDEX_BITS: u32 = 10;
const INDEX_MASK: u128 = (1 << INDEX_BITS) - 1;
/// The most deliveries one event can have.
pub const MAX_DELIVERIES_PER_EVENT: usize = (1 << INDEX_BITS) - 1;

fn body(kind: IdKind, id: &str) -> Option<ulid::Ulid> {
    id.strip_prefix(kind.prefix())
        .and_then(|b| ulid::Ulid::from_string(b).ok())
}

/// The id of delivery number `index` (from 0, in plan order) of event `event_id`; None when
/// the event id is not an event id or the index is beyond [`MAX_DELIVERIES_PER_EVENT`].
pub fn delivery_id(event_id: &str, index: usize) -> Option<String> {
    let event = body(IdKind::Event, event_id)?;
    let index = u128::try_from(index).ok().filter(|i| *i < INDEX_MASK)?;
    if event.0 & INDEX_MASK != 0 {
        return None;
    }
    Some(format!(
        "{}{}",
        IdKind::Delivery.prefix(),
        ulid::Ulid(event.0 | (index + 1))
    ))
}

/// The event a delivery id belongs to and the delivery's index in it.
pub fn parse_delivery_id(delivery_id: &str) -> Option<(String, usize)> {
    let d = body(IdKind::Delivery, delivery_id)?;
    let index = usize::try_from(d.0 & INDEX_MASK).ok()?.checked_sub(1)?;
    let event = ulid::Ulid(d.0 & !INDEX_MASK);
    Some((format!("{}{event}", IdKind::Event.prefix()), index))
}

/// Bits of randomness of an id's body (above the index bits), for spreading items over
/// partitions: stable for an id, uniform over ids.
pub fn spread(id: &str) -> u64 {
    let b = id
        .split_once('_')
        .and_then(|(_, b)| ulid::Ulid::from_string(b).ok())
        .map_or(0, |u| u.0);
    // Truncation is the point: 64 random bits above the index bits.
    #[allow(clippy::cast_possible_truncation)]
    let bits = (b >> INDEX_BITS) as u64;
    bits
}

/// When an id of any kind was generated (its ULID's time), epoch ms.
pub fn created_at(id: &str) -> Option<i64> {
    let b = id
        .split_once('_')
        .and_then(|(_, b)| ulid::Ulid::from_string(b).ok())?;
    i64::try_from(b.timestamp_ms()).ok()
}

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
    fn delivery_ids_name_their_event_and_index_and_sort_after_it() {
        let event = IdKind::Event.generate();
        let ids: Vec<String> = (0..MAX_DELIVERIES_PER_EVENT)
            .map(|i| delivery_id(&event, i).unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "plan order is id order");
        for (i, id) in ids.iter().enumerate() {
            assert!(IdKind::Delivery.is_valid(id), "{id}");
            assert_eq!(parse_delivery_id(id), Some((event.clone(), i)));
            assert_eq!(created_at(id), created_at(&event));
        }
        assert_eq!(delivery_id(&event, MAX_DELIVERIES_PER_EVENT), None);
        assert_eq!(delivery_id(&ids[0], 0), None, "not an event id");
        let odd = format!("evt_{}", ulid::Ulid(ulid::Ulid::new().0 | 1));
        assert_eq!(
            delivery_id(&odd, 0),
            None,
            "index bits of an event are clear"
        );
        let zero = format!("dlv_{}", ulid::Ulid(ulid::Ulid::new().0 & !INDEX_MASK));
        assert_eq!(
            parse_delivery_id(&zero),
            None,
            "index 0 is the event itself"
        );
        assert_eq!(parse_delivery_id("dlv_nope"), None);
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
