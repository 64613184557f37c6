//! Service endpoints: health, the relay's limits and the OpenAPI document on the API listener,
//! and Prometheus metrics on the metrics listener.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use candor_protocol::api::{Health, Limits, Versions};

use super::{blocking, json};
use crate::error::ApiError;
use crate::metrics::Gauges;
use crate::state::AppState;

/// `GET /v1/health`.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "service",
    responses(
        (status = 200, description = "The relay is up and its store answered when last tried (on PostgreSQL, a ping once a second; no query is made for this request).", body = crate::schema::Health),
        (status = 503, description = "The relay runs but its store did not answer when last tried (the last ping, or a request since, failed to reach the database): a balancer should send requests elsewhere until this answers 200 again.", body = crate::schema::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A flag, not a query: health is probed often and is the benchmark's ceiling.
    if !state.store.reachable() {
        return Err(ApiError::Unavailable);
    }
    Ok(json(
        StatusCode::OK,
        &Health {
            status: "ok".into(),
        },
    ))
}

/// `GET /v1/limits`.
#[utoipa::path(
    get,
    path = "/v1/limits",
    tag = "service",
    responses((status = 200, description = "What this relay accepts, so that a client checks a sealed envelope before it solves a proof of work.", body = crate::schema::Limits))
)]
pub async fn limits(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.settings;
    json(
        StatusCode::OK,
        &Limits {
            max_envelope_bytes: s.max_envelope_bytes as u64,
            max_envelopes_per_mailbox: s.max_envelopes_per_mailbox,
            max_bytes_per_mailbox: s.max_bytes_per_mailbox,
            pow_difficulty: s.pow_difficulty,
            request_window_secs: s.request_window_secs,
            versions: Versions::ours(),
        },
    )
}

/// `GET /v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "service",
    responses((status = 200, description = "This document (OpenAPI 3.1).", content_type = "application/json"))
)]
pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

/// `GET /metrics`, served only on the metrics listener (`metrics_listen`), not the API's, so it
/// is not in the OpenAPI document.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // A failure to measure the store's size shows as 0 rather than failing the scrape.
    let store_bytes = blocking(&state, |s| s.size_on_disk()).await.unwrap_or(0);
    let (fsyncs, fsync_waiters) = state.durability.counts();
    let text = state.metrics.render(Gauges {
        store_bytes,
        fsyncs,
        fsync_waiters,
    });
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
