//! Static assets compiled into the binary, so a release binary serves them wherever it
//! runs and nothing is fetched from a CDN.

use actix_web::{HttpResponse, web};

const FILES: &[(&str, &str, &str)] = &[
    (
        "css/app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/css/app.css"),
    ),
    (
        "js/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/app.js"),
    ),
    (
        "css/invoice-print.css",
        "text/css; charset=utf-8",
        include_str!("../../static/css/invoice-print.css"),
    ),
    (
        "js/catalogue.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/catalogue.js"),
    ),
];

pub async fn serve(path: web::Path<String>) -> HttpResponse {
    match FILES.iter().find(|(p, _, _)| *p == path.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found"),
    }
}
