import ArgumentParser
import Foundation
import Ledger

/// `tongbao backup`: an online, consistent copy of the store, verified after writing.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the gateway's store while it runs, then verify the copy as log verify does (SQLite: its online backup; PostgreSQL: pg_dump).",
        discussion: """
            FILE must not exist. The copy is readable by its owner only. Restore it with tongbao restore. \
            A PostgreSQL dump (--database postgres://…) is verified by restoring it into a scratch database on the same server, \
            dropped after: the user needs CREATEDB. pg_dump, pg_restore and psql come from the postgresql-client package.
            """)

    @OptionGroup var location: OutboxCommand.Location

    @Option(help: "The file to write.")
    var out: String

    func run() async throws {
        try await runReportingErrors("backup") {
            switch try ledgerAddress(data: location.data, database: location.database, mustExist: true) {
            case .sqlite(let path):
                do {
                    try SQLiteBackup.copy(from: path, to: out)
                } catch {
                    throw CLIError.io("\(error)")
                }
                let entries = try await verifyCopy(.sqlite(path: out), named: "the copy in \(out)")
                print("backed up \(entries) entries to \(out); chain intact, every leaf in the Merkle tree")
            case .postgres(let url):
                try await PostgresDump.dump(url, to: out)
                // The dump is verified where it can be read back: restored into a scratch database on the same server.
                let entries = try await PostgresDump.withScratchDatabase(beside: url) { scratch in
                    try await PostgresDump.restore(out, into: scratch)
                    return try await verifyCopy(.postgres(url: scratch), named: "the dump in \(out)")
                }
                print("backed up \(entries) entries to \(out) (pg_dump, custom format); restored into a scratch database: chain intact, every leaf in the Merkle tree")
            }
        }
    }
}

/// Verifies a copied store as `tongbao log verify` does: the hash chain, then every entry against the
/// Merkle tree and its stored checkpoints. The number of entries; exit 1 naming the first that does not verify.
func verifyCopy(_ address: LedgerAddress, named what: String) async throws -> Int {
    try await withOpenedLedger(address) { log in
        let chain = try await log.verifyChain()
        if let broken = chain.firstBroken {
            throw CLIError(exitCode: 1, description: "\(what) does not verify: entry \(broken.position): \(broken.reason)")
        }
        let tree = try await TreeAudit.walk(log, logKey: nil)
        if let (position, reason) = tree.firstBroken {
            throw CLIError(exitCode: 1, description: "\(what) does not verify: entry \(position): \(reason)")
        }
        return chain.entries
    }
}

/// `tongbao restore`: a backup made the store of a data folder (or an empty PostgreSQL database) that has
/// none, verified after writing.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a backup the store of a data folder, or of an empty PostgreSQL database, that has none; then verify it as log verify does.",
        discussion: "Refuses a folder or database that already has a store: move it away first. Start the gateway on it after.")

    @Option(name: .customLong("in"), help: "The backup file (from tongbao backup).")
    var input: String

    @Option(help: "The data folder to restore into (the store becomes DATA/tongbao.sqlite).")
    var data: String?

    @Option(help: "An empty PostgreSQL database to restore a pg_dump backup into instead (postgres://USER@HOST:PORT/DATABASE).")
    var database: String?

    func run() async throws {
        try await runReportingErrors("restore") {
            guard FileManager.default.fileExists(atPath: input) else { throw CLIError.io("\(input): no such file") }
            switch (data, database) {
            case (let data?, nil):
                let target = URL(fileURLWithPath: data).appendingPathComponent("tongbao.sqlite").path
                guard !FileManager.default.fileExists(atPath: target) else {
                    throw CLIError.data("\(target) exists: restore never replaces a store; move it away first")
                }
                do {
                    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    try SQLiteBackup.copy(from: input, to: target)
                } catch let error as LedgerError {
                    throw CLIError.io("\(error)")
                } catch {
                    throw CLIError.io("cannot create \(data): \(error.localizedDescription)")
                }
                let entries = try await verifyCopy(.sqlite(path: target), named: "the restored store")
                print("restored \(entries) entries into \(target); chain intact, every leaf in the Merkle tree")
            case (nil, let database?):
                guard case .postgres(let url)? = LedgerAddress(database: database) else {
                    throw CLIError.usage("--database \(database): restore takes a postgres:// URL (for SQLite, give --data)")
                }
                try await PostgresDump.restore(input, into: url)
                let entries = try await verifyCopy(.postgres(url: url), named: "the restored database")
                print("restored \(entries) entries into \(PostgresDump.redacted(url)); chain intact, every leaf in the Merkle tree")
            default:
                throw CLIError.usage("give --data DIR or --database postgres://…, one of them")
            }
        }
    }
}
