//! DynamoDB's billing arithmetic, from the wire format (`{"S": "..."}` attribute values), with
//! no knowledge of this project's key layout: item sizes, read and write units, and the index
//! writes an item change causes. Rules from the DynamoDB developer guide ("DynamoDB item sizes
//! and formats", "DynamoDB read and write operations", "Transactions: capacity management",
//! "Global secondary indexes: provisioned throughput considerations").

use base64::Engine;
use serde_json::{Map, Value};

/// An item as it travels on the wire: attribute name → attribute value.
pub type Item = Map<String, Value>;

pub const WRITE_UNIT_BYTES: u64 = 1024;
pub const READ_UNIT_BYTES: u64 = 4096;

/// The size of an item: each attribute's UTF-8 name length plus its value's size.
pub fn item_size(item: &Item) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

/// The size of one attribute value. Lists and maps cost 3 bytes plus 1 byte per element;
/// sets cost the sum of their elements.
pub fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len() as u64,
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => binary_size(b),
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.len() as u64)
            .sum(),
        ("NS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(number_size).sum(),
        ("BS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(binary_size).sum(),
        ("L", Value::Array(a)) => 3 + a.iter().map(|v| 1 + value_size(v)).sum::<u64>(),
        ("M", Value::Object(m)) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_size(v))
                .sum::<u64>()
        }
        _ => 0,
    }
}

/// A number: 1 byte per two significant digits (leading and trailing zeroes trimmed), plus 1;
/// a negative number 1 more.
pub fn number_size(n: &str) -> u64 {
    let n = n.trim();
    let mantissa = n.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1) as u64;
    let sign = u64::from(mantissa.starts_with('-'));
    significant.div_ceil(2) + 1 + sign
}

fn binary_size(b64: &str) -> u64 {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_or(b64.len() as u64 * 3 / 4, |raw| raw.len() as u64)
}

/// Write units of one item write: 1 per started KB, at least 1.
pub fn write_units(bytes: u64) -> u64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1)
}

/// How a read is made, which fixes what a 4 KB read unit costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Eventual,
    Strong,
    Transactional,
}

impl Consistency {
    pub fn from_flag(consistent: bool) -> Self {
        if consistent {
            Self::Strong
        } else {
            Self::Eventual
        }
    }

    fn factor(self) -> f64 {
        match self {
            Self::Eventual => 0.5,
            Self::Strong => 1.0,
            Self::Transactional => 2.0,
        }
    }
}

/// Read units of one read of `bytes` (one item, or a whole Query/Scan page): 1 per started 4 KB,
/// at least 1, halved when eventually consistent, doubled in a transaction.
pub fn read_units(bytes: u64, consistency: Consistency) -> f64 {
    bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64 * consistency.factor()
}

/// What an index holds of an item besides the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    pub name: String,
    /// The index's key attributes (hash, then range if any).
    pub key: Vec<String>,
    pub projection: Projection,
}

/// What billing needs to know of a table: its key and its indexes (GSIs and LSIs alike).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInfo {
    pub key: Vec<String>,
    pub indexes: Vec<IndexInfo>,
}

