//! The one pagination loop every whole-result Query goes through (a delivery scan across
//! shards pages on its own, in [`super::log_scan`]).

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use crate::ports::store::StoreError;

use super::item::{Item, s};
use super::{DynamoStore, map_err};

impl DynamoStore {
    /// A Query of the items in partition `pk` whose sort key starts with `sk_prefix`.
    pub(super) fn query_sk_prefix(&self, pk: String, sk_prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(sk_prefix))
    }

    /// A Query of a whole partition.
    pub(super) fn query_pk(&self, pk: String) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
    }
}

/// Sends `query` page after page (each page starting where the last one ended) and returns
/// every item of the result.
pub(super) async fn query_items(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(map_err)?;
        found.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(found),
        }
    }
}
