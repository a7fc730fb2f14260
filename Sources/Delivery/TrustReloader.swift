import Foundation
import Intake
import Ledger
import Logging
import Scoring
import ServiceLifecycle
import StrictJSON
import Synchronization
import Trust
import UnixSignals

/// Where the trust and participants in force come from: the trust-store folder and the participants file.
public struct TrustSources: Sendable {
    /// The trust store folder (`roots/`, `intermediates/`, `crl/`).
    public var trustDirectory: String
    /// The participants file.
    public var participantsFile: String
    /// The grace period the operator allows for stale CRLs, in seconds (``TrustStore/crlGrace``).
    public var crlGrace: Int
    /// How often the files are looked at for a change.
    public var interval: Duration
    /// Configuration files recorded in the log as a `configuration` change when they differ from the last
    /// recorded ones at start (rule packs, credit models); they are not reloaded.
    public var configuration: [ConfigurationFiles]
    /// The working-day calendar's folder (one `YEAR.json` per year), reloaded with the trust files; nil: the
    /// calendar stays as it was at start.
    public var calendarFolder: String?

    /// Creates the sources.
    public init(trustDirectory: String, participantsFile: String, crlGrace: Int = 0, interval: Duration = .seconds(2),
                configuration: [ConfigurationFiles] = [], calendarFolder: String? = nil) {
        self.crlGrace = crlGrace
        self.trustDirectory = trustDirectory
        self.participantsFile = participantsFile
        self.interval = interval
        self.configuration = configuration
        self.calendarFolder = calendarFolder
    }

    /// The calendar's year files by name.
    func calendarFiles() -> [String] {
        guard let calendarFolder else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: calendarFolder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    /// The working-day calendar of ``calendarFolder``'s year files, or nil when there is no such folder; a
    /// year that does not load is an error naming its file.
    func loadCalendar() throws -> WorkingDayCalendar? {
        guard let calendarFolder else { return nil }
        var years: [WorkingDayCalendar.Year] = []
        for name in calendarFiles() {
            let path = calendarFolder + "/" + name
            do {
                years.append(try WorkingDayCalendar.loadYear(try Data(contentsOf: URL(fileURLWithPath: path)), source: path))
            } catch {
                throw ReloadError(file: path, reason: "\(error)")
            }
        }
        return WorkingDayCalendar(years: years)
    }

    /// The trust store's files by name under ``trustDirectory`` (`roots/…`, `intermediates/…`, `crl/…`).
    func trustStoreFiles() -> [String] {
        let manager = FileManager.default
        return ["roots", "intermediates", "crl"].flatMap { folder in
            ((try? manager.contentsOfDirectory(atPath: trustDirectory + "/" + folder)) ?? []).sorted().map { folder + "/" + $0 }
        }
    }

    /// Every file a reload reads, by path: the participants file, the trust store's, the calendar's years.
    func watchedFiles() -> [String] {
        [participantsFile] + trustStoreFiles().map { trustDirectory + "/" + $0 }
            + (calendarFolder.map { folder in calendarFiles().map { folder + "/" + $0 } } ?? [])
    }

    /// The changes the reloaded files in force now make: the participants file and the trust store (trust),
    /// and the calendar (configuration).
    func reloadedChanges(cause: String) -> [ConfigurationChange] {
        let participants = URL(fileURLWithPath: participantsFile)
        var changes = [
            ConfigurationChange(kind: .trust, what: "participants", cause: cause,
                                files: ConfigurationChange.files(in: participants.deletingLastPathComponent().path, names: [participants.lastPathComponent])),
            ConfigurationChange(kind: .trust, what: "trust-store", cause: cause, files: ConfigurationChange.files(in: trustDirectory, names: trustStoreFiles())),
        ]
        if let calendarFolder {
            changes.append(ConfigurationChange(kind: .configuration, what: "calendar", cause: cause,
                                               files: ConfigurationChange.files(in: calendarFolder, names: calendarFiles())))
        }
        return changes
    }
}

/// Files of the configuration whose digests the log records (``TrustSources/configuration``).
public struct ConfigurationFiles: Sendable {
    /// What they are (`rules`, `calendar`): the change's `what`.
    public var what: String
    /// The folder they are read from.
    public var folder: String
    /// Their names under `folder`.
    public var names: [String]

