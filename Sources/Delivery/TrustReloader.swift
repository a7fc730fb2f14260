import Foundation
import Intake
import Logging
import ServiceLifecycle
import StrictJSON
import Trust
import UnixSignals

/// Where the trust and participants in force come from: the trust-store folder and the participants file.
public struct TrustSources: Sendable {
    /// The trust store folder (`roots/`, `intermediates/`, `crl/`).
    public var trustDirectory: String
    /// The participants file.
    public var participantsFile: String
    /// How often the files are looked at for a change.
    public var interval: Duration

    /// Creates the sources.
    public init(trustDirectory: String, participantsFile: String, interval: Duration = .seconds(2)) {
        self.trustDirectory = trustDirectory
        self.participantsFile = participantsFile
        self.interval = interval
    }
}

/// Reloads the trust store and the participants while the gateway runs: on `SIGHUP` (which `tongbao
/// reload` sends) and whenever their files change. A reload is atomic: the new files are read and checked
/// whole, then put in force at once; a file that does not load is refused with a log line naming it, and
/// what was in force stays.
public struct TrustReloader: Service {
    let sources: TrustSources
    let liveTrust: LiveTrust
    let logger: Logger
    /// Whether to reload on SIGHUP (a process may trap a signal for one purpose only; tests run several gateways).
    let onHangUp: Bool

    /// A reloader of `liveTrust` from `sources`.
    public init(sources: TrustSources, liveTrust: LiveTrust, onHangUp: Bool = true, logger: Logger) {
        self.sources = sources
        self.liveTrust = liveTrust
        self.onHangUp = onHangUp
        self.logger = logger
    }

    public func run() async throws {
        let initial = fingerprint()
        try await withThrowingDiscardingTaskGroup { group in
            if onHangUp {
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                        logger.info("SIGHUP: reloading trust and participants")
                        reload()
                    }
                }
            }
            await cancelWhenGracefulShutdown {
                var seen = initial
                while !Task.isCancelled {
                    try? await Task.sleep(for: sources.interval)
                    let now = fingerprint()
                    if now != seen {
                        seen = now
                        reload()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Loads the files and puts them in force, or keeps what is in force when they do not load.
    @discardableResult
    public func reload() -> Bool {
        do {
            let trust = try TrustStore(directory: sources.trustDirectory)
            let participants: [Participant]
            do {
                participants = try ParticipantsFile.parse(Array(try Data(contentsOf: URL(fileURLWithPath: sources.participantsFile))))
            } catch let error as JSONDecodingError {
                throw ReloadError(file: sources.participantsFile, reason: "line \(error.line): \(error.pointer): \(error.message)")
            }
            liveTrust.replace(with: LiveTrust.Snapshot(trust: trust, participants: participants))
            logger.info("trust reloaded", metadata: [
                "roots": .stringConvertible(trust.roots.count), "crls": .stringConvertible(trust.revocationLists.count),
                "participants": .stringConvertible(participants.count),
            ])
            return true
        } catch {
            logger.error("reload refused; the trust and participants in force stay", metadata: ["error": .string("\(error)")])
            return false
        }
    }

    /// What identifies the files' current contents: each file's path, size and modification time.
    func fingerprint() -> [String] {
        var files = [sources.participantsFile]
        let manager = FileManager.default
        for folder in ["roots", "intermediates", "crl"] {
            let path = sources.trustDirectory + "/" + folder
            files += ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
        }
        return files.map { file in
            let attributes = try? manager.attributesOfItem(atPath: file)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(file) \(attributes?[.size] as? Int ?? -1) \(modified)"
        }
    }
}

/// A file that did not load in a reload.
struct ReloadError: Error, CustomStringConvertible {
    let file: String
    let reason: String
    var description: String { "\(file): \(reason)" }
}
