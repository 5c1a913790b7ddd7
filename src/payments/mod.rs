//! Card payments: Stripe Checkout behind a trait (the real async-stripe client, and a fake
//! for tests that never leaves the process), and the check of `Stripe-Signature` on
//! webhooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A Checkout Session for what is open on one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub invoice_id: String,
    pub number: String,
    pub amount_cents: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    pub id: String,
    /// Where to send the buyer to pay.
    pub url: String,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the platform asks of a card processor.
pub trait Payments: Send + Sync {
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, String>>;
}

/// Stripe, through async-stripe.
pub struct StripePayments {
    client: stripe::Client,
}

impl StripePayments {
    pub fn new(secret_key: &str) -> Self {
        Self {
            client: stripe::Client::new(secret_key.to_string()),
        }
    }
}

impl Payments for StripePayments {
    fn create_checkout<'a>(
        &'a self,
        r: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, String>> {
        Box::pin(async move {
            let currency: stripe::Currency = r
                .currency
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| format!("Stripe does not know the currency {}", r.currency))?;
            let mut params = stripe::CreateCheckoutSession::new();
            params.mode = Some(stripe::CheckoutSessionMode::Payment);
            params.success_url = Some(&r.success_url);
            params.cancel_url = Some(&r.cancel_url);
            params.client_reference_id = Some(&r.invoice_id);
            params.metadata = Some(
                [("invoice_id".to_string(), r.invoice_id.clone())]
                    .into_iter()
                    .collect(),
            );
            params.line_items = Some(vec![stripe::CreateCheckoutSessionLineItems {
                quantity: Some(1),
                price_data: Some(stripe::CreateCheckoutSessionLineItemsPriceData {
                    currency,
                    unit_amount: Some(r.amount_cents),
                    product_data: Some(
                        stripe::CreateCheckoutSessionLineItemsPriceDataProductData {
                            name: format!("Invoice {}", r.number),
                            ..Default::default()
                        },
                    ),
                    ..Default::default()
                }),
                ..Default::default()
            }]);
            let session = stripe::CheckoutSession::create(&self.client, params)
                .await
                .map_err(|e| format!("Stripe refused the checkout: {e}"))?;
            let url = session
                .url
                .ok_or_else(|| "Stripe returned a session without a URL".to_string())?;
            Ok(CheckoutSession {
                id: session.id.to_string(),
                url,
            })
        })
    }
}

/// A stand-in for Stripe in tests: remembers each request and answers with a fake page.
#[derive(Default)]
pub struct FakePayments {
    pub requests: Mutex<Vec<CheckoutRequest>>,
}

impl Payments for FakePayments {
    fn create_checkout<'a>(
        &'a self,
        r: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, String>> {
        Box::pin(async move {
            let id = format!("cs_test_{}", uuid::Uuid::new_v4().simple());
            if let Ok(mut seen) = self.requests.lock() {
                seen.push(r.clone());
            }
            Ok(CheckoutSession {
                url: format!("https://checkout.stripe.test/pay/{id}"),
                id,
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    Malformed,
    #[error("the signature is older than the tolerance (or from the future)")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// How old a signed webhook may be (api.md: 5 minutes).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Checks `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` against HMAC-SHA256 of
/// `"{t}.{payload}"` with the endpoint secret: any `v1` may match (Stripe sends several
/// while a secret is rolled), compared in constant time, within the tolerance.
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse().ok(),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_unix - t).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    for candidate in &signatures {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Malformed)?;
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        // `verify_slice` compares in constant time.
        if mac.verify_slice(candidate).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header Stripe would send for `payload` at `t` (tests, and tools that replay).
pub fn sign(payload: &[u8], secret: &[u8], t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";

    #[test]
    fn a_fresh_true_signature_passes() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, 1_000_000);
        assert_eq!(verify(&header, body, SECRET, 1_000_100), Ok(()));
        // Any of several v1 values may match (a secret being rolled).
        let two = format!("t=1000000,v1=00ff,{}", &header[10..]);
        assert_eq!(verify(&two, body, SECRET, 1_000_000), Ok(()));
    }

    #[test]
    fn stale_wrong_and_malformed_signatures_fail() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, 1_000_000);
        assert_eq!(
            verify(&header, body, SECRET, 1_000_000 + TOLERANCE_SECONDS + 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&header, body, SECRET, 1_000_000 - TOLERANCE_SECONDS - 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&header, br#"{"id":"evt_2"}"#, SECRET, 1_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, body, b"another", 1_000_000),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "t=abc,v1=00", "v1=00ff", "t=1000000", "garbage"] {
            assert_eq!(
                verify(bad, body, SECRET, 1_000_000),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
