import Foundation

/// A PostgreSQL store's backup and restore with PostgreSQL's own tools (`pg_dump`, `pg_restore`, `psql`
/// from the postgresql-client package): `pg_dump` reads one consistent snapshot while the gateway writes,
/// as SQLite's online backup does.
enum PostgresDump {
    /// Writes a dump of `database` (a postgres:// URL) to `file` in `pg_dump`'s custom format, owner-only.
    static func dump(_ database: String, to file: String) async throws(CLIError) {
        guard !FileManager.default.fileExists(atPath: file) else { throw CLIError.io("\(file) exists: backup never replaces a file") }
        guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError.io("cannot create \(file)")
        }
        try await run("pg_dump", ["--format=custom", "--no-owner", "--serializable-deferrable", "--file", file, database])
    }

    /// Restores `file` into `database`, which must hold no store yet.
    static func restore(_ file: String, into database: String) async throws(CLIError) {
        let existing = try await run("psql", ["--no-psqlrc", "--tuples-only", "--no-align", "--command", "SELECT to_regclass('public.log') IS NOT NULL", database])
        guard existing.trimmingCharacters(in: .whitespacesAndNewlines) == "f" else {
            throw CLIError.data("\(redacted(database)) already holds a store: restore never replaces one; use an empty database")
        }
        try await run("pg_restore", ["--no-owner", "--exit-on-error", "--single-transaction", "--dbname", database, file])
    }

    /// Runs `body` with a new, empty database on the server of `database`, dropped after.
    static func withScratchDatabase<Value: Sendable>(beside database: String, _ body: (String) async throws -> Value) async throws -> Value {
        guard var components = URLComponents(string: database) else { throw CLIError.usage("\(redacted(database)): not a postgres:// URL") }
        let name = "tongbao_verify_\(getpid())_\(Int.random(in: 0..<1_000_000))"
        components.path = "/" + name
        guard let scratch = components.string else { throw CLIError.usage("\(redacted(database)): not a postgres:// URL") }
        do {
            try await run("psql", ["--no-psqlrc", "--quiet", "--command", "CREATE DATABASE \(name)", database])
        } catch {
            throw CLIError.io("cannot create a scratch database to verify the dump in (the user needs CREATEDB): \(error)")
        }
        do {
            let value = try await body(scratch)
            _ = try? await run("psql", ["--no-psqlrc", "--quiet", "--command", "DROP DATABASE \(name)", database])
            return value
        } catch {
            _ = try? await run("psql", ["--no-psqlrc", "--quiet", "--command", "DROP DATABASE \(name)", database])
            throw error
        }
    }

    /// The URL without its password, for messages.
    static func redacted(_ database: String) -> String {
        guard var components = URLComponents(string: database), components.password != nil else { return database }
        components.password = "***"
        return components.string ?? "the database"
    }

    /// Runs a PostgreSQL client program, waiting without holding a thread; its standard output, or an I/O
    /// error with what it wrote to standard error.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) async throws(CLIError) -> String {
        guard let executable = locate(program) else {
            throw CLIError.io("\(program) is not installed (apt-get install postgresql-client)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-\(program)-\(UUID().uuidString)")
        let output = folder.appendingPathComponent("out"), errors = folder.appendingPathComponent("err")
        defer { try? FileManager.default.removeItem(at: folder) }
        let status: Int32
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } catch {
            throw CLIError.io("cannot run \(program): \(error.localizedDescription)")
        }
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let said = ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            throw CLIError.io("\(program) failed (exit \(status)): \(said.prefix(500))")
        }
        return printed
    }

    /// `program` on the PATH, else the newest PostgreSQL installation's.
    private static func locate(_ program: String) -> String? {
        let manager = FileManager.default
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(program)"
            if manager.isExecutableFile(atPath: path) { return path }
        }
        let versions = ((try? manager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "/usr/lib/postgresql/\($0)/bin/\(program)" }.first { manager.isExecutableFile(atPath: $0) }
    }
}
