//! The URL edge of `domain::text`'s character rule, for every route at once: a path
//! that decodes to a control character names nothing (404), and a query parameter
//! holding one is refused naming the parameter (422), before any handler or extractor
//! could pass it to the database. Bodies have their own edges (API JSON, `CsrfForm`,
//! multipart fields, CSV rows).

use actix_web::ResponseError as _;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::domain::text;
use crate::error::{ApiError, AppError};

/// Why this URL is refused, if it is.
fn refusal(path: &str, query: &str) -> Option<AppError> {
    if text::path_has_refused(path) {
        return Some(AppError::NotFound);
    }
    // `form_urlencoded` decodes leniently (invalid UTF-8 becomes U+FFFD), so this never
    // fails on a query the handlers' own parsing would then refuse with its reason.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let fields = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    text::pairs_refused(fields, text::TextKind::Line)
        .map(|(field, c)| AppError::invalid(field, text::problem(c)))
}

pub async fn refuse_control_characters<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if let Some(err) = refusal(req.path(), req.query_string()) {
        let resp = if req.path().starts_with("/api/") {
            ApiError(err).error_response()
        } else {
            err.error_response()
        };
        return Ok(req.into_response(resp).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_not_found_and_queries_name_the_parameter() {
        assert!(matches!(
            refusal("/api/v1/batches/x%00", ""),
            Some(AppError::NotFound)
        ));
        match refusal("/catalogue", "segment=insurance&city=Ber%00lin") {
            Some(AppError::Validation(p)) => assert_eq!(p[0].field, "city"),
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(refusal("/catalogue", "city=M%C3%BCnchen&sort=-price").is_none());
    }
}
