extension LedgerStore {
    /// Runs the store (``LedgerStore/run()``) while `body` uses it, then stops it: for a tool or a test
    /// that uses a store outside a service group.
    public func whileRunning<Value: Sendable>(_ body: (Self) async throws -> Value) async throws -> Value {
        try await withThrowingTaskGroup(of: Void.self, returning: Value.self) { group in
            group.addTask { try await self.run() }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }
}

/// Where a ledger is: an SQLite file (the embedded default) or a PostgreSQL database (several nodes).
public enum LedgerAddress: Sendable, Equatable {
    /// The SQLite database file at this path.
    case sqlite(path: String)
    /// The PostgreSQL database at `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    case postgres(url: String)

    /// The address a `--database` value names: `sqlite:PATH` or a `postgres://` (`postgresql://`) URL;
    /// nil for anything else.
    public init?(database: String) {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            self = .postgres(url: database)
        } else if database.hasPrefix("sqlite:") {
            self = .sqlite(path: String(database.dropFirst("sqlite:".count)))
        } else {
            return nil
        }
    }

    /// Opens the store (not yet migrated, not yet running). `claimLeaseMilliseconds`: how long this node
    /// keeps a claimed push delivery (PostgreSQL; SQLite has one node).
    public func open(claimLeaseMilliseconds: Int64 = 120_000) async throws(LedgerError) -> any LedgerStore {
        switch self {
        case .sqlite(let path): try await SQLiteLedger.open(path: path)
        case .postgres(let url): try PostgresLedger(url: url, claimLeaseMilliseconds: claimLeaseMilliseconds)
        }
    }
}
