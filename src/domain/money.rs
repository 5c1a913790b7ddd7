//! Money rules: integer minor units, the platform commission, and balanced double-entry
//! postings. A transaction whose postings do not sum to zero cannot be built.

use std::fmt;

/// Ledger accounts. Debits are positive amounts, credits negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Account {
    /// What a buyer owes the platform.
    BuyerReceivable,
    /// What the platform owes an agency.
    AgencyPayable,
    /// The platform's commission.
    PlatformRevenue,
    /// Money in the platform's bank (payments received, payouts made).
    Cash,
    /// Tax invoiced and owed to the tax office.
    TaxPayable,
}

impl Account {
    pub fn as_str(self) -> &'static str {
        match self {
            Account::BuyerReceivable => "buyer_receivable",
            Account::AgencyPayable => "agency_payable",
            Account::PlatformRevenue => "platform_revenue",
            Account::Cash => "cash",
            Account::TaxPayable => "tax_payable",
        }
    }

    pub const ALL: [Account; 5] = [
        Account::BuyerReceivable,
        Account::AgencyPayable,
        Account::PlatformRevenue,
        Account::Cash,
        Account::TaxPayable,
    ];

    /// The account's name on pages (the stored code stays in exports).
    pub fn label(self) -> &'static str {
        match self {
            Account::BuyerReceivable => "Receivable from buyers",
            Account::AgencyPayable => "Payable to agencies",
            Account::PlatformRevenue => "Platform revenue (commission)",
            Account::Cash => "Bank (cash)",
            Account::TaxPayable => "Tax payable",
        }
    }

    /// The account a stored code names.
    pub fn from_code(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.as_str() == code)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub organisation_id: Option<String>,
    pub amount_cents: i64,
}

/// Postings that sum to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balanced(Vec<Posting>);

impl Balanced {
    pub fn new(postings: Vec<Posting>) -> Result<Self, String> {
        let sum: i128 = postings.iter().map(|p| i128::from(p.amount_cents)).sum();
        if postings.is_empty() {
            return Err("a transaction needs postings".into());
        }
        if sum != 0 {
            return Err(format!("postings sum to {sum}, not zero"));
        }
        Ok(Self(postings))
    }

    pub fn postings(&self) -> &[Posting] {
        &self.0
    }
}

/// The platform's share of a price, rounded half up, in basis points (2000 = 20%).
pub fn commission(price_cents: i64, commission_bp: i64) -> i64 {
    (i128::from(price_cents) * i128::from(commission_bp) + 5000).div_euclid(10_000) as i64
}

/// A sale: the buyer owes the total; each agency is owed its prices less commission; the
/// platform keeps the commissions. `lines` are (agency id, price, commission).
pub fn sale_postings(buyer_id: &str, lines: &[(String, i64, i64)]) -> Result<Balanced, String> {
    let total: i64 = lines.iter().map(|(_, p, _)| p).sum();
    let commission_total: i64 = lines.iter().map(|(_, _, c)| c).sum();
    let mut per_agency: Vec<(String, i64)> = Vec::new();
    for (agency, price, commission) in lines {
        match per_agency.iter_mut().find(|(a, _)| a == agency) {
            Some((_, owed)) => *owed += price - commission,
            None => per_agency.push((agency.clone(), price - commission)),
        }
    }
    let mut postings = vec![Posting {
        account: Account::BuyerReceivable,
        organisation_id: Some(buyer_id.to_string()),
        amount_cents: total,
    }];
    postings.extend(per_agency.into_iter().map(|(agency, owed)| Posting {
        account: Account::AgencyPayable,
        organisation_id: Some(agency),
        amount_cents: -owed,
    }));
    postings.push(Posting {
        account: Account::PlatformRevenue,
        organisation_id: None,
        amount_cents: -commission_total,
    });
    Balanced::new(postings)
}

fn posting(account: Account, org: Option<&str>, amount_cents: i64) -> Posting {
    Posting {
        account,
        organisation_id: org.map(str::to_string),
        amount_cents,
    }
}

/// A payment received from a buyer: cash in, the buyer owes less.
pub fn payment_postings(buyer_id: &str, amount_cents: i64) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::Cash, None, amount_cents),
        posting(Account::BuyerReceivable, Some(buyer_id), -amount_cents),
    ])
}