    /// Files `names` under `folder`, recorded as `what`.
    public init(what: String, folder: String, names: [String]) {
        self.what = what
        self.folder = folder
        self.names = names
    }

    /// Every file below `folder`'s subfolders `under` whose name ends in one of `extensions`, by relative name.
    public init(what: String, folder: String, under subfolders: [String], extensions: Set<String>) {
        let names = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { name in subfolders.contains { name.hasPrefix($0 + "/") } && extensions.contains(URL(fileURLWithPath: name).pathExtension) }
            .sorted()
        self.init(what: what, folder: folder, names: names)
    }
}

/// Reloads the trust store and the participants while the gateway runs: on `SIGHUP` (which `tongbao
/// reload` sends) and whenever their files change. A reload is atomic: the new files are read and checked
/// whole, then put in force at once; a file that does not load is refused with a log line naming it, and
/// what was in force stays.
///
/// Every change that took effect is recorded in the log as a `trust` entry (``ConfigurationChange``: who,
/// what, the digest of every file), and so are the files in force at start when they differ from the last
/// recorded ones (changed while the gateway was stopped), with the configuration files of
/// ``TrustSources/configuration``. A change the log could not take (the store refusing writes) is
/// recorded at the next look at the files.
public struct TrustReloader: Service {
    let sources: TrustSources
    let liveTrust: LiveTrust
    /// Where a reloaded calendar is put in force (nil: the calendar is not reloaded).
    let projection: FactProjection?
    let logger: Logger
    /// Whether to reload on SIGHUP (a process may trap a signal for one purpose only; tests run several gateways).
    let onHangUp: Bool
    /// Records a change in the log (nil: changes are not recorded).
    let record: (@Sendable (ConfigurationChange) async throws -> LogEntry?)?
    /// The changes that took effect but are not recorded yet.
    private let unrecorded = Unrecorded()
    /// Reloads run one at a time.
    private let serial = AsyncLock()

    /// A reloader of `liveTrust` from `sources`, recording each change with `record`.
    public init(sources: TrustSources, liveTrust: LiveTrust, projection: FactProjection? = nil, onHangUp: Bool = true,
                record: (@Sendable (ConfigurationChange) async throws -> LogEntry?)? = nil, logger: Logger) {
        self.sources = sources
        self.liveTrust = liveTrust
        self.projection = projection
        self.onHangUp = onHangUp
        self.record = record
        self.logger = logger
    }

