//! The one pagination loop every Query goes through.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::de::DeserializeOwned;

use crate::ports::store::StoreError;

use super::item::{Item, from_item, s};
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
}

/// When to stop following `LastEvaluatedKey`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pages {
    /// Every page: the whole result.
    All,
    /// Until more than this many records were found (or the result ends).
    UntilMoreThan(usize),
}

/// Sends `query` page after page (each page starting where the last one ended) and reads every
/// item into a record, until the result ends or `pages` says enough.
pub(super) async fn query_pages<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    pages: Pages,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(map_err)?;
        for item in page.items.unwrap_or_default() {
            found.push(from_item(item)?);
        }
        let enough = match pages {
            Pages::All => false,
            Pages::UntilMoreThan(limit) => found.len() > limit,
        };
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() && !enough => start = Some(k),
            _ => return Ok(found),
        }
    }
}
