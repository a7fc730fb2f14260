import NIOPosix

/// One SQLite connection on a thread of its own: every use of the connection runs there, one after
/// another, and the caller's task is suspended meanwhile (no cooperative thread or event loop waits for
/// the disk). A use, once submitted, runs to its end even if the caller is cancelled, so that a
/// transaction is never left open.
final class SQLiteThread: Sendable {
    private let thread: NIOThreadPool
    private let connection: SQLiteConnectionBox

    /// Opens the database at `path` on a new thread.
    static func open(path: String) async throws(LedgerError) -> SQLiteThread {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do throws(LedgerError) {
            let connection = try await Self.run(on: thread) { () throws(LedgerError) -> SQLiteConnectionBox in try SQLiteConnectionBox(SQLiteConnection(path: path)) }
            return SQLiteThread(thread: thread, connection: connection)
        } catch {
            thread.shutdownGracefully { _ in }
            throw error
        }
    }

    private init(thread: NIOThreadPool, connection: SQLiteConnectionBox) {
        self.thread = thread
        self.connection = connection
    }

    deinit {
        // Not waited for: the thread finishes what was submitted, then ends; the connection closes with
        // the last reference to it.
        thread.shutdownGracefully { _ in }
    }

    /// Runs `body` with the connection on its thread.
    func run<Value: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(LedgerError) -> Value) async throws(LedgerError) -> Value {
        let connection = connection
        return try await Self.run(on: thread) { () throws(LedgerError) -> Value in try body(connection.connection) }
    }

    private static func run<Value: Sendable>(on thread: NIOThreadPool, _ body: @escaping @Sendable () throws(LedgerError) -> Value) async throws(LedgerError) -> Value {
        let outcome: Result<Value, LedgerError> = await withCheckedContinuation { continuation in
            thread.submit { state in
                guard state == .active else {
                    continuation.resume(returning: .failure(.storageFailure("the database's thread has stopped")))
                    return
                }
                continuation.resume(returning: Result { () throws(LedgerError) -> Value in try body() })
            }
        }
        return try outcome.get()
    }
}

/// Lets the non-Sendable connection cross to its thread (it is only ever used there).
struct SQLiteConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }
}
