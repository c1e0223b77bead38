import Storage

/// The database schema, in order. Append only: a released migration never changes.
/// Times are INTEGER milliseconds since the epoch (UTC); money comes later as integer minor units.
enum Schema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "key_value", sql: KeyValueStore.schemaSQL),
        Migration(version: 2, name: "identity_stations_drivers", sql: identityStationsDrivers),
        Migration(version: 3, name: "billing_monitoring", sql: billingMonitoring),
        Migration(version: 4, name: "ocpp", sql: ocpp),
        Migration(version: 5, name: "session_flags", sql: sessionFlags),
        Migration(version: 6, name: "payment_idempotency", sql: paymentIdempotency),
        Migration(version: 7, name: "ocpp_paired_log", sql: ocppPairedLog),
        Migration(version: 8, name: "meter_values_write_indexes", sql: meterValuesWriteIndexes),
        Migration(version: 9, name: "session_write_indexes", apply: sessionWriteIndexes),
        Migration(version: 10, name: "web_sessions", sql: webSessions),
        Migration(version: 11, name: "sites_reservations", sql: sitesReservations),
        Migration(version: 12, name: "local_lists", sql: localLists),
        Migration(version: 13, name: "charging_profiles_load", sql: chargingProfilesLoad),
        Migration(version: 14, name: "station_jobs_security_events", sql: stationJobsSecurityEvents),
        Migration(version: 15, name: "certificates_security_profile", sql: certificatesSecurityProfile),
        Migration(version: 16, name: "audit_log", apply: auditLog),
        Migration(version: 17, name: "station_previous_password", sql: stationPreviousPassword),
    ]

    /// The password a charger keeps using after it answered a new AuthorizationKey with
    /// RebootRequired: valid beside the new one until the charger first connects with the new one.
    static let stationPreviousPassword = """
        ALTER TABLE stations ADD COLUMN previous_password_hash TEXT;
        """

    /// The audit log and the guards that keep it append-only. The triggers that fill it are TEMP
    /// triggers of the server's writer (`AuditSchema.installTriggers`), made from the live columns
    /// at every start, so a later migration's new column is recorded without touching them.
    private static func auditLog(_ connection: Connection) throws {
        try connection.execute(AuditSchema.tableSQL)
    }

    /// Certificates our CA issued to chargers or that were installed on them, what they reported
    /// installed, and each station's OCPP security profile (0–3): a charger connecting below it
    /// is refused.
    static let certificatesSecurityProfile = """
        CREATE TABLE station_certificates (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            serial_number TEXT NOT NULL,
            subject TEXT NOT NULL,
            issuer TEXT NOT NULL,
            not_valid_before INTEGER NOT NULL,
            not_valid_after INTEGER NOT NULL,
            pem TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX station_certificates_station ON station_certificates (station_id, created_at);
        CREATE INDEX station_certificates_expiry ON station_certificates (not_valid_after) WHERE status = 'installed';
        CREATE TABLE installed_certificate_ids (
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            certificate_type TEXT NOT NULL,
            hash_algorithm TEXT NOT NULL,
            issuer_name_hash TEXT NOT NULL,
            issuer_key_hash TEXT NOT NULL,
            serial_number TEXT NOT NULL,
            reported_at INTEGER NOT NULL
        );
        CREATE INDEX installed_certificate_ids_station ON installed_certificate_ids (station_id, certificate_type);
        ALTER TABLE stations ADD COLUMN security_profile INTEGER NOT NULL DEFAULT 0;
        """

    /// Firmware updates, diagnostics and log uploads as jobs with their status history; an upload
    /// URL's token is kept only as its SHA-256 hash. Security events as the chargers report them.
    static let stationJobsSecurityEvents = """
        CREATE TABLE station_jobs (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            request_id INTEGER,
            location TEXT NOT NULL,
            status TEXT NOT NULL,
            history TEXT NOT NULL,
            charger_answer TEXT,
            file_name TEXT,
            failed INTEGER NOT NULL DEFAULT 0,
            upload_token_hash TEXT UNIQUE,
            upload_expires_at INTEGER,
            upload_path TEXT,
            upload_bytes INTEGER,
            uploaded_at INTEGER,
            created_by TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            finished_at INTEGER
        );
        CREATE INDEX station_jobs_station ON station_jobs (station_id, kind, created_at);
        CREATE INDEX station_jobs_created ON station_jobs (created_at, id);
        CREATE TABLE security_events (
            id INTEGER PRIMARY KEY,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            tech_info TEXT,
            occurred_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            critical INTEGER NOT NULL
        );
        CREATE INDEX security_events_station ON security_events (station_id, id);
        """

    /// Charging profiles as sent and answered (the OCPP profile kept whole as JSON, the fields
    /// that select it as columns), and each managed connector's share of its site's power: what
    /// load management gave it and what the charger last acknowledged. A driver's `priority`
    /// orders who keeps charging when a site runs short.
    static let chargingProfilesLoad = """
        CREATE TABLE charging_profiles (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            connector_id INTEGER NOT NULL,
            charging_profile_id INTEGER NOT NULL,
            purpose TEXT NOT NULL,
            stack_level INTEGER NOT NULL,
            transaction_id INTEGER,
            profile TEXT NOT NULL,
            status TEXT NOT NULL,
            charger_answer TEXT,
            source TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER
        );
        CREATE INDEX charging_profiles_station ON charging_profiles (station_id, status, connector_id);
        CREATE INDEX charging_profiles_created ON charging_profiles (created_at, id);
        CREATE INDEX charging_profiles_transaction ON charging_profiles (station_id, transaction_id)
            WHERE transaction_id IS NOT NULL AND status IN ('pending', 'active');
        -- A charger drops a TxProfile when its transaction ends: so do we, in the stop's own
        -- transaction, whichever path stopped the session.
        CREATE TRIGGER charging_sessions_end_tx_profiles AFTER UPDATE OF status ON charging_sessions
        WHEN OLD.status = 'active' AND NEW.status != 'active'
        BEGIN
            UPDATE charging_profiles SET status = 'ended', updated_at = NEW.updated_at, ended_at = NEW.updated_at,
                version = version + 1
            WHERE station_id = NEW.station_id AND transaction_id = NEW.transaction_id AND purpose = 'TxProfile'
                AND status IN ('pending', 'active');
        END;
        CREATE TABLE load_allocations (
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            connector_id INTEGER NOT NULL,
            site_id TEXT NOT NULL,
            transaction_id INTEGER NOT NULL,
            limit_w INTEGER NOT NULL,
            acknowledged_limit_w INTEGER,
            state TEXT NOT NULL,
            reported_power_w INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (station_id, connector_id)
        ) WITHOUT ROWID;
        CREATE INDEX load_allocations_site ON load_allocations (site_id);
        ALTER TABLE drivers ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
        """

    /// Each station's local authorization list: the versions (ours, the charger's last accepted,
    /// the charger's last reported) and the entries the charger holds as of its accepted version,
    /// from which a differential update is computed. A change to a tag that matters to a list —
    /// its status, expiry or parent, its removal, a new card — marks the lists that need it as
    /// stale, in the same transaction as the change (the triggers), so no tag write path can
    /// forget it.
    static let localLists = """
        CREATE TABLE local_lists (
            station_id TEXT PRIMARY KEY NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            confirmed_version INTEGER,
            charger_version INTEGER,
            last_status TEXT,
            last_update_type TEXT,
            last_sent_at INTEGER,
            stale INTEGER NOT NULL DEFAULT 0,
            needs_full INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX local_lists_stale ON local_lists (station_id) WHERE stale = 1;
        CREATE TABLE local_list_entries (
            station_id TEXT NOT NULL REFERENCES local_lists (station_id) ON DELETE CASCADE,
            id_tag TEXT NOT NULL COLLATE NOCASE,
            status TEXT NOT NULL,
            expiry_date INTEGER,
            parent_id_tag TEXT,
            PRIMARY KEY (station_id, id_tag)
        ) WITHOUT ROWID;
        CREATE INDEX local_list_entries_tag ON local_list_entries (id_tag);
        CREATE TRIGGER id_tags_local_list_changed AFTER UPDATE OF status, expires_at, parent_id_tag ON id_tags
        WHEN OLD.status IS NOT NEW.status OR OLD.expires_at IS NOT NEW.expires_at OR OLD.parent_id_tag IS NOT NEW.parent_id_tag
        BEGIN
            UPDATE local_lists SET stale = 1
            WHERE station_id IN (SELECT station_id FROM local_list_entries WHERE id_tag = NEW.id);
        END;
        CREATE TRIGGER id_tags_local_list_removed AFTER DELETE ON id_tags
        BEGIN
            UPDATE local_lists SET stale = 1
            WHERE station_id IN (SELECT station_id FROM local_list_entries WHERE id_tag = OLD.id);
        END;
        CREATE TRIGGER id_tags_local_list_added AFTER INSERT ON id_tags WHEN NEW.kind != 'app'
        BEGIN
            UPDATE local_lists SET stale = 1 WHERE confirmed_version IS NOT NULL;
        END;
        """

    /// Sites group stations; reservations hold a connector for a tag (OCPP 1.6 ReserveNow). A
    /// reservation id is unique among the station's open reservations (OCPP replaces a reservation
    /// sent again with the same id); ours are never reused, counted per station.
    static let sitesReservations = """
        CREATE TABLE sites (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            address TEXT,
            time_zone TEXT NOT NULL,
            max_power_kw REAL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX sites_name ON sites (name, id);
        CREATE INDEX sites_created ON sites (created_at, id);
        ALTER TABLE stations ADD COLUMN site_id TEXT REFERENCES sites (id);
        CREATE INDEX stations_site ON stations (site_id) WHERE site_id IS NOT NULL;

        CREATE TABLE reservations (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            connector_id INTEGER NOT NULL,
            reservation_id INTEGER NOT NULL,
            id_tag TEXT NOT NULL,
            parent_id_tag TEXT,
            driver_id TEXT REFERENCES drivers (id) ON DELETE SET NULL,
            expires_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            charger_answer TEXT,
            cancel_answer TEXT,
            failure TEXT,
            session_id TEXT,
            transaction_id INTEGER,
            created_by TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER
        );
        CREATE UNIQUE INDEX reservations_open_id ON reservations (station_id, reservation_id)
            WHERE status IN ('pending', 'active');
        CREATE INDEX reservations_station ON reservations (station_id, reservation_id);
        CREATE INDEX reservations_open ON reservations (expires_at) WHERE status IN ('pending', 'active');
        CREATE INDEX reservations_created ON reservations (created_at, id);
        CREATE INDEX reservations_driver ON reservations (driver_id, created_at) WHERE driver_id IS NOT NULL;
        """

    /// The dashboard's sign-ins: a random token in an HttpOnly cookie, stored as its SHA-256 hash
    /// like refresh tokens, revoked with them ("sign out everywhere", a disabled account).
    static let webSessions = """
        CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY NOT NULL,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX web_sessions_user ON web_sessions (user_id);
        """

    /// Every session start and stop wrote each index of `charging_sessions`, and those keyed by
    /// station (or tag) first put each write on a page of its own. The lookups of open sessions get
    /// partial indexes that hold only the open ones (a few pages, always cached); listings by
    /// station get (station, start), which a stop no longer moves; start keys lead with the time.
    private static func sessionWriteIndexes(_ connection: Connection) throws {
        try connection.execute(
            """
            DROP INDEX charging_sessions_connector;
            CREATE INDEX charging_sessions_active ON charging_sessions (station_id, connector_id) WHERE status = 'active';
            CREATE INDEX charging_sessions_station ON charging_sessions (station_id, started_at);
            DROP INDEX charging_sessions_tag_status;
            CREATE INDEX charging_sessions_tag_active ON charging_sessions (id_tag COLLATE NOCASE) WHERE status = 'active';
            """)
        // Marked first with a prefix no new key can start with (they start with a number), so no
        // rewritten key ever meets an old one in the unique index (a station id of digits could
        // make the two look alike); then rewritten a page at a time, so a long history is not held
        // in memory at once.
        try connection.run("UPDATE charging_sessions SET start_key = '#' || start_key")
        var after: Int64 = 0
        while true {
            let page = try connection.query(
                "SELECT rowid, start_key FROM charging_sessions WHERE rowid > ? ORDER BY rowid LIMIT 1000", after
            ) { (try $0.get(0, as: Int64.self), try $0.get(1, as: String.self)) }
            guard let last = page.last else { return }
            after = last.0
            for (rowid, marked) in page {
                let old = String(marked.dropFirst())
                try connection.run(
                    "UPDATE charging_sessions SET start_key = ? WHERE rowid = ?", ChargingSession.startKey(fromVersion8: old) ?? old,
                    rowid)
            }
        }
    }

    /// Raw meter values are written about three per MeterValues and read only by the retention
    /// prune (by `at`); sessions are priced and charted from `session_samples`. Two indexes no query
    /// used cost every insert two more B-tree writes.
    private static let meterValuesWriteIndexes = """
        DROP INDEX IF EXISTS meter_values_station;
        DROP INDEX IF EXISTS meter_values_transaction;
        """

    /// One message-log row per exchange: the call, then its answer in the same row. Rows written
    /// before this keep one frame each (no answer columns).
    private static let ocppPairedLog = """
        ALTER TABLE ocpp_messages ADD COLUMN answer_type INTEGER;
        ALTER TABLE ocpp_messages ADD COLUMN answer_payload TEXT;
        ALTER TABLE ocpp_messages ADD COLUMN answered_at INTEGER;
        """

    /// The idempotency key of the request that recorded a payment: a retry after a crash finds
    /// the payment (written in the same transaction) and answers it again instead of paying twice.
    private static let paymentIdempotency = """
        ALTER TABLE payments ADD COLUMN idempotency_key TEXT;
        CREATE UNIQUE INDEX payments_idempotency ON payments (invoice_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        """

    /// Why a session's numbers are not to be trusted (`SessionFlag` raw values, a JSON array).
    private static let sessionFlags = """
        ALTER TABLE charging_sessions ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
        """

    private static let ocpp = """
        ALTER TABLE stations ADD COLUMN charge_box_serial_number TEXT;
        ALTER TABLE stations ADD COLUMN iccid TEXT;
        ALTER TABLE stations ADD COLUMN imsi TEXT;
        ALTER TABLE stations ADD COLUMN meter_type TEXT;
        ALTER TABLE stations ADD COLUMN meter_serial_number TEXT;
        ALTER TABLE stations ADD COLUMN last_boot_at INTEGER;
        ALTER TABLE stations ADD COLUMN diagnostics_status TEXT;
        ALTER TABLE stations ADD COLUMN firmware_status TEXT;
        ALTER TABLE stations ADD COLUMN configuration TEXT;

        -- Every OCPP message in and out, for debugging chargers; pruned after the retention period.
        CREATE TABLE ocpp_messages (
            id INTEGER PRIMARY KEY,
            station_id TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            message_type INTEGER NOT NULL,
            action TEXT,
            message_id TEXT,
            payload TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX ocpp_messages_station ON ocpp_messages (station_id, id);
        CREATE INDEX ocpp_messages_at ON ocpp_messages (at);

        CREATE TABLE meter_values (
            id INTEGER PRIMARY KEY,
            station_id TEXT NOT NULL,
            connector_id INTEGER NOT NULL,
            transaction_id INTEGER,
            at INTEGER NOT NULL,
            measurand TEXT NOT NULL,
            phase TEXT,
            unit TEXT,
            context TEXT,
            location TEXT,
            format TEXT,
            value TEXT NOT NULL,
            -- The value in Wh (energy) or W (power) when it is one; else NULL.
            normalized INTEGER
        );
        CREATE INDEX meter_values_station ON meter_values (station_id, at);
        CREATE INDEX meter_values_transaction ON meter_values (transaction_id) WHERE transaction_id IS NOT NULL;
        CREATE INDEX meter_values_at ON meter_values (at);
        """

    private static let billingMonitoring = """
        CREATE TABLE tariffs (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            currency TEXT NOT NULL,
            -- Prices, fees and percentages in millionths (exact decimals).
            energy_price INTEGER NOT NULL,
            time_price INTEGER,
            session_fee INTEGER,
            idle_fee INTEGER,
            idle_grace_minutes INTEGER NOT NULL,
            tax_rate_percent INTEGER NOT NULL,
            time_zone TEXT NOT NULL,
            valid_from INTEGER,
            valid_to INTEGER,
            windows TEXT NOT NULL,
            membership_discounts TEXT NOT NULL,
            is_default INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX tariffs_one_default ON tariffs (is_default) WHERE is_default = 1;

        CREATE TABLE charging_sessions (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            transaction_id INTEGER NOT NULL UNIQUE CHECK (transaction_id BETWEEN 1 AND 2147483647),
            -- station|connector|idTag|start|meterStart: a retried start finds its session.
            start_key TEXT NOT NULL UNIQUE,
            station_id TEXT NOT NULL REFERENCES stations (id),
            connector_id INTEGER NOT NULL,
            id_tag TEXT NOT NULL,
            driver_id TEXT REFERENCES drivers (id) ON DELETE SET NULL,
            started_at INTEGER NOT NULL,
            stopped_at INTEGER,
            meter_start_wh INTEGER NOT NULL,
            meter_stop_wh INTEGER,
            energy_wh INTEGER NOT NULL,
            current_power_w INTEGER,
            last_sample_at INTEGER,
            charging_ended_at INTEGER,
            status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'rejected', 'abandoned')),
            stop_reason TEXT,
            tariff TEXT,
            cost TEXT,
            total_minor INTEGER,
            currency TEXT,
            invoice_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX charging_sessions_connector ON charging_sessions (station_id, connector_id, status);
        CREATE INDEX charging_sessions_status ON charging_sessions (status, started_at);
        CREATE INDEX charging_sessions_started ON charging_sessions (started_at);
        CREATE INDEX charging_sessions_stopped ON charging_sessions (stopped_at) WHERE stopped_at IS NOT NULL;
        CREATE INDEX charging_sessions_driver ON charging_sessions (driver_id, started_at);
        CREATE INDEX charging_sessions_tag_status ON charging_sessions (id_tag COLLATE NOCASE, status);

        CREATE TABLE session_samples (
            session_id TEXT NOT NULL REFERENCES charging_sessions (id) ON DELETE CASCADE,
            at INTEGER NOT NULL,
            energy_wh INTEGER NOT NULL,
            power_w INTEGER
        );
        CREATE INDEX session_samples_session ON session_samples (session_id, at);

        CREATE TABLE invoice_counters (
            year INTEGER PRIMARY KEY,
            last INTEGER NOT NULL
        );

        CREATE TABLE invoices (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            number TEXT NOT NULL UNIQUE,
            driver_id TEXT REFERENCES drivers (id) ON DELETE SET NULL,
            session_id TEXT NOT NULL UNIQUE REFERENCES charging_sessions (id),
            lines TEXT NOT NULL,
            subtotal INTEGER NOT NULL,
            tax INTEGER NOT NULL,
            total INTEGER NOT NULL,
            amount_paid INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('issued', 'paid', 'void')),
            issued_at INTEGER NOT NULL,
            due_at INTEGER NOT NULL,
            paid_at INTEGER
        );
        CREATE INDEX invoices_issued ON invoices (issued_at);
        CREATE INDEX invoices_driver ON invoices (driver_id, issued_at);

        CREATE TABLE payments (
            id TEXT PRIMARY KEY NOT NULL,
            invoice_id TEXT NOT NULL REFERENCES invoices (id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            method TEXT NOT NULL,
            reference TEXT,
            received_at INTEGER NOT NULL
        );
        CREATE INDEX payments_invoice ON payments (invoice_id);

        CREATE TABLE status_history (
            id INTEGER PRIMARY KEY,
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            -- 0 for the station as a whole (OCPP connector 0, and online/offline).
            connector_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('connector', 'connectivity')),
            previous TEXT,
            current TEXT NOT NULL,
            error_code TEXT,
            info TEXT,
            vendor_error_code TEXT,
            source TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX status_history_station_time ON status_history (station_id, at);

        CREATE TABLE alerts (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
            state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
            -- What the alert is about; at most one unresolved alert per condition.
            condition_key TEXT NOT NULL,
            station_id TEXT,
            connector_id INTEGER,
            message TEXT NOT NULL,
            details TEXT NOT NULL,
            raised_at INTEGER NOT NULL,
            acknowledged_at INTEGER,
            resolved_at INTEGER,
            updated_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (condition_key) WHERE state != 'resolved';
        CREATE INDEX alerts_state ON alerts (state, raised_at);
        CREATE INDEX alerts_station ON alerts (station_id, raised_at);
        """

    private static let identityStationsDrivers = """
        CREATE TABLE users (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            email TEXT NOT NULL COLLATE NOCASE UNIQUE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'driver')),
            status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
            password_hash TEXT NOT NULL,
            -- Access tokens issued before this instant are refused (disable, role change, logout-all).
            tokens_valid_after INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX users_role ON users (role, status);

        CREATE TABLE refresh_tokens (
            token_hash TEXT PRIMARY KEY NOT NULL,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            revoked_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

        CREATE TABLE stations (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            operator_id TEXT,
            address TEXT,
            latitude REAL,
            longitude REAL,
            status TEXT NOT NULL,
            ocpp_version TEXT NOT NULL,
            registration TEXT NOT NULL,
            tariff_id TEXT,
            online INTEGER NOT NULL DEFAULT 0,
            last_seen_at INTEGER,
            vendor TEXT,
            model TEXT,
            serial_number TEXT,
            firmware_version TEXT,
            password_hash TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX stations_status ON stations (status);
        CREATE INDEX stations_location ON stations (latitude, longitude) WHERE latitude IS NOT NULL;

        CREATE TABLE connectors (
            station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
            connector_id INTEGER NOT NULL CHECK (connector_id >= 1),
            type TEXT NOT NULL,
            max_power_kw REAL NOT NULL,
            status TEXT NOT NULL,
            error_code TEXT,
            status_updated_at INTEGER NOT NULL,
            PRIMARY KEY (station_id, connector_id)
        ) WITHOUT ROWID;
        CREATE INDEX connectors_status ON connectors (status);

        CREATE TABLE drivers (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL,
            user_id TEXT UNIQUE REFERENCES users (id) ON DELETE SET NULL,
            name TEXT NOT NULL,
            email TEXT NOT NULL COLLATE NOCASE,
            phone TEXT,
            status TEXT NOT NULL,
            membership TEXT NOT NULL,
            vehicles TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX drivers_email ON drivers (email);

        CREATE TABLE id_tags (
            -- The tag as first written; lookups are case-insensitive, as OCPP id tags are.
            id TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            kind TEXT NOT NULL,
            driver_id TEXT REFERENCES drivers (id) ON DELETE CASCADE,
            expires_at INTEGER,
            parent_id_tag TEXT,
            max_active_transactions INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX id_tags_driver ON id_tags (driver_id);
        """
}
