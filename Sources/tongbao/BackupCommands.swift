import ArgumentParser
import Foundation
import Ledger

/// `tongbao backup`: an online, consistent copy of the store, verified after writing.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the gateway's store while it runs, then verify the copy's chain (SQLite: one snapshot by SQLite's online backup).",
        discussion: "FILE must not exist. The copy is readable by its owner only. Restore it with tongbao restore.")

    @OptionGroup var location: OutboxCommand.Location

    @Option(help: "The file to write.")
    var out: String

    func run() async throws {
        try await runReportingErrors("backup") {
            guard case .sqlite(let path) = try ledgerAddress(data: location.data, database: location.database, mustExist: true) else {
                throw CLIError.usage("backup copies an SQLite store; for PostgreSQL use pg_dump, which takes a consistent snapshot the same way")
            }
            do {
                try SQLiteBackup.copy(from: path, to: out)
            } catch {
                throw CLIError.io("\(error)")
            }
            let report = try await withOpenedLedger(.sqlite(path: out)) { log in try await log.verifyChain() }
            if let broken = report.firstBroken {
                throw CLIError(exitCode: 1, description: "the copy in \(out) does not verify: entry \(broken.position): \(broken.reason)")
            }
            print("backed up \(report.entries) entries to \(out); chain intact")
        }
    }
}

/// `tongbao restore`: a backup made the store of a data folder that has none, verified after writing.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a backup the store of a data folder that has none, then verify its chain.",
        discussion: "Refuses a folder that already has a store: move it away first. Start the gateway on the folder after.")

    @Option(name: .customLong("in"), help: "The backup file (from tongbao backup).")
    var input: String

    @Option(help: "The data folder to restore into (the store becomes DATA/tongbao.sqlite).")
    var data: String

    func run() async throws {
        try await runReportingErrors("restore") {
            let target = URL(fileURLWithPath: data).appendingPathComponent("tongbao.sqlite").path
            guard !FileManager.default.fileExists(atPath: target) else {
                throw CLIError.data("\(target) exists: restore never replaces a store; move it away first")
            }
            guard FileManager.default.fileExists(atPath: input) else { throw CLIError.io("\(input): no such file") }
            do {
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try SQLiteBackup.copy(from: input, to: target)
            } catch let error as LedgerError {
                throw CLIError.io("\(error)")
            } catch {
                throw CLIError.io("cannot create \(data): \(error.localizedDescription)")
            }
            let report = try await withOpenedLedger(.sqlite(path: target)) { log in try await log.verifyChain() }
            if let broken = report.firstBroken {
                throw CLIError(exitCode: 1, description: "the restored store does not verify: entry \(broken.position): \(broken.reason)")
            }
            print("restored \(report.entries) entries into \(target); chain intact")
        }
    }
}