/// Money sent back to a buyer (an unapplied payment refunded): cash out, and the buyer's
/// receivable, which the receipt had lowered, back up.
pub fn refund_postings(buyer_id: &str, amount_cents: i64) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::Cash, None, -amount_cents),
        posting(Account::BuyerReceivable, Some(buyer_id), amount_cents),
    ])
}

/// A payout to an agency: the platform owes it less, cash out.
pub fn payout_postings(agency_id: &str, amount_cents: i64) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::AgencyPayable, Some(agency_id), amount_cents),
        posting(Account::Cash, None, -amount_cents),
    ])
}

/// Tax added by an issued invoice: the buyer owes it, the platform owes it on.
pub fn tax_postings(buyer_id: &str, tax_cents: i64) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::BuyerReceivable, Some(buyer_id), tax_cents),
        posting(Account::TaxPayable, None, -tax_cents),
    ])
}

/// A credit note: the buyer owes less and the platform bears it (refunds of fake leads,
/// which the agency bears, are disputes, not credit notes).
pub fn credit_note_postings(buyer_id: &str, amount_cents: i64) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::BuyerReceivable, Some(buyer_id), -amount_cents),
        posting(Account::PlatformRevenue, None, amount_cents),
    ])
}

/// An approved dispute undoes a sale: the buyer owes the price less, the agency is owed
/// its share less, and the platform gives back its commission.
pub fn dispute_credit_postings(
    buyer_id: &str,
    agency_id: &str,
    price_cents: i64,
    commission_cents: i64,
) -> Result<Balanced, String> {
    Balanced::new(vec![
        posting(Account::BuyerReceivable, Some(buyer_id), -price_cents),
        posting(
            Account::AgencyPayable,
            Some(agency_id),
            price_cents - commission_cents,
        ),
        posting(Account::PlatformRevenue, None, commission_cents),
    ])
}

/// Formats whole numbers with thousands separators for display.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Minor units as a decimal amount with the currency code, e.g. `1,234.50 EUR`.
pub fn format_amount(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!(
        "{sign}{}.{:02} {currency}",
        thousands((abs / 100) as i64),
        abs % 100
    )
}

