//! Constant SQL text as an expression that diesel keeps prepared. `diesel::dsl::sql`
//! marks every statement it appears in as not to be cached, so such a statement is
//! parsed (and on PostgreSQL planned) again at each call: the stamps read several times
//! a request, the pool's checkout query, a ping's open offers.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
    is_aggregate,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};

/// `sql` (text written in the code, never input) typed as `ST`.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    ty: PhantomData<ST>,
}

pub fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed {
        sql,
        ty: PhantomData,
    }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    // As `dsl::sql`: the text may be an aggregate; the database checks the grouping.
    type IsAggregate = is_aggregate::Never;
}

impl<ST: TypedExpressionType, QS> AppearsOnTable<QS> for Fixed<ST> {}

impl<ST: TypedExpressionType, QS> SelectableExpression<QS> for Fixed<ST> {}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // Kept prepared under the statement's text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB: Backend> QueryFragment<DB> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}
