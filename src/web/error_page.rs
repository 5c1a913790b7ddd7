//! `AppError` as a page: the HTML error page for the site, or the redirect to the login
//! form. The error itself (codes, statuses, messages) is `crate::error`'s; rendering it
//! is the web layer's.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::layout::Layout;
use super::urlencode;
use crate::error::{AppError, FieldProblem};

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    message: String,
    /// Which fields were refused, so a form refused at the edge says what to fix.
    details: Vec<FieldProblem>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        if let AppError::LoginRequired { next } = self {
            let target = match next {
                Some(n) => format!("/login?next={}", urlencode(n)),
                None => "/login".into(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        let status = self.status();
        let page = ErrorPage {
            layout: Layout::anonymous(status.canonical_reason().unwrap_or("Error")),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            // "The input is not valid" says nothing a person can act on: the list does.
            message: match self {
                AppError::Validation(_) => {
                    "Some of what you sent needs changing: see below, then try again.".into()
                }
                other => other.public_message(),
            },
            details: self.details(),
        };
        let resp = match page.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(page.message)
            }
        };
        self.with_retry_after(resp)
    }
}
