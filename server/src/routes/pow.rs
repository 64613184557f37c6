//! The proof-of-work challenge: stateless, MAC'd with a key derived from `relay.key`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use candor_protocol::pow::Challenge;

use super::json;
use crate::state::AppState;

/// `GET /v1/pow`: a fresh challenge at the relay's current difficulty.
#[utoipa::path(
    get,
    path = "/v1/pow",
    tag = "mailboxes",
    responses(
        (status = 200, description = "A challenge; solve it with the mailbox ID as context.", body = crate::schema::Challenge),
    )
)]
pub async fn challenge(state: web::Data<AppState>) -> HttpResponse {
    let challenge = Challenge::issue(
        &state.pow_key,
        state.settings.pow_difficulty,
        state.clock.now(),
        state.settings.pow_ttl_secs,
        &mut rand::rng(),
    );
    json(StatusCode::OK, &challenge)
}
