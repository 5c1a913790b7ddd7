//! Table definitions, written by hand with portable types only (Text, BigInt, Integer,
//! Bool, Timestamp, Binary) so the same schema serves PostgreSQL and SQLite.

diesel::table! {
    organisations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        slug -> Text,
        status -> Text,
        created_at -> Timestamp,
        billing_address -> Text,
        time_zone -> Text,
        suspension_reason -> Nullable<Text>,
        suspended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        account_hash -> Text,
        ip -> Text,
        succeeded -> Bool,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttle_counters (key_hash) {
        key_hash -> Text,
        window_start -> Timestamp,
        failures -> BigInt,
    }
}

diesel::table! {
    segments (slug) {
        slug -> Text,
        name -> Text,
        parent -> Nullable<Text>,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    channels (slug) {
        slug -> Text,
        name -> Text,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    batches (id) {
        id -> Text,
        agency_id -> Text,
        kind -> Text,
        order_id -> Nullable<Text>,
        segment -> Nullable<Text>,
        channel -> Nullable<Text>,
        price_cents -> BigInt,
        max_sales -> Integer,
        billing -> Text,
        action_price_cents -> Nullable<BigInt>,
        consent_text -> Text,
        source -> Text,
        filename -> Nullable<Text>,
        status -> Text,
        error -> Nullable<Text>,
        rows_total -> Integer,
        rows_done -> Integer,
        accepted -> Integer,
        rejected -> Integer,
        duplicates -> Integer,
        suppressed -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        headers -> Text,
        unknown_columns -> Text,
        file_size -> BigInt,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        /// Visitors behind this batch, as the agency reports them (the funnel's first step).
        traffic -> Nullable<BigInt>,
    }
}

diesel::table! {
    leads (id) {
        id -> Text,
        batch_id -> Text,
        agency_id -> Text,
        kind -> Text,
        segment -> Text,
        channel -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        email_key -> Nullable<Binary>,
        phone_key -> Nullable<Binary>,
        age -> Integer,
        income_cents -> Nullable<BigInt>,
        country -> Text,
        region -> Nullable<Text>,
        city -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        street -> Nullable<Text>,
        warmth -> Text,
        contact_type -> Text,
        verified -> Bool,
        consent_at -> Timestamp,
        consent_text -> Text,
        captured_at -> Timestamp,
        score -> Integer,
        flags -> Text,
        list_price_cents -> BigInt,
        max_sales -> Integer,
        sales_count -> Integer,
        status -> Text,
        created_at -> Timestamp,
        /// Country then postal code, upper-case letters and digits: what the postal prefix
        /// filter compares (`domain::catalogue::postal_key`).
        postal_key -> Nullable<Text>,
    }
}

diesel::table! {
    batch_files (batch_id, seq) {
        batch_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    batch_rejects (id) {
        id -> Text,
        batch_id -> Text,
        row_number -> Integer,
        outcome -> Text,
        reasons -> Text,
        raw -> Text,
    }
}

diesel::table! {
    suppressions (key_hash) {
        key_hash -> Binary,
        kind -> Text,
        reason -> Text,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lead_details (lead_id) {
        lead_id -> Text,
        ip_hash -> Nullable<Binary>,
        form_seconds -> Nullable<Integer>,
        comment -> Nullable<Text>,
        preferred_call_time -> Nullable<Text>,
        captured_at -> Timestamp,
    }
}

diesel::table! {
    lead_events (id) {
        id -> Text,
        lead_id -> Text,
        kind -> Text,
        occurred_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (organisation_id, idempotency_key) {
        organisation_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        buyer_id -> Text,
        name -> Text,
        segment -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        filter_query -> Text,
        quantity -> Integer,
        delivered -> Integer,
        price_cents -> BigInt,
        deadline -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    buyer_accounts (organisation_id) {
        organisation_id -> Text,
        credit_limit_cents -> BigInt,
        owed_cents -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_transactions (id) {
        id -> Text,
        kind -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Text,
        transaction_id -> Text,
        account -> Text,
        organisation_id -> Nullable<Text>,
        amount_cents -> BigInt,
        created_at -> Timestamp,
        invoice_id -> Nullable<Text>,
        statement_id -> Nullable<Text>,
    }
}

diesel::table! {
    purchases (id) {
        id -> Text,
        lead_id -> Text,
        buyer_id -> Text,
        agency_id -> Text,
        price_cents -> BigInt,
        commission_cents -> BigInt,
        transaction_id -> Text,
        created_at -> Timestamp,
        standing_order_id -> Nullable<Text>,
    }
}

diesel::table! {
    price_rules (kind, match_value) {
        kind -> Text,
        match_value -> Text,
        factor_bp -> Integer,
    }
}

diesel::table! {
    pricing_state (id) {
        id -> Integer,
        priced_on -> Date,
    }
}

diesel::table! {
    postback_tokens (organisation_id) {
        organisation_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    actions (id) {
        id -> Text,
        purchase_id -> Text,
        lead_id -> Text,
        buyer_id -> Text,
        agency_id -> Text,
        kind -> Text,
        occurred_at -> Timestamp,
        price_cents -> BigInt,
        commission_cents -> BigInt,
        idempotency_key -> Text,
        /// `None`: an action on a per-lead lead, recorded for the funnel and never charged.
        transaction_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    funnel_counts (batch_id, segment, channel, warmth) {
        batch_id -> Text,
        segment -> Text,
        channel -> Text,
        warmth -> Text,
        qualified -> BigInt,
        sold -> BigInt,
        converted -> BigInt,
    }
}

diesel::table! {
    funnel_refresh (id) {
        id -> Integer,
        refreshed_to -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        number -> Nullable<Text>,
        kind -> Text,
        buyer_id -> Text,
        status -> Text,
        corrects_id -> Nullable<Text>,
        period_start -> Timestamp,
        period_end -> Timestamp,
        subtotal_cents -> BigInt,
        tax_bp -> Integer,
        tax_cents -> BigInt,
        total_cents -> BigInt,
        paid_cents -> BigInt,
        credited_cents -> BigInt,
        note -> Text,
        issued_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        issued_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invoice_lines (id) {
        id -> Text,
        invoice_id -> Text,
        position -> Integer,
        kind -> Text,
        description -> Text,
        batch_id -> Nullable<Text>,
        quantity -> BigInt,
        unit_cents -> BigInt,
        amount_cents -> BigInt,
    }
}

diesel::table! {
    number_sequences (series, year) {
        series -> Text,
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        invoice_id -> Text,
        buyer_id -> Text,
        method -> Text,
        amount_cents -> BigInt,
        received_on -> Timestamp,
        reference -> Text,
        transaction_id -> Text,
        recorded_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    statements (id) {
        id -> Text,
        agency_id -> Text,
        period_start -> Timestamp,
        period_end -> Timestamp,
        gross_cents -> BigInt,
        commission_cents -> BigInt,
        returns_cents -> BigInt,
        net_cents -> BigInt,
        status -> Text,
        paid_on -> Nullable<Timestamp>,
        paid_reference -> Nullable<Text>,
        payout_transaction_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        kind -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    once_keys (token) {
        token -> Text,
        kind -> Text,
        result_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    billing_runs (period) {
        period -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    unapplied_payments (id) {
        id -> Text,
        buyer_id -> Text,
        method -> Text,
        amount_cents -> BigInt,
        applied_cents -> BigInt,
        received_on -> Timestamp,
        reference -> Text,
        reason -> Text,
        status -> Text,
        transaction_id -> Text,
        refund_transaction_id -> Nullable<Text>,
        settled_by -> Nullable<Text>,
        settled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        template -> Text,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    disputes (id) {
        id -> Text,
        purchase_id -> Text,
        lead_id -> Text,
        buyer_id -> Text,
        agency_id -> Text,
        reason -> Text,
        comment -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        evidence -> Nullable<Text>,
        agency_comment -> Nullable<Text>,
        decision_comment -> Nullable<Text>,
        amount_cents -> BigInt,
        deadline_at -> Timestamp,
        credit_transaction_id -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dispute_events (id) {
        id -> Text,
        dispute_id -> Text,
        actor -> Text,
        user_id -> Nullable<Text>,
        action -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(api_keys -> organisations (organisation_id));
diesel::joinable!(batches -> organisations (agency_id));
diesel::joinable!(leads -> batches (batch_id));
diesel::joinable!(lead_details -> leads (lead_id));
diesel::joinable!(lead_events -> leads (lead_id));
diesel::joinable!(batch_rejects -> batches (batch_id));
diesel::joinable!(purchases -> leads (lead_id));
diesel::joinable!(leads -> organisations (agency_id));
diesel::joinable!(ledger_entries -> ledger_transactions (transaction_id));
diesel::joinable!(invoice_lines -> invoices (invoice_id));
diesel::joinable!(actions -> purchases (purchase_id));

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    planner_stats (table_name) {
        table_name -> Text,
        rows_at_refresh -> BigInt,
        refreshed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    standing_orders (id) {
        id -> Text,
        buyer_id -> Text,
        name -> Text,
        filter_query -> Text,
        segment -> Nullable<Text>,
        country -> Nullable<Text>,
        max_price_cents -> BigInt,
        daily_cap -> Nullable<Integer>,
        budget_cents -> Nullable<BigInt>,
        spent_cents -> BigInt,
        cap_day -> Nullable<Text>,
        today_count -> Integer,
        deliver_email -> Nullable<Text>,
        callback_url -> Nullable<Text>,
        secret -> Text,
        active -> Bool,
        active_from_minute -> Nullable<Integer>,
        active_to_minute -> Nullable<Integer>,
        last_allocated_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        held_offers -> Integer,
        held_cents -> BigInt,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        order_id -> Text,
        purchase_id -> Text,
        lead_id -> Text,
        buyer_id -> Text,
        channel -> Text,
        status -> Text,
        attempts -> Integer,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        retrying_since -> Nullable<Timestamp>,
        /// `lead.delivered` or `lead.erased` (`domain::standing_order::DeliveryEvent`).
        event -> Text,
    }
}

diesel::table! {
    rights_requests (id) {
        id -> Text,
        channel -> Text,
        status -> Text,
        token_hash -> Nullable<Text>,
        contact_key -> Binary,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        confirmed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        action -> Text,
        actor -> Text,
        user_id -> Nullable<Text>,
        address -> Nullable<Text>,
        request_id -> Nullable<Text>,
        leads -> Integer,
        created_at -> Timestamp,
        org_id -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    platform_settings (id) {
        id -> Integer,
        return_window_days -> Integer,
        return_cap_bp -> Integer,
        dispute_answer_days -> Integer,
        commission_bp -> Integer,
        dedup_days -> Integer,
        quality_suspend_bp -> Integer,
        quality_min_sales -> Integer,
        invoice_due_days -> Integer,
        tax_rate_bp -> Integer,
        version -> BigInt,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(deliveries -> standing_orders (order_id));
diesel::joinable!(deliveries -> purchases (purchase_id));

diesel::table! {
    pings (id) {
        id -> Text,
        agency_id -> Text,
        segment -> Text,
        country -> Text,
        region -> Nullable<Text>,
        postal_key -> Nullable<Text>,
        age -> Integer,
        income_cents -> Nullable<BigInt>,
        warmth -> Text,
        contact_type -> Text,
        verified -> Bool,
        channel -> Nullable<Text>,
        captured_at -> Timestamp,
        reserve_cents -> BigInt,
        orders_asked -> Integer,
        winner_order_id -> Nullable<Text>,
        winner_buyer_id -> Nullable<Text>,
        price_cents -> Nullable<BigInt>,
        status -> Text,
        expires_at -> Nullable<Timestamp>,
        took_micros -> BigInt,
        lead_id -> Nullable<Text>,
        posted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ping_bids (ping_id, order_id) {
        ping_id -> Text,
        order_id -> Text,
        buyer_id -> Text,
        bid_cents -> BigInt,
        outcome -> Text,
    }
}

diesel::table! {
    /// The 256 ms windows of ping ids a buyer bid in (`domain::ping::bid_window`).
    ping_bid_windows (buyer_id, window_start) {
        buyer_id -> Text,
        window_start -> Text,
    }
}

diesel::joinable!(ping_bids -> pings (ping_id));
diesel::joinable!(funnel_counts -> batches (batch_id));

diesel::table! {
    invitations (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        user_id -> Nullable<Text>,
    }
}

diesel::joinable!(invitations -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    api_keys,
    login_attempts,
    sessions,
    throttle_counters,
    segments,
    channels,
    batches,
    leads,
    batch_files,
    batch_rejects,
    suppressions,
    lead_details,
    lead_events,
    idempotency_keys,
    orders,
    buyer_accounts,
    ledger_transactions,
    ledger_entries,
    purchases,
    price_rules,
    pricing_state,
    postback_tokens,
    actions,
    invoices,
    invoice_lines,
    number_sequences,
    payments,
    statements,
    stripe_events,
    once_keys,
    billing_runs,
    unapplied_payments,
    outbox,
    disputes,
    dispute_events,
    planner_stats,
    password_resets,
    standing_orders,
    deliveries,
    rights_requests,
    audit_events,
    platform_settings,
    pings,
    ping_bids,
    ping_bid_windows,
    funnel_counts,
    funnel_refresh,
    invitations,
);

// A buyer's outcomes are grouped by the selling agency and the lead's segment.
diesel::allow_columns_to_appear_in_same_group_by_clause!(purchases::agency_id, leads::segment);

diesel::table! {
    /// One row: bumped by triggers whenever the order book's copy goes stale
    /// (`services::standing_orders::book`).
    order_book_stamp (id) {
        id -> Integer,
        version -> BigInt,
    }
}
