//! Reading Query/Scan requests again for billing: what DynamoDB bills a Query or Scan for is
//! every item it read (filtered out or not) at its full size, so when a request projects or
//! filters, the proxy reads the same page again without either.

use serde_json::Value;

use crate::units::Item;

/// The request's operation, for a re-read (Query when it has a key condition).
pub fn op_of(req: &Value) -> &'static str {
    if req.get("KeyConditionExpression").is_some() || req.get("KeyConditions").is_some() {
        "Query"
    } else {
        "Scan"
    }
}

pub fn projects(req: &Value) -> bool {
    req.get("ProjectionExpression").is_some()
        || req.get("AttributesToGet").is_some()
        || req.get("Select").is_some_and(|s| s != "ALL_ATTRIBUTES")
}

pub fn as_items(v: &Value) -> Vec<Item> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.as_object().cloned())
        .collect()
}

/// The same Query/Scan page without projection or filter (names and values the key condition
/// does not use are dropped, as DynamoDB refuses unused ones).
pub fn unfiltered(req: &Value) -> Value {
    let mut out = req.clone();
    if let Some(o) = out.as_object_mut() {
        for k in [
            "ProjectionExpression",
            "FilterExpression",
            "Select",
            "AttributesToGet",
        ] {
            o.remove(k);
        }
        for k in [
            "ReturnConsumedCapacity",
            "QueryFilter",
            "ScanFilter",
            "ConditionalOperator",
        ] {
            o.remove(k);
        }
        let used = tokens(
            o.get("KeyConditionExpression")
                .and_then(Value::as_str)
                .unwrap_or(""),
        );
        for k in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
            if let Some(Value::Object(m)) = o.get_mut(k) {
                m.retain(|name, _| used.contains(name));
                if m.is_empty() {
                    o.remove(k);
                }
            }
        }
    }
    out
}

/// `#name` and `:value` placeholders of an expression.
fn tokens(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' || c == ':' {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(expr[i..end].to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_re_read_keeps_only_what_the_key_condition_uses() {
        let req = json!({
            "TableName": "t", "IndexName": "gsi2",
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
            "FilterExpression": "#st = :st", "ProjectionExpression": "#pk, #st",
            "ExpressionAttributeNames": {"#pk": "gsi2pk", "#sk": "gsi2sk", "#st": "status"},
            "ExpressionAttributeValues": {":pk": {"S": "a"}, ":p": {"S": "b"}, ":st": {"S": "c"}},
            "Limit": 10
        });
        let out = unfiltered(&req);
        assert!(out.get("FilterExpression").is_none() && out.get("ProjectionExpression").is_none());
        assert_eq!(
            out["ExpressionAttributeNames"],
            json!({"#pk": "gsi2pk", "#sk": "gsi2sk"})
        );
        assert_eq!(
            out["ExpressionAttributeValues"],
            json!({":pk": {"S": "a"}, ":p": {"S": "b"}})
        );
        assert_eq!(out["Limit"], 10);
        assert_eq!(op_of(&req), "Query");
    }
}
