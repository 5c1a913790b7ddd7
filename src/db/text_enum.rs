//! The one diesel mapping of the domain's text-stored enums (statuses and kinds): each
//! is a `Text` column read through `FromStr` and written through `as_str`, on
//! PostgreSQL, SQLite and `AnyConnection` alike, so a row field can be `status:
//! LeadStatus` and a filter `leads::status.eq(LeadStatus::Available)`. The domain
//! cannot implement diesel's traits itself (it imports no diesel); this module does,
//! one line per type.

use crate::domain::billing::{InvoiceKind, InvoiceStatus, LineKind};
use crate::domain::disputes::{DisputeActor, DisputeEvent, DisputeStatus};
use crate::domain::intake::{BatchStatus, RejectOutcome, SuppressionKind};
use crate::domain::lead::{EngagementKind, LeadKind, LeadStatus};
use crate::domain::ledger::{
    ActionKind, OnceKind, StatementStatus, TransactionKind, UnappliedStatus,
};
use crate::domain::market::{OrderStatus, PriceRuleKind};
use crate::domain::outbox::OutboxStatus;
use crate::domain::ping::{BidOutcome, PingStatus};
use crate::domain::rights::{AuditAction, AuditActor, RequestChannel, RequestStatus};
use crate::domain::scoring::{ContactType, Warmth};
use crate::domain::standing_order::{DeliveryChannel, DeliveryEvent, DeliveryStatus};
use crate::domain::{OrgKind, OrgStatus, Role};

/// Implements, for a type with `as_str` and `FromStr`, what `#[derive(AsExpression,
/// FromSqlRow)]` with `sql_type = Text` plus `ToSql`/`FromSql` would: generic over the
/// backend, so the two real ones and the derived `MultiBackend` are all covered (each
/// already maps `str`/`String` to `Text`).
macro_rules! text_column {
    ($ty:ty) => {
        impl diesel::expression::AsExpression<diesel::sql_types::Text> for $ty {
            type Expression =
                diesel::internal::derives::as_expression::Bound<diesel::sql_types::Text, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a> diesel::expression::AsExpression<diesel::sql_types::Text> for &'a $ty {
            type Expression =
                diesel::internal::derives::as_expression::Bound<diesel::sql_types::Text, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl diesel::expression::AsExpression<diesel::sql_types::Nullable<diesel::sql_types::Text>>
            for $ty
        {
            type Expression = diesel::internal::derives::as_expression::Bound<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Self,
            >;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a>
            diesel::expression::AsExpression<diesel::sql_types::Nullable<diesel::sql_types::Text>>
            for &'a $ty
        {
            type Expression = diesel::internal::derives::as_expression::Bound<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
                Self,
            >;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>
            for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text: String =
                    diesel::deserialize::FromSql::<diesel::sql_types::Text, DB>::from_sql(bytes)?;
                // A value the CHECK constraints let through but this build does not know
                // (a newer schema, a hand edit) is a load error naming the value.
                text.parse::<$ty>()
                    .map_err(|e| format!("stored {}: {e}", stringify!($ty)).into())
            }
        }

        impl<DB> diesel::deserialize::Queryable<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }
    };
}