/// Minor units as a plain decimal for a form field to show again, e.g. `1250` -> `12.50`
/// (no thousands separator and no currency, so it parses back as typed).
pub fn major_plain(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// What people type for an amount, in major units, as minor units: `12.50`, `12.5`,
/// `1000`, `1,000.00`, and as lead files write incomes, `52 000` or `52_000`. A point is
/// the decimal mark; a comma, a space (also no-break) or an underscore only groups
/// thousands (`12,50` is refused rather than read as 1,250.00); at most two decimals;
/// never negative. The one parser of major units, for forms and lead files alike; the
/// error is a plain sentence to show beside the field or in the rejects file.
pub fn parse_major(raw: &str) -> Result<i64, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("enter an amount, such as 12.50");
    }
    if text.starts_with('-') {
        return Err("must not be negative");
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let groups: Vec<&str> = whole.split([',', ' ', '_', '\u{a0}', '\u{202f}']).collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| digits(g)) || frac.is_some_and(|f| !digits(f)) {
        return Err("must be an amount such as 12.50 or 1,000.00");
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        // `12,50` is a decimal comma; a point marks decimals here.
        return Err("use a point for decimals and commas only between thousands, such as 1,000.50");
    }
    if frac.is_some_and(|f| f.len() > 2) {
        return Err("has more than two decimals: amounts are in whole cents");
    }
    let whole: i64 = groups.concat().parse().map_err(|_| "is too large")?;
    let frac: i64 = frac.map_or(0, |f| format!("{f:0<2}").parse().unwrap_or(0));
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .ok_or("is too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_people_type_become_minor_units() {
        assert_eq!(parse_major("12.50"), Ok(1250));
        assert_eq!(parse_major("12.5"), Ok(1250));
        assert_eq!(parse_major(" 1000 "), Ok(100_000));
        assert_eq!(parse_major("1,000.00"), Ok(100_000));
        assert_eq!(parse_major("1,234,567.89"), Ok(123_456_789));
        assert_eq!(parse_major("0"), Ok(0));
        assert_eq!(parse_major("0.05"), Ok(5));
    }

    #[test]
    fn incomes_as_lead_files_write_them_parse_too() {
        assert_eq!(parse_major("52 000"), Ok(5_200_000));
        assert_eq!(parse_major("52_000"), Ok(5_200_000));
        assert_eq!(parse_major("52\u{a0}000.50"), Ok(5_200_050));
        assert_eq!(parse_major("0.5"), Ok(50));
        assert_eq!(parse_major("52000"), Ok(5_200_000));
        assert!(parse_major("-1").is_err());
        assert!(parse_major("1e6").is_err());
        assert!(parse_major("99999999999999999999").is_err());
        assert!(parse_major("12 50").is_err(), "not a thousands group");
        assert!(parse_major("52  000").is_err());
    }

    #[test]
    fn amounts_that_are_ambiguous_negative_or_garbage_are_refused_with_a_reason() {
        assert!(parse_major("12.505").unwrap_err().contains("two decimals"));
        assert!(
            parse_major("12,50")
                .unwrap_err()
                .contains("point for decimals")
        );
        assert!(parse_major("1,0000").is_err());
        assert!(parse_major("-5").unwrap_err().contains("negative"));
        for garbage in [
            "",
            "abc",
            "12.",
            ".5",
            "1e6",
            "12 EUR",
            "1.2.3",
            ",100",
            "99999999999999999999",
        ] {
            assert!(parse_major(garbage).is_err(), "{garbage:?} was accepted");
        }
    }

    #[test]
    fn plain_major_units_parse_back_to_the_same_cents() {
        for cents in [0, 5, 1250, 100_000, 123_456_789] {
            assert_eq!(parse_major(&major_plain(cents)), Ok(cents));
        }
        assert_eq!(major_plain(1250), "12.50");
    }

    #[test]
    fn commission_rounds_half_up() {
        assert_eq!(commission(2500, 2000), 500);
        assert_eq!(commission(1, 5000), 1);
        assert_eq!(commission(1, 4999), 0);
        assert_eq!(commission(0, 2000), 0);
    }

    #[test]
    fn a_sale_balances_and_splits_per_agency() {
        let lines = vec![
            ("a".to_string(), 1000, 200),
            ("b".to_string(), 3000, 600),
            ("a".to_string(), 500, 100),
        ];
        let tx = sale_postings("buyer", &lines).unwrap();
        let amount = |acc: Account, org: Option<&str>| {
            tx.postings()
                .iter()
                .filter(|p| p.account == acc && p.organisation_id.as_deref() == org)
                .map(|p| p.amount_cents)
                .sum::<i64>()
        };
        assert_eq!(amount(Account::BuyerReceivable, Some("buyer")), 4500);
        assert_eq!(amount(Account::AgencyPayable, Some("a")), -1200);
        assert_eq!(amount(Account::AgencyPayable, Some("b")), -2400);
        assert_eq!(amount(Account::PlatformRevenue, None), -900);
        assert_eq!(tx.postings().iter().map(|p| p.amount_cents).sum::<i64>(), 0);
    }

    #[test]
    fn payments_payouts_tax_and_credits_balance() {
        for tx in [
            payment_postings("b", 1234).unwrap(),
            refund_postings("b", 1234).unwrap(),
            payout_postings("a", 999).unwrap(),
            tax_postings("b", 190).unwrap(),
            credit_note_postings("b", 50).unwrap(),
            dispute_credit_postings("b", "a", 1000, 200).unwrap(),
        ] {
            assert_eq!(tx.postings().iter().map(|p| p.amount_cents).sum::<i64>(), 0);
        }
        let pay = payment_postings("b", 1234).unwrap();
        assert_eq!(pay.postings()[1].account, Account::BuyerReceivable);
        assert_eq!(pay.postings()[1].amount_cents, -1234);
    }

    #[test]
    fn unbalanced_postings_cannot_be_built() {
        let p = |amount_cents| Posting {
            account: Account::PlatformRevenue,
            organisation_id: None,
            amount_cents,
        };
        assert!(Balanced::new(vec![p(5), p(-4)]).is_err());
        assert!(Balanced::new(vec![]).is_err());
        assert!(Balanced::new(vec![p(5), p(-5)]).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn money_parsing_never_panics(raw in "\\PC{0,25}") {
            let _ = parse_major(&raw);
        }

        #[test]
        fn every_sale_balances(prices in proptest::collection::vec((0usize..4, 0i64..1_000_000), 1..20), bp in 0i64..10_000) {
            let lines: Vec<(String, i64, i64)> = prices.iter().map(|(a, p)| (format!("agency-{a}"), *p, commission(*p, bp))).collect();
            let tx = sale_postings("buyer", &lines).unwrap();
            proptest::prop_assert_eq!(tx.postings().iter().map(|p| p.amount_cents).sum::<i64>(), 0);
        }
    }
}
