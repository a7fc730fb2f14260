/// One SQLite connection on a thread of its own (a ``SerialThread``): every use of the connection runs
/// there, one after another, and the caller's task is suspended meanwhile (no cooperative thread or event
/// loop waits for the disk). A use, once submitted, runs to its end even if the caller is cancelled, so
/// that a transaction is never left open. Code already on the thread (a transaction's body that prefers
/// it) uses the connection at once.
final class SQLiteThread: Sendable {
    /// The connection's thread.
    let thread: SerialThread
    private let connection: SQLiteConnectionBox

    /// Opens the database at `path` on a new thread named `name`.
    static func open(path: String, name: String) async throws(LedgerError) -> SQLiteThread {
        let thread = SerialThread(name: name)
        let connection = try await thread.run { () throws(LedgerError) -> SQLiteConnectionBox in try SQLiteConnectionBox(SQLiteConnection(path: path)) }
        return SQLiteThread(thread: thread, connection: connection)
    }

    private init(thread: SerialThread, connection: SQLiteConnectionBox) {
        self.thread = thread
        self.connection = connection
    }

    /// Runs `body` with the connection on its thread.
    func run<Value: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(LedgerError) -> Value) async throws(LedgerError) -> Value {
        let connection = connection
        return try await thread.run { () throws(LedgerError) -> Value in try body(connection.connection) }
    }
}

/// Lets the non-Sendable connection cross to its thread (it is only ever used there).
struct SQLiteConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }
}
