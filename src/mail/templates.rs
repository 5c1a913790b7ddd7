//! The mails the platform sends: one struct per mail, its three parts in
//! `templates/emails/<name>/{subject.txt,body.txt,body.html}`.

use super::{Email, Rendered, parts};

/// Declares a mail: `email!(Type, "name")` renders `templates/emails/name/*`, where the
/// templates read the mail's fields as `m.<field>`.
macro_rules! email {
    ($ty:ident, $name:literal, $subject:literal, $text:literal, $html:literal) => {
        impl Email for $ty {
            fn render(&self) -> Result<Rendered, askama::Error> {
                #[derive(askama::Template)]
                #[template(path = $subject)]
                struct Subject<'a> {
                    m: &'a $ty,
                }
                #[derive(askama::Template)]
                #[template(path = $text)]
                struct Text<'a> {
                    m: &'a $ty,
                }
                #[derive(askama::Template)]
                #[template(path = $html)]
                struct Html<'a> {
                    m: &'a $ty,
                }
                parts(
                    $name,
                    &Subject { m: self },
                    &Text { m: self },
                    &Html { m: self },
                )
            }
        }
    };
}

/// To a buyer's people: an invoice was issued.
#[derive(Debug, Clone)]
pub struct InvoiceIssued {
    pub seller_name: String,
    pub buyer_name: String,
    pub number: String,
    pub kind_label: String,
    pub total: String,
    pub due_on: String,
    pub url: String,
    pub payment_instructions: String,
}
email!(
    InvoiceIssued,
    "invoice_issued",
    "emails/invoice_issued/subject.txt",
    "emails/invoice_issued/body.txt",
    "emails/invoice_issued/body.html"
);

/// To a buyer's people: a payment was recorded against an invoice.
#[derive(Debug, Clone)]
pub struct PaymentReceived {
    pub seller_name: String,
    pub buyer_name: String,
    pub number: String,
    pub amount: String,
    pub method: String,
    pub still_open: String,
    pub settled: bool,
    pub url: String,
}
email!(
    PaymentReceived,
    "payment_received",
    "emails/payment_received/subject.txt",
    "emails/payment_received/body.txt",
    "emails/payment_received/body.html"
);

/// To an agency's people: its statement for a period is ready.
#[derive(Debug, Clone)]
pub struct StatementReady {
    pub seller_name: String,
    pub agency_name: String,
    pub period: String,
    pub gross: String,
    pub commission: String,
    pub returns: String,
    pub net: String,
    pub url: String,
}
email!(
    StatementReady,
    "statement_ready",
    "emails/statement_ready/subject.txt",
    "emails/statement_ready/body.txt",
    "emails/statement_ready/body.html"
);

/// To one user who asked for it: the one-time link that sets a new password.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub seller_name: String,
    pub recipient_name: String,
    pub url: String,
    pub valid_minutes: i64,
}
email!(
    PasswordReset,
    "password_reset",
    "emails/password_reset/subject.txt",
    "emails/password_reset/body.txt",
    "emails/password_reset/body.html"
);

/// To a person invited to join an organisation: the one-time link that sets the password
/// of their new account.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub seller_name: String,
    pub organisation_name: String,
    pub inviter_name: String,
    pub role_label: String,
    pub url: String,
    pub valid_hours: i64,
}
email!(
    Invitation,
    "invitation",
    "emails/invitation/subject.txt",
    "emails/invitation/body.txt",
    "emails/invitation/body.html"
);

/// To a person who asked what the marketplace holds about their email: a one-time link.
#[derive(Debug, Clone)]
pub struct MyDataLink {
    pub seller_name: String,
    pub url: String,
    pub valid_hours: i64,
}
email!(
    MyDataLink,
    "my_data_link",
    "emails/my_data_link/subject.txt",
    "emails/my_data_link/body.txt",
    "emails/my_data_link/body.html"
);

/// To a buyer's people: leads it bought were erased; it must delete its copy. Names
/// only ids: the contact is gone.
#[derive(Debug, Clone)]
pub struct LeadErased {
    pub seller_name: String,
    pub buyer_name: String,
    pub count: usize,
    /// (purchase id, lead id).
    pub purchases: Vec<(String, String)>,
    /// Erased by retention rather than at the person's request.
    pub retention: bool,
    pub url: String,
}
email!(
    LeadErased,
    "lead_erased",
    "emails/lead_erased/subject.txt",
    "emails/lead_erased/body.txt",
    "emails/lead_erased/body.html"
);

#[cfg(test)]
mod rights_mail_tests {
    use super::*;

    #[test]
    fn the_my_data_link_mail_says_how_long_it_works() {
        let m = MyDataLink {
            seller_name: "leadmarket".into(),
            url: "https://market.example/my-data/link?token=abc".into(),
            valid_hours: 24,
        }
        .render()
        .unwrap();
        assert_eq!(m.subject, "Your data at leadmarket");
        assert!(
            m.text
                .contains("https://market.example/my-data/link?token=abc")
        );
        assert!(m.text.contains("within 24 hours"));
    }

