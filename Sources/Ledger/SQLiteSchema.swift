/// The SQLite layout and its migrations, tracked by `PRAGMA user_version`.
enum SQLiteSchema {
    /// The current layout version.
    static let version = 2

    static func logTable(_ name: String) -> String {
        """
        CREATE TABLE \(name) (
            position INTEGER PRIMARY KEY,
            issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
            received_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'issued')),
            error_code TEXT, bytes BLOB NOT NULL, sha256 TEXT NOT NULL,
            previous_hash TEXT NOT NULL, hash TEXT NOT NULL
        )
        """
    }

    static let indexesAndTables = """
        CREATE UNIQUE INDEX IF NOT EXISTS log_accepted ON log (issuer, id) WHERE outcome = 'accepted';
        CREATE UNIQUE INDEX IF NOT EXISTS log_issued ON log (issuer, id) WHERE outcome = 'issued';
        CREATE TABLE IF NOT EXISTS receipts (position INTEGER PRIMARY KEY REFERENCES log (position), bytes BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS outbox (
            sequence INTEGER PRIMARY KEY,
            position INTEGER NOT NULL REFERENCES log (position),
            recipient TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'acknowledged', 'dead')),
            attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT, updated_at TEXT NOT NULL,
            UNIQUE (position, recipient)
        );
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
        CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, sequence);
        CREATE TABLE IF NOT EXISTS delivery_log (
            sequence INTEGER NOT NULL REFERENCES outbox (sequence), attempt INTEGER NOT NULL, at TEXT NOT NULL,
            outcome TEXT NOT NULL, detail TEXT NOT NULL, retry_in_ms INTEGER
        );
        CREATE INDEX IF NOT EXISTS delivery_log_sequence ON delivery_log (sequence);
        """

    /// Brings the database to ``version``: creates it, or rebuilds the version-1 log table (whose outcome
    /// check did not allow `issued`) the way SQLite documents for a changed constraint.
    static func migrate(_ connection: SQLiteConnection) throws(LedgerError) {
        guard try userVersion(connection) < version else { return }
        try connection.execute("PRAGMA foreign_keys=OFF")   // only outside a transaction; see SQLite's "ALTER TABLE"
        defer { try? connection.execute("PRAGMA foreign_keys=ON") }
        try connection.transaction { () throws(LedgerError) in
            guard try userVersion(connection) < version else { return }   // another process was first
            if try hasLogTable(connection) {
                try connection.execute(logTable("log_next"))
                try connection.execute("""
                    INSERT INTO log_next SELECT position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash FROM log;
                    DROP TABLE log;
                    ALTER TABLE log_next RENAME TO log;
                    """)
            } else {
                try connection.execute(logTable("log"))
            }
            try connection.execute(indexesAndTables)
            try connection.execute("PRAGMA user_version = \(version)")
        }
    }

    private static func hasLogTable(_ connection: SQLiteConnection) throws(LedgerError) -> Bool {
        try connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log'").step()
    }

    private static func userVersion(_ connection: SQLiteConnection) throws(LedgerError) -> Int {
        let pragma = try connection.prepare("PRAGMA user_version")
        return try pragma.step() ? pragma.integer(0) : 0
    }
}
