//! Errors as `application/problem+json` (RFC 9457) with stable codes.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

use crate::service::ServiceError;

/// A problem response.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (also the last segment of `type`).
    pub code: &'static str,
    /// Human-readable detail (never personal data).
    pub detail: String,
}

impl Problem {
    /// A problem with a status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            detail: detail.into(),
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServiceError::Unauthenticated(_) | ServiceError::Replay => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::RateLimited | ServiceError::QuotaExceeded(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        // Storage details stay in the server's logs, not in answers. They
        // name SQL and tables, never bound values.
        let detail = match &e {
            ServiceError::Storage(reason) => {
                tracing::error!(reason = %reason, "storage error");
                "storage unavailable".to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            status,
            code: e.code(),
            detail,
        }
    }
}

/// The problem document (RFC 9457) every error answer carries.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(super) struct ProblemBody {
    /// `https://satchel.app/problems/<code>`.
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP reason phrase.
    title: &'static str,
    /// The HTTP status.
    status: u16,
    /// Stable machine-readable code, e.g. `quota_exceeded`.
    code: &'static str,
    /// What went wrong, in words (never personal data).
    detail: String,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: format!("https://satchel.app/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("error"),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail,
        };
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response()
    }
}
