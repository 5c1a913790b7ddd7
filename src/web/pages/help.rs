//! Public help: the intake rules and the scoring formula (published, not secret).

use actix_web::HttpResponse;
use askama::Template;

use crate::domain::intake::Column;
use crate::domain::intake::pseudo;
use crate::error::AppResult;
use crate::web::layout::Layout;
use crate::web::render;

pub struct Rule {
    pub code: &'static str,
    pub effect: &'static str,
    pub message: &'static str,
}

#[derive(Template)]
#[template(path = "help/intake.html")]
struct IntakeHelp {
    layout: Layout,
    columns: Vec<&'static str>,
    rules: Vec<Rule>,
}

pub async fn intake() -> AppResult<HttpResponse> {
    let rules = [
        pseudo::HONEYPOT,
        pseudo::TOO_FAST,
        pseudo::FAST_FORM,
        pseudo::DISPOSABLE_EMAIL,
        pseudo::FAKE_PHONE,
        pseudo::FICTION_PHONE,
        pseudo::TEST_NAME,
        pseudo::SHARED_PHONE,
        pseudo::IP_BURST,
    ]
    .into_iter()
    .map(|s| Rule {
        code: s.code,
        effect: match s.severity {
            pseudo::Severity::Hard => "rejects the row",
            pseudo::Severity::Soft => "flag, -10 score",
        },
        message: s.message,
    })
    .collect();
    render(&IntakeHelp {
        layout: Layout::anonymous("Intake and scoring"),
        columns: Column::ALL.iter().map(|c| c.name()).collect(),
        rules,
    })
}
