import Foundation
import Synchronization

/// A real PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl start` on a loopback port,
/// one database `tongbao` owned by the user `tongbao` (trust authentication, loopback only). Debian's
/// `postgresql` package provides the programs; as root they run as the `postgres` system user.
public final class PostgresServer: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The data folder.
    public let folder: URL
    private let binaries: URL
    private let asUser: String?

    /// The URL of the `tongbao` database.
    public var url: String { "postgres://tongbao@127.0.0.1:\(port)/tongbao" }

    /// Why a server cannot be started here, or nil when it can.
    public static var unavailableReason: String? {
        binaryFolder() == nil ? "PostgreSQL's server programs are not installed (Debian: apt-get install postgresql)" : nil
    }

    /// Starts a new server with an empty `tongbao` database.
    public static func start() throws -> PostgresServer {
        guard let binaries = binaryFolder() else { throw Failure(message: unavailableReason ?? "no PostgreSQL") }
        let folder = try ExternalCommand.scratchFolder("tongbao-postgres")
        let asUser: String? = getuid() == 0 ? "postgres" : nil
        if let asUser {
            let chown = try ExternalCommand.run("chown", ["-R", "\(asUser):", folder.path])
            guard chown.status == 0 else { throw Failure(message: "chown: \(chown.output)") }
        }
        var lastError = ""
        for _ in 0..<5 {
            let port = Int.random(in: 41_000...60_000)
            let server = PostgresServer(port: port, folder: folder, binaries: binaries, asUser: asUser)
            do {
                try server.initialize()
                try server.startServer()
                try server.createDatabase()
                return server
            } catch {
                lastError = "\(error)"
                server.stop()
                _ = try? ExternalCommand.run("rm", ["-rf", folder.appendingPathComponent("data").path])
            }
        }
        throw Failure(message: "cannot start PostgreSQL: \(lastError)")
    }

    private init(port: Int, folder: URL, binaries: URL, asUser: String?) {
        self.port = port
        self.folder = folder
        self.binaries = binaries
        self.asUser = asUser
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), like a crash.
    public func stop() {
        _ = try? run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
    }

    /// Runs SQL with `psql` as the `tongbao` user; the output, or an error.
    public func psql(_ sql: String) throws -> String {
        let result = try run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "tongbao", "-d", "tongbao", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw Failure(message: "psql: \(result.output)") }
        return result.output
    }

    /// The server shared by a test process, started on first use and stopped when the process exits.
    public static func shared() throws -> PostgresServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try start()
            server = started
            atexit { PostgresServer.stopShared() }
            return started
        }
    }

    private static let sharedServer = Mutex<PostgresServer?>(nil)

    private static func stopShared() {
        sharedServer.withLock { $0?.stop() }
    }

    /// Creates a new, empty database and returns its URL (each test its own).
    public func newDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let result = try run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "tongbao", name])
        guard result.status == 0 else { throw Failure(message: "createdb: \(result.output)") }
        return "postgres://tongbao@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL with `psql` on the database of `url` (one made by ``newDatabase()``).
    public func psql(_ sql: String, database url: String) throws -> String {
        let name = String(url.split(separator: "/").last ?? "tongbao")
        let result = try run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "tongbao", "-d", name, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw Failure(message: "psql: \(result.output)") }
        return result.output
    }

    /// Drops and creates the `tongbao` database (a clean slate for the next test).
    public func resetDatabase() throws {
        let result = try run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "tongbao", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                      "-c", "DROP DATABASE IF EXISTS tongbao WITH (FORCE)", "-c", "CREATE DATABASE tongbao"])
        guard result.status == 0 else { throw Failure(message: "reset: \(result.output)") }
    }

    private func initialize() throws {
        let result = try run("initdb", ["-D", folder.appendingPathComponent("data").path, "-U", "tongbao", "--auth=trust", "-E", "UTF8", "--no-locale"])
        guard result.status == 0 else { throw Failure(message: "initdb: \(result.output)") }
    }

    private func startServer() throws {
        let options = "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c max_connections=100"
        // The server must not inherit the descriptor Foundation's Process watches to see its child exit
        // (it would keep this call waiting for as long as the server runs): close every descriptor above 2.
        let pgctl = binaries.appendingPathComponent("pg_ctl").path
        let command = (asUser.map { ["runuser", "-u", $0, "--"] } ?? []) + [
            pgctl, "-D", folder.appendingPathComponent("data").path, "-o", "'\(options)'",
            "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "60", "start",
        ]
        let script = "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\" 2>/dev/null; done; exec " + command.joined(separator: " ")
        let result = try ExternalCommand.run("bash", ["-c", script], in: folder, logFile: folder.appendingPathComponent("pg_ctl.out"))
        guard result.status == 0 else {
            let log = (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            throw Failure(message: "pg_ctl start: \(result.output) \(log.suffix(800))")
        }
    }

    private func createDatabase() throws {
        let result = try run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "tongbao", "tongbao"])
        guard result.status == 0 else { throw Failure(message: "createdb: \(result.output)") }
    }

    private func run(_ program: String, _ arguments: [String]) throws -> ExternalCommand.Result {
        let path = binaries.appendingPathComponent(program).path
        if let asUser { return try ExternalCommand.run("runuser", ["-u", asUser, "--", path] + arguments, in: folder) }
        return try ExternalCommand.run(path, arguments, in: folder)
    }

    private static func binaryFolder() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() {
            let folder = root.appendingPathComponent("\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("pg_ctl").path) { return folder }
        }
        return nil
    }

    /// A server that could not be started or used.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public let message: String
        public var description: String { message }
    }
}
