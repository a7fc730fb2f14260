import CSQLite

/// One SQLite connection, owned; not shared across threads (``SQLiteMessageLog`` serializes access).
final class SQLiteConnection {
    private let handle: OpaquePointer
    /// Prepared statements of the append path, by their SQL: each is prepared once per connection.
    private var statements: [String: Statement] = [:]

    /// Opens (creating if needed) the database at `path`, in WAL mode with `synchronous=FULL`, so that a
    /// committed append survives a crash or power loss.
    init(path: String) throws(LedgerError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &opened, flags, nil) == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(opened)
            throw LedgerError.storageFailure("cannot open the database \(path): \(message)")
        }
        handle = opened
        sqlite3_busy_timeout(handle, 5000)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs `body` with the prepared statement for `sql`, prepared once and kept; it is reset when `body`
    /// returns, so that no half-read statement holds a read transaction open (which would hide other
    /// processes' commits and hold back WAL checkpoints).
    func withStatement<Result>(_ sql: String, _ body: (Statement) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        let statement: Statement
        if let prepared = statements[sql] {
            statement = prepared
        } else {
            statement = try prepare(sql)
            statements[sql] = statement
        }
        defer { statement.reset() }
        return try body(statement)
    }

    /// Runs SQL that returns no rows (several statements allowed).
    /// Copies this whole database into `destination` in one step of SQLite's online backup: a consistent
    /// snapshot, taken while other connections (a running gateway) go on writing.
    func backUp(into destination: SQLiteConnection) throws(LedgerError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw LedgerError.storageFailure("cannot start the backup: \(String(cString: sqlite3_errmsg(destination.handle)))")
        }
        var step = sqlite3_backup_step(backup, -1)
        var waits = 0
        while (step == SQLITE_BUSY || step == SQLITE_LOCKED), waits < 100 {
            sqlite3_sleep(50)
            waits += 1
            step = sqlite3_backup_step(backup, -1)
        }
        let finished = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finished == SQLITE_OK else {
            throw LedgerError.storageFailure("the backup did not complete: \(String(cString: sqlite3_errstr(step == SQLITE_DONE ? finished : step)))")
        }
    }

    func execute(_ sql: String) throws(LedgerError) {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastError
            sqlite3_free(message)
            throw LedgerError.storageFailure("\(text) (in: \(sql.prefix(80)))")
        }
    }

    /// A prepared statement.
    func prepare(_ sql: String) throws(LedgerError) -> Statement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw LedgerError.storageFailure("\(lastError) (in: \(sql.prefix(80)))")
        }
        return Statement(statement, connection: self)
    }

    /// Runs `body` in an immediate transaction: committed when it returns, rolled back when it throws.
    func transaction<Result>(_ body: () throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        do {
            return try transactionWithAnyError(body)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.storageFailure("\(error)")
        }
    }

    /// ``transaction(_:)`` for a body that may throw any error (which rolls back and is rethrown).
    func transactionWithAnyError<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether no transaction is open (SQLite rolls one back by itself after some errors).
    var autocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A prepared statement, owned; finalized with its last reference.
final class Statement {
    private let handle: OpaquePointer
    /// Unowned: the connection keeps its prepared statements, and a strong reference back would keep both
    /// alive for ever (the connection, its file handles and its WAL were never closed). A statement never
    /// outlives its connection.
    private unowned let connection: SQLiteConnection

    init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// A value to bind.
    enum Value: Sendable {
        case integer(Int)
        case text(String)
        case blob([UInt8])
        case null
    }

    /// Binds `values` to the parameters 1…n.
    func bind(_ values: [Value]) throws(LedgerError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 = switch value {
            case .integer(let number): sqlite3_bind_int64(handle, index, Int64(number))
            case .text(let text): tongbao_sqlite_bind_text(handle, index, text, Int32(text.utf8.count))
            case .blob(let bytes): bytes.withUnsafeBytes { tongbao_sqlite_bind_blob(handle, index, $0.baseAddress, Int32($0.count)) }
            case .null: sqlite3_bind_null(handle, index)
            }
            guard status == SQLITE_OK else { throw LedgerError.storageFailure(connection.lastError) }
        }
    }

    /// Ends the statement's current run (its bindings are replaced by the next ``bind(_:)``).
    func reset() {
        sqlite3_reset(handle)
    }

    /// Steps once: true while a row is available.
    func step() throws(LedgerError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw LedgerError.storageFailure(connection.lastError)
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [Value]) throws(LedgerError) {
        try bind(values)
        while try step() {}
    }

    func integer(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: pointer)
    }

    func optionalText(_ column: Int32) -> String? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : text(column)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
