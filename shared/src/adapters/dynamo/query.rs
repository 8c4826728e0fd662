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
    /// Until more than `more_than` records were found, the result ends, or `budget` items were
    /// read (before any filter), `page` items a request.
    Window {
        more_than: usize,
        budget: usize,
        page: usize,
    },
}

/// What a Query read.
pub(super) struct Paged<T> {
    pub records: Vec<T>,
    /// The last key read, when reading stopped with more items possibly left.
    pub stopped_at: Option<Item>,
}

/// Sends `query` page after page (each page starting where the last one ended) and reads every
/// item into a record, until the result ends or `pages` says enough.
pub(super) async fn query_pages<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    pages: Pages,
) -> Result<Vec<T>, StoreError> {
    Ok(query_window(query, pages).await?.records)
}

/// [`query_pages`], the items as read (for items that need more than a record type's
/// deserialisation, such as sealed secrets).
pub(super) async fn query_items(
    query: QueryFluentBuilder,
    pages: Pages,
) -> Result<Vec<Item>, StoreError> {
    Ok(query_item_window(query, pages).await?.records)
}

/// [`query_pages`], also saying where reading stopped.
pub(super) async fn query_window<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    pages: Pages,
) -> Result<Paged<T>, StoreError> {
    let read = query_item_window(query, pages).await?;
    Ok(Paged {
        records: read
            .records
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?,
        stopped_at: read.stopped_at,
    })
}

/// [`query_items`], also saying where reading stopped.
async fn query_item_window(
    query: QueryFluentBuilder,
    pages: Pages,
) -> Result<Paged<Item>, StoreError> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    let mut scanned = 0usize;
    loop {
        let mut request = query.clone().set_exclusive_start_key(start.take());
        if let Pages::Window { budget, page, .. } = pages {
            let size = page.min(budget.saturating_sub(scanned)).max(1);
            request = request.limit(i32::try_from(size).unwrap_or(i32::MAX));
        }
        let page = request.send().await.map_err(map_err)?;
        let items = page.items.unwrap_or_default();
        scanned += usize::try_from(page.scanned_count)
            .unwrap_or(0)
            .max(items.len());
        found.extend(items);
        let enough = match pages {
            Pages::All => false,
            Pages::Window {
                more_than, budget, ..
            } => found.len() > more_than || scanned >= budget,
        };
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() && !enough => start = Some(k),
            Some(k) if !k.is_empty() => {
                return Ok(Paged {
                    records: found,
                    stopped_at: Some(k),
                });
            }
            _ => {
                return Ok(Paged {
                    records: found,
                    stopped_at: None,
                });
            }
        }
    }
}