impl TableInfo {
    /// From a DescribeTable answer (`{"Table": {...}}` or the inner object).
    pub fn from_describe(describe: &Value) -> Self {
        let table = describe.get("Table").unwrap_or(describe);
        let key = key_names(table.get("KeySchema"));
        let mut indexes = Vec::new();
        for list in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
            for index in table
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                indexes.push(IndexInfo {
                    name: index["IndexName"].as_str().unwrap_or_default().to_owned(),
                    key: key_names(index.get("KeySchema")),
                    projection: projection(&index["Projection"]),
                });
            }
        }
        Self { key, indexes }
    }

    /// The item's primary key attributes.
    pub fn key_of(&self, item: &Item) -> Item {
        self.key
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }

    pub fn index(&self, name: &str) -> Option<&IndexInfo> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The index entry an item makes, or `None` if the item lacks one of the index's keys.
    pub fn project(&self, index: &IndexInfo, item: &Item) -> Option<Item> {
        if !index.key.iter().all(|k| item.contains_key(k)) {
            return None;
        }
        let keep = |name: &str| {
            self.key.iter().any(|k| k == name)
                || index.key.iter().any(|k| k == name)
                || match &index.projection {
                    Projection::All => true,
                    Projection::KeysOnly => false,
                    Projection::Include(attrs) => attrs.iter().any(|a| a == name),
                }
        };
        Some(
            item.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// Write units each index is charged when an item goes from `before` to `after` (`None`:
    /// absent): a new entry is one write, a removed entry one, a changed index key two (delete
    /// and put), a change of projected attributes only one; nothing if the entry is unchanged.
    pub fn index_writes(&self, before: Option<&Item>, after: Option<&Item>) -> Vec<(String, u64)> {
        self.indexes
            .iter()
            .filter_map(|index| {
                let old = before.and_then(|i| self.project(index, i));
                let new = after.and_then(|i| self.project(index, i));
                let units = match (old, new) {
                    (None, None) => 0,
                    (Some(o), None) => write_units(item_size(&o)),
                    (None, Some(n)) => write_units(item_size(&n)),
                    (Some(o), Some(n)) if o == n => 0,
                    (Some(o), Some(n)) => {
                        let key_changed = index.key.iter().any(|k| o.get(k) != n.get(k));
                        if key_changed {
                            write_units(item_size(&o)) + write_units(item_size(&n))
                        } else {
                            write_units(item_size(&o).max(item_size(&n)))
                        }
                    }
                };
                (units > 0).then(|| (index.name.clone(), units))
            })
            .collect()
    }
}

fn key_names(schema: Option<&Value>) -> Vec<String> {
    let mut keys: Vec<(bool, String)> = schema
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some((
                k.get("KeyType")?.as_str()? != "HASH",
                k.get("AttributeName")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    keys.sort_by_key(|(range, _)| *range);
    keys.into_iter().map(|(_, name)| name).collect()
}

fn projection(p: &Value) -> Projection {
    match p.get("ProjectionType").and_then(Value::as_str) {
        Some("KEYS_ONLY") => Projection::KeysOnly,
        Some("INCLUDE") => Projection::Include(
            p.get("NonKeyAttributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => Projection::All,
    }
}

/// SQS bills every started 64 KB of a request's payload as one request.
pub fn sqs_chunks(payload_bytes: u64) -> u64 {
    payload_bytes.div_ceil(64 * 1024).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().cloned().unwrap_or_default()
    }

    const KB: u64 = 1024;

    #[test]
    fn read_units_follow_the_guide_examples() {
        // "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
        assert_eq!(read_units(3_500, Consistency::Strong), 1.0);
        // "an 8 KB item: 2 strongly consistent, 1 eventually consistent, 4 transactional"
        assert_eq!(read_units(8 * KB, Consistency::Strong), 2.0);
        assert_eq!(read_units(8 * KB, Consistency::Eventual), 1.0);
        assert_eq!(read_units(8 * KB, Consistency::Transactional), 4.0);
        // GetItem of a 10 KB item is rounded to 12 KB
        assert_eq!(read_units(10 * KB, Consistency::Strong), 3.0);
        // BatchGetItem of 1.5 KB and 6.5 KB items: each rounded first, 4 KB + 8 KB = 12 KB
        let batch = read_units(1_536, Consistency::Strong) + read_units(6_656, Consistency::Strong);
        assert_eq!(batch, 3.0);
        // Query: 10 items of 40.8 KB together are rounded once, to 44 KB
        assert_eq!(read_units(41_779, Consistency::Strong), 11.0);
        // Query: 1,500 items of 64 bytes are 96 KB
        assert_eq!(read_units(1_500 * 64, Consistency::Strong), 24.0);
        // a read that finds nothing still costs the minimum
        assert_eq!(read_units(0, Consistency::Eventual), 0.5);
    }

    #[test]
    fn write_units_follow_the_guide_examples() {
        assert_eq!(write_units(500), 1, "rounded up to the next 1 KB");
        assert_eq!(write_units(1_536), 2);
        assert_eq!(
            write_units(0),
            1,
            "a failed condition on a missing item costs 1"
        );
        // "an existing item of 300 KB and a new one of 310 KB: 300 WCU if the condition
        // fails, 310 if it succeeds"
        assert_eq!(write_units(300 * KB), 300);
        assert_eq!(write_units((300 * KB).max(310 * KB)), 310);
        // BatchWriteItem rounds each item first: 500 bytes + 3.5 KB = 1 + 4
        assert_eq!(write_units(500) + write_units(3_584), 5);
        // a transactional write of a 5 KB item is two underlying writes: 10 WCU
        assert_eq!(2 * write_units(5 * KB), 10);
    }

    #[test]
    fn item_sizes_follow_the_guide_rules() {
        // name bytes + UTF-8 bytes of the string
        assert_eq!(item_size(&item(json!({"pk": {"S": "abc"}}))), 5);
        assert_eq!(item_size(&item(json!({"é": {"S": "€"}}))), 2 + 3);
        // numbers: 1 byte per two significant digits + 1
        assert_eq!(number_size("123.45"), 4);
        assert_eq!(number_size("1000"), 2, "trailing zeroes are trimmed");
        assert_eq!(number_size("0.001"), 2, "leading zeroes are trimmed");
        assert_eq!(number_size("1700000000000"), 2);
        assert_eq!(number_size("1764487384123"), 8, "13 digits: 7 bytes + 1");
        assert_eq!(number_size("-12"), 3);
        assert_eq!(number_size("1E+5"), 2);
        // binary: raw bytes, not base64 characters
        assert_eq!(value_size(&json!({"B": "AAECAwQ="})), 5);
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        assert_eq!(value_size(&json!({"NULL": true})), 1);
        // lists and maps: 3 bytes + 1 per element + the elements
        assert_eq!(value_size(&json!({"L": []})), 3);
        assert_eq!(value_size(&json!({"M": {}})), 3);
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"N": "7"}]})),
            3 + 3 + 3
        );
        assert_eq!(value_size(&json!({"M": {"k": {"S": "ab"}}})), 3 + 1 + 1 + 2);
        assert_eq!(value_size(&json!({"SS": ["a", "bc"]})), 3);
        assert_eq!(value_size(&json!({"NS": ["1", "22"]})), 4);
    }

    fn table() -> TableInfo {
        TableInfo::from_describe(&json!({"Table": {
            "KeySchema": [
                {"AttributeName": "sk", "KeyType": "RANGE"},
                {"AttributeName": "pk", "KeyType": "HASH"}
            ],
            "GlobalSecondaryIndexes": [
                {"IndexName": "all", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}},
                {"IndexName": "keys", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}},
                {"IndexName": "inc", "KeySchema": [{"AttributeName": "i", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}
            ]
        }}))
    }

    fn writes(before: Option<Value>, after: Option<Value>) -> Vec<(String, u64)> {
        let (b, a) = (before.map(item), after.map(item));
        table().index_writes(b.as_ref(), a.as_ref())
    }

    fn w(name: &str, units: u64) -> (String, u64) {
        (name.to_owned(), units)
    }

    #[test]
    fn index_writes_follow_keys_and_projections() {
        assert_eq!(table().key, ["pk", "sk"], "hash key first");
        let base = json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "x": {"S": "1"}, "y": {"S": "1"}});
        assert!(
            writes(None, Some(base.clone())).is_empty(),
            "no index key: no index write"
        );
        let mut indexed = base.clone();
        for k in ["a", "k", "i"] {
            indexed[k] = json!({"S": "v"});
        }
        let all = vec![w("all", 1), w("keys", 1), w("inc", 1)];
        assert_eq!(
            writes(None, Some(indexed.clone())),
            all,
            "insert: one write each"
        );
        assert_eq!(
            writes(Some(indexed.clone()), None),
            all,
            "delete: one write each"
        );
        let mut y = indexed.clone();
        y["y"] = json!({"S": "2"});
        assert_eq!(
            writes(Some(indexed.clone()), Some(y)),
            [w("all", 1)],
            "y: ALL only"
        );
        let mut x = indexed.clone();
        x["x"] = json!({"S": "2"});
        assert_eq!(
            writes(Some(indexed.clone()), Some(x)),
            [w("all", 1), w("inc", 1)],
            "x is projected into INCLUDE"
        );
        let mut moved = indexed.clone();
        moved["k"] = json!({"S": "w"});
        assert_eq!(
            writes(Some(indexed.clone()), Some(moved)),
            [w("all", 1), w("keys", 2)],
            "a changed index key is a delete and a put"
        );
        let mut big = indexed.clone();
        big["y"] = json!({"S": "z".repeat(1500)});
        assert_eq!(
            writes(Some(indexed), Some(big))[0],
            w("all", 2),
            "the larger entry"
        );
    }

    #[test]
    fn sqs_bills_64_kb_chunks() {
        assert_eq!(sqs_chunks(0), 1);
        assert_eq!(sqs_chunks(64 * 1024), 1);
        assert_eq!(sqs_chunks(64 * 1024 + 1), 2);
        assert_eq!(sqs_chunks(256 * 1024), 4);
    }
}
