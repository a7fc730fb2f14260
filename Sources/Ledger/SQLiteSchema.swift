/// The SQLite layout and its migrations, tracked by `PRAGMA user_version`.
///
/// The value checks are written as `=` alternatives, not `IN (…)`: for an `IN` list of three or more
/// values SQLite builds a temporary B-tree on every insert to check it, about 4 µs each, two to four
/// times per accepted bulletin on the serial commit path.
enum SQLiteSchema {
    /// The current layout version: 1 had no `issued` outcome; 2 checked values with `IN (…)`; 3 had no
    /// refusal record; 4 had no Merkle tree (its hashes are computed from the log when it migrates); 5 had
    /// no `trust` and `configuration` outcomes.
    static let version = 6

    static func logTable(_ name: String) -> String {
        """
        CREATE TABLE \(name) (
            position INTEGER PRIMARY KEY,
            issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
            received_at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome = 'accepted' OR outcome = 'rejected' OR outcome = 'issued' OR outcome = 'trust'
                                         OR outcome = 'configuration'),
            error_code TEXT, bytes BLOB NOT NULL, sha256 TEXT NOT NULL,
            previous_hash TEXT NOT NULL, hash TEXT NOT NULL
        )
        """
    }

    static func outboxTable(_ name: String) -> String {
        """
        CREATE TABLE \(name) (
            sequence INTEGER PRIMARY KEY,
            position INTEGER NOT NULL REFERENCES log (position),
            recipient TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'acknowledged' OR state = 'dead'),
            attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT, updated_at TEXT NOT NULL,
            UNIQUE (position, recipient)
        )
        """
    }

    static let indexesAndTables = """
        CREATE UNIQUE INDEX IF NOT EXISTS log_accepted ON log (issuer, id) WHERE outcome = 'accepted';
        CREATE UNIQUE INDEX IF NOT EXISTS log_issued ON log (issuer, id) WHERE outcome = 'issued';
        CREATE INDEX IF NOT EXISTS log_changes ON log (type, position) WHERE outcome = 'trust' OR outcome = 'configuration';
        CREATE TABLE IF NOT EXISTS receipts (position INTEGER PRIMARY KEY REFERENCES log (position), bytes BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
        CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, sequence);
        CREATE TABLE IF NOT EXISTS delivery_log (
            sequence INTEGER NOT NULL REFERENCES outbox (sequence), attempt INTEGER NOT NULL, at TEXT NOT NULL,
            outcome TEXT NOT NULL, detail TEXT NOT NULL, retry_in_ms INTEGER
        );
        CREATE INDEX IF NOT EXISTS delivery_log_sequence ON delivery_log (sequence);
        CREATE TABLE IF NOT EXISTS refusals (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, issuer TEXT NOT NULL, id TEXT NOT NULL,
            type TEXT NOT NULL, sender TEXT NOT NULL, code TEXT NOT NULL, reason TEXT, sha256 TEXT NOT NULL, size INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS refusals_received_at ON refusals (received_at);
        CREATE TABLE IF NOT EXISTS merkle_nodes (
            level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
        """

    /// Brings the database to ``version``: creates it, or rebuilds the log and outbox tables of an earlier
    /// version (whose checks differ) the way SQLite documents for a changed constraint, keeping every row.
    static func migrate(_ connection: SQLiteConnection) throws(LedgerError) {
        guard try userVersion(connection) < version else { return }
        try connection.execute("PRAGMA foreign_keys=OFF")   // only outside a transaction; see SQLite's "ALTER TABLE"
        defer { try? connection.execute("PRAGMA foreign_keys=ON") }
        try connection.transaction { () throws(LedgerError) in
            let current = try userVersion(connection)
            guard current < version else { return }   // another process was first
            if current < 6 {   // the log's outcome check changed in 3 and 6
                try rebuild("log", logTable, columns: "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash", connection)
            }
            if current < 3 {
                try rebuild("outbox", outboxTable, columns: "sequence, position, recipient, state, attempts, next_attempt_at, last_error, updated_at", connection)
            }
            try connection.execute(indexesAndTables)
            try growTreeToLog(connection)
            try connection.execute("PRAGMA user_version = \(version)")
        }
    }

    /// Computes the Merkle tree's hashes of entries logged before the store kept a tree.
    static func growTreeToLog(_ connection: SQLiteConnection) throws(LedgerError) {
        while true {
            let entries = try SQLiteLedger.entries(connection, after: try SQLiteLedger.treeSize(connection), limit: 10_000)
            guard !entries.isEmpty else { return }
            try SQLiteLedger.growTree(by: entries, in: connection)
        }
    }

    /// Creates `table` as `definition` makes it, copying the rows of an existing one (its indexes go with
    /// the old table; ``indexesAndTables`` makes them again).
    private static func rebuild(_ table: String, _ definition: (String) -> String, columns: String,
                                _ connection: SQLiteConnection) throws(LedgerError) {
        guard try hasTable(table, connection) else {
            try connection.execute(definition(table))
            return
        }
        try connection.execute(definition("\(table)_next"))
        try connection.execute("""
            INSERT INTO \(table)_next SELECT \(columns) FROM \(table);
            DROP TABLE \(table);
            ALTER TABLE \(table)_next RENAME TO \(table);
            """)
    }

    private static func hasTable(_ name: String, _ connection: SQLiteConnection) throws(LedgerError) -> Bool {
        let statement = try connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
        try statement.bind([.text(name)])
        return try statement.step()
    }

    private static func userVersion(_ connection: SQLiteConnection) throws(LedgerError) -> Int {
        let pragma = try connection.prepare("PRAGMA user_version")
        return try pragma.step() ? pragma.integer(0) : 0
    }
}