    public func run() async throws {
        // The files are read again once their fingerprint is taken: a change made between the gateway reading
        // its configuration and this moment would otherwise never be seen (the fingerprint already has it).
        let initial = fingerprint()
        await reload(cause: "start")
        await recordChanges(sources.configuration.map {
            ConfigurationChange(kind: .configuration, what: $0.what, cause: "start", files: ConfigurationChange.files(in: $0.folder, names: $0.names))
        })
        try await withThrowingDiscardingTaskGroup { group in
            if onHangUp {
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                        logger.info("SIGHUP: reloading trust, participants and calendar")
                        await reload(cause: "signal")
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
                        await reload(cause: "file-change")
                    } else {
                        await recordChanges([])
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Loads the files, records the change in the log, then puts them in force; or keeps what is in force
    /// when they do not load. One reload at a time (a signal and a file change may come together), so an
    /// older set of files never replaces a newer one.
    @discardableResult
    public func reload(cause: String) async -> Bool {
        await serial.withLock { () async -> Bool in
            // The digests are taken before the files are read: a file replaced in between is seen at the next
            // look, reloaded and recorded again, so the log ends with what is in force.
            let changes = sources.reloadedChanges(cause: cause)
            guard let loaded = load() else { return false }
            // Recorded first: the change's entry comes before any bulletin judged under it. A change the log
            // cannot take now is put in force all the same (a revocation must not wait for the store) and
            // recorded at the next look.
            await recordChanges(changes)
            apply(loaded)
            return true
        }
    }

    /// Records `changes` and those not recorded before; keeps what the log did not take for the next call.
    private func recordChanges(_ changes: [ConfigurationChange]) async {
        guard let record else { return }
        let pending = unrecorded.changes.withLock { pending in
            defer { pending = [] }
            return pending.filter { old in !changes.contains { $0.what == old.what } } + changes
        }
        var failed: [ConfigurationChange] = []
        for change in pending {
            do {
                if let entry = try await record(change) {
                    logger.info("trust or configuration change recorded", metadata: [
                        "what": .string(change.what), "cause": .string(change.cause), "position": .stringConvertible(entry.position),
                    ])
                }
            } catch {
                failed.append(change)
                logger.error("a change in force could not be recorded in the log; trying again", metadata: [
                    "what": .string(change.what), "error": .string("\(error)"),
                ])
            }
        }
        // A change of the same `what` put in force meanwhile supersedes the one that failed.
        unrecorded.changes.withLock { pending in pending = failed.filter { old in !pending.contains { $0.what == old.what } } + pending }
    }

    /// What a reload read, checked whole, before anything is put in force.
    private struct Loaded {
        let trust: TrustStore
        let participants: [Participant]
        let calendar: WorkingDayCalendar?
    }

    /// Reads and checks every file; nil (with a log line naming the file) when one does not load.
    private func load() -> Loaded? {
        do {
            let trust = try TrustStore(directory: sources.trustDirectory, crlGrace: sources.crlGrace)
            let participants: [Participant]
            do {
                participants = try ParticipantsFile.parse(Array(try Data(contentsOf: URL(fileURLWithPath: sources.participantsFile))))
            } catch let error as JSONDecodingError {
                throw ReloadError(file: sources.participantsFile, reason: "line \(error.line): \(error.pointer): \(error.message)")
            }
            let calendar = projection == nil ? nil : try sources.loadCalendar()
            if let calendar, let folder = sources.calendarFolder, let inForce = projection?.scoring.calendar {
                // A year's file gone missing is a mistake, not a decision: deadlines would silently turn provisional.
                let dropped = Set(inForce.years.keys).subtracting(calendar.years.keys).sorted()
                guard dropped.isEmpty else {
                    throw ReloadError(file: folder, reason: "the year(s) \(dropped.map(String.init).joined(separator: ", ")) in force have no file any more; a reload never drops a year")
                }
            }
            return Loaded(trust: trust, participants: participants, calendar: calendar)
        } catch {
            logger.error("reload refused; the trust, participants and calendar in force stay", metadata: ["error": .string("\(error)")])
            return nil
        }
    }

    /// Puts what was loaded in force, at once for every later request.
    private func apply(_ loaded: Loaded) {
        liveTrust.replace(with: LiveTrust.Snapshot(trust: loaded.trust, participants: loaded.participants))
        if let calendar = loaded.calendar { projection?.replaceCalendar(calendar) }
        logger.info("trust reloaded", metadata: [
            "roots": .stringConvertible(loaded.trust.roots.count), "crls": .stringConvertible(loaded.trust.revocationLists.count),
            "participants": .stringConvertible(loaded.participants.count), "calendarYears": .stringConvertible(loaded.calendar?.years.count ?? 0),
        ])
    }

    /// What identifies the files' current contents: each file's path, size and modification time.
    func fingerprint() -> [String] {
        let manager = FileManager.default
        return sources.watchedFiles().map { file in
            let attributes = try? manager.attributesOfItem(atPath: file)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(file) \(attributes?[.size] as? Int ?? -1) \(modified)"
        }
    }
}

/// The changes in force that the log has not taken yet.
private final class Unrecorded: Sendable {
    let changes = Mutex<[ConfigurationChange]>([])
}

/// A file that did not load in a reload.
struct ReloadError: Error, CustomStringConvertible {
    let file: String
    let reason: String
    var description: String { "\(file): \(reason)" }
}