    #[test]
    fn the_lead_erased_mail_names_purchases_and_nothing_of_the_person() {
        let m = LeadErased {
            seller_name: "leadmarket".into(),
            buyer_name: "Keystone".into(),
            count: 2,
            purchases: vec![("p1".into(), "l1".into()), ("p2".into(), "l2".into())],
            retention: false,
            url: "https://market.example/purchases".into(),
        }
        .render()
        .unwrap();
        assert!(
            m.subject.starts_with("Delete 2 bought leads"),
            "{}",
            m.subject
        );
        assert!(m.text.contains("purchase p2, lead l2"), "{}", m.text);
        assert!(m.text.contains("asked to have their data erased"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(r: &Rendered) -> String {
        format!(
            "subject: {}\n--- text ---\n{}\n--- html ---\n{}",
            r.subject, r.text, r.html
        )
    }

    #[test]
    fn password_reset_mail() {
        let m = PasswordReset {
            seller_name: "leadmarket".into(),
            recipient_name: "Ann <Keystone>".into(),
            url: "https://market.example/password/reset?token=abc123".into(),
            valid_minutes: 30,
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }

    #[test]
    fn invitation_mail() {
        let m = Invitation {
            seller_name: "leadmarket".into(),
            organisation_name: "Keystone <Insurance> & Co".into(),
            inviter_name: "Ann".into(),
            role_label: "Buyer".into(),
            url: "https://market.example/invitation?token=abc123".into(),
            valid_hours: 72,
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }

    #[test]
    fn invoice_issued_mail() {
        let m = InvoiceIssued {
            seller_name: "leadmarket".into(),
            buyer_name: "Keystone <Insurance> & Co".into(),
            number: "LM-2026-000123".into(),
            kind_label: "Invoice".into(),
            total: "€1,234.50".into(),
            due_on: "2026-12-08".into(),
            url: "https://market.example/invoices/abc".into(),
            payment_instructions: "IBAN DE89 3704 0044 0532 0130 00".into(),
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }

    #[test]
    fn payment_received_mail() {
        let m = PaymentReceived {
            seller_name: "leadmarket".into(),
            buyer_name: "Keystone Insurance".into(),
            number: "LM-2026-000123".into(),
            amount: "€500.00".into(),
            method: "bank transfer".into(),
            still_open: "€734.50".into(),
            settled: false,
            url: "https://market.example/invoices/abc".into(),
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }

    #[test]
    fn statement_ready_mail() {
        let m = StatementReady {
            seller_name: "leadmarket".into(),
            agency_name: "Acme Leads".into(),
            period: "November 2026".into(),
            gross: "€10,000.00".into(),
            commission: "€2,000.00".into(),
            returns: "€150.00".into(),
            net: "€7,850.00".into(),
            url: "https://market.example/statements/xyz".into(),
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }
}

/// To the other side of a dispute, at each step.
#[derive(Debug, Clone)]
pub struct DisputeUpdate {
    pub seller_name: String,
    pub recipient_name: String,
    pub headline: String,
    pub reason: String,
    pub detail: String,
    pub url: String,
}
email!(
    DisputeUpdate,
    "dispute_update",
    "emails/dispute_update/subject.txt",
    "emails/dispute_update/body.txt",
    "emails/dispute_update/body.html"
);

/// To an agency and the platform's admins: listings suspended for too many returns.
#[derive(Debug, Clone)]
pub struct AgencySuspended {
    pub seller_name: String,
    pub agency_name: String,
    pub rate: String,
    pub threshold: String,
    pub url: String,
}
email!(
    AgencySuspended,
    "agency_suspended",
    "emails/agency_suspended/subject.txt",
    "emails/agency_suspended/body.txt",
    "emails/agency_suspended/body.html"
);

#[cfg(test)]
mod dispute_mail_tests {
    use super::*;

    fn snapshot(r: &Rendered) -> String {
        format!(
            "subject: {}\n--- text ---\n{}\n--- html ---\n{}",
            r.subject, r.text, r.html
        )
    }

    #[test]
    fn dispute_update_mail() {
        let m = DisputeUpdate {
            seller_name: "leadmarket".into(),
            recipient_name: "Acme Leads".into(),
            headline: "Keystone disputes a lead you sold".into(),
            reason: "wrong_number".into(),
            detail: "Answer by 2026-11-27: accept to credit the buyer, or contest with a comment."
                .into(),
            url: "https://market.example/agency/disputes".into(),
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }

    #[test]
    fn agency_suspended_mail() {
        let m = AgencySuspended {
            seller_name: "leadmarket".into(),
            agency_name: "Acme Leads".into(),
            rate: "18.0%".into(),
            threshold: "15.0%".into(),
            url: "https://market.example/admin/organisations".into(),
        };
        insta::assert_snapshot!(snapshot(&m.render().unwrap()));
    }
}

/// To the address a standing order delivers to: a lead it bought, with its contact.
#[derive(Debug, Clone)]
pub struct LeadDelivered {
    pub seller_name: String,
    pub order_name: String,
    /// The person's name, or "a lead" when the lead has none (any more).
    pub lead_name: String,
    pub price: String,
    /// Label and value of each bought field the lead has.
    pub fields: Vec<(String, String)>,
    pub url: String,
}
email!(
    LeadDelivered,
    "lead_delivered",
    "emails/lead_delivered/subject.txt",
    "emails/lead_delivered/body.txt",
    "emails/lead_delivered/body.html"
);

#[cfg(test)]
mod delivery_mail_tests {
    use super::*;

    #[test]
    fn lead_delivered_mail() {
        let m = LeadDelivered {
            seller_name: "leadmarket".into(),
            order_name: "Travel <DE> & AT".into(),
            lead_name: "Ann Lee".into(),
            price: "10.00 EUR".into(),
            fields: vec![
                ("Name".into(), "Ann Lee".into()),
                ("Email".into(), "ann@example.com".into()),
                ("Phone".into(), "+4479111100001".into()),
                ("Segment".into(), "travel".into()),
            ],
            url: "https://market.example/purchases".into(),
        };
        let r = m.render().unwrap();
        insta::assert_snapshot!(format!(
            "subject: {}\n--- text ---\n{}\n--- html ---\n{}",
            r.subject, r.text, r.html
        ));
    }
}
