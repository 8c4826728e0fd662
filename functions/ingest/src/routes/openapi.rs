//! `GET /v1/openapi.json`.

use crate::http::ApiResponse;

pub fn document() -> ApiResponse {
    ApiResponse::raw_json(200, "{}".into())
}