text_column!(OrgKind);
text_column!(OrgStatus);
text_column!(Role);
text_column!(LeadKind);
text_column!(LeadStatus);
text_column!(Warmth);
text_column!(ContactType);
text_column!(EngagementKind);
text_column!(BatchStatus);
text_column!(RejectOutcome);
text_column!(SuppressionKind);
text_column!(OrderStatus);
text_column!(PriceRuleKind);
text_column!(InvoiceKind);
text_column!(InvoiceStatus);
text_column!(LineKind);
text_column!(TransactionKind);
text_column!(ActionKind);
text_column!(StatementStatus);
text_column!(UnappliedStatus);
text_column!(OnceKind);
text_column!(OutboxStatus);
text_column!(DisputeStatus);
text_column!(DisputeActor);
text_column!(DisputeEvent);
text_column!(DeliveryChannel);
text_column!(DeliveryEvent);
text_column!(RequestChannel);
text_column!(RequestStatus);
text_column!(AuditAction);
text_column!(AuditActor);
text_column!(DeliveryStatus);
text_column!(PingStatus);
text_column!(BidOutcome);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use super::*;
    use crate::db::schema::organisations;
    use crate::db::scratch::ScratchDb;

    /// A row struct whose enum fields load straight from their columns.
    #[derive(Queryable, Selectable, Debug, PartialEq)]
    #[diesel(table_name = organisations)]
    struct OrgRow {
        kind: OrgKind,
        status: OrgStatus,
    }

    /// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` names a server.
    fn scratch_databases() -> Vec<ScratchDb> {
        let mut dbs = vec![ScratchDb::sqlite("text_enum").unwrap()];
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => dbs.push(ScratchDb::postgres(&url, "text_enum").unwrap()),
            _ => eprintln!("text enums checked on SQLite only: TEST_DATABASE_URL is not set"),
        }
        dbs
    }

    /// Every value of each type goes to the database as a bound `Text` and comes back
    /// as the type.
    macro_rules! round_trip {
        ($conn:expr, $($ty:ty),+ $(,)?) => {$(
            for v in <$ty>::ALL {
                let back: $ty = diesel::select(v.into_sql::<Text>()).get_result($conn).unwrap();
                assert_eq!(back, *v);
            }
        )+};
    }

    #[test]
    fn text_enums_are_written_and_read_as_their_text_on_both_backends() {
        for db in scratch_databases() {
            let pool = db.migrated_pool(1).unwrap();
            let conn = &mut **pool.get().unwrap();
            let backend = db.url().redacted();

            // A row written with enum values and filtered by one, read into enum fields.
            diesel::insert_into(organisations::table)
                .values((
                    organisations::id.eq("o1"),
                    organisations::kind.eq(OrgKind::Buyer),
                    organisations::name.eq("Enum Buyer"),
                    organisations::slug.eq("enum-buyer"),
                    organisations::status.eq(&OrgStatus::Suspended),
                    organisations::created_at.eq(chrono::Utc::now().naive_utc()),
                    organisations::billing_address.eq(""),
                ))
                .execute(conn)
                .unwrap();
            let row: OrgRow = organisations::table
                .filter(organisations::id.eq("o1"))
                .filter(organisations::kind.eq(OrgKind::Buyer))
                .select(OrgRow::as_select())
                .get_result(conn)
                .unwrap();
            assert_eq!(
                row,
                OrgRow {
                    kind: OrgKind::Buyer,
                    status: OrgStatus::Suspended
                },
                "{backend}"
            );
            let stored: String = organisations::table
                .filter(organisations::id.eq("o1"))
                .select(organisations::kind)
                .get_result(conn)
                .unwrap();
            assert_eq!(stored, "buyer", "{backend}");
            let nullable: Option<OrgKind> = organisations::table
                .filter(organisations::id.eq("o1"))
                .select(organisations::kind.nullable())
                .get_result(conn)
                .unwrap();
            assert_eq!(nullable, Some(OrgKind::Buyer), "{backend}");

            // Text this build does not know is a load error that names the value.
            let err = diesel::select("owner".into_sql::<Text>())
                .get_result::<OrgKind>(conn)
                .unwrap_err();
            // diesel wraps it in a field error whose source (shown by Debug) is ours.
            let err = format!("{err:?}");
            assert!(
                err.contains("stored OrgKind: `owner` is not one of: agency, buyer, platform"),
                "{backend}: {err}"
            );

            round_trip!(
                conn,
                OrgKind,
                OrgStatus,
                Role,
                LeadKind,
                LeadStatus,
                Warmth,
                ContactType,
                EngagementKind,
                BatchStatus,
                RejectOutcome,
                SuppressionKind,
                OrderStatus,
                PriceRuleKind,
                InvoiceKind,
                InvoiceStatus,
                LineKind,
                TransactionKind,
                ActionKind,
                StatementStatus,
                UnappliedStatus,
                OnceKind,
                OutboxStatus,
                DisputeStatus,
                DisputeActor,
                DisputeEvent,
                DeliveryEvent,
                RequestChannel,
                RequestStatus,
                AuditAction,
                AuditActor,
                PingStatus,
                BidOutcome,
            );
        }
    }
}
