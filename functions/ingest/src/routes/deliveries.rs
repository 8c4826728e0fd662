//! `GET /v1/tenants/{tenant_id}/deliveries/{delivery_id}`: a delivery with all its attempts.

use shared::ids::IdKind;
use shared::store::{DeliveryQueue, Ping};

use super::views::DeliveryView;
use crate::app::{App, Principal, Store, authorize};
use crate::error::ApiError;
use crate::http::ApiResponse;

pub async fn get<S: Store, Q: DeliveryQueue + Ping>(
    app: &App<S, Q>,
    principal: &Principal,
    tenant_id: &str,
    delivery_id: &str,
) -> Result<ApiResponse, ApiError> {
    authorize(principal, tenant_id)?;
    if !IdKind::Delivery.is_valid(delivery_id) || !super::valid_tenant_id(tenant_id) {
        return Err(ApiError::not_found("delivery"));
    }
    let (delivery, attempts) = futures::try_join!(
        app.store.get_delivery(tenant_id, delivery_id),
        app.store.get_attempts(tenant_id, delivery_id)
    )?;
    let delivery = delivery.ok_or_else(|| ApiError::not_found("delivery"))?;
    Ok(ApiResponse::json(
        200,
        &DeliveryView::new(&delivery, Some(&attempts)),
    ))
}
