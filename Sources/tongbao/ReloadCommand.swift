import ArgumentParser
import Foundation
import Gateway
import Trust

/// `tongbao reload`: makes the running gateway of a data folder reload its trust store, participants and calendar.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running gateway reload its trust store (roots, intermediates, CRLs), participants and working-day calendar, as SIGHUP does.",
        discussion: """
            The new files are checked here first: a file that does not load is named and nothing is sent (exit 65), \
            and the gateway keeps what is in force. The gateway also reloads on its own within 2 seconds of a file change.
            """)

    @OptionGroup var options: GatewayOptions

    func run() throws {
        try runReportingErrors("reload") {
            let participantsPath = options.participants ?? options.pki.appendingPathComponent("participants.json").path
            let trustPath = options.trust ?? options.pki.appendingPathComponent("trust").path
            let trust: TrustStore
            let participants: [Participant]
            do {
                trust = try TrustStore(directory: trustPath)
            } catch {
                throw CLIError.data("\(trustPath): \(error)")
            }
            do {
                participants = try ParticipantsFile.parse(try readInput(participantsPath))
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.data("\(participantsPath): \(error)")
            }
            let years = try options.rulesDirectory.library().calendar().years.count
            let pidFile = URL(fileURLWithPath: options.data).appendingPathComponent("tongbao.pid").path
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else {
                throw CLIError.io("\(pidFile): no running gateway recorded there (tongbao serve writes it)")
            }
            guard kill(pid, SIGHUP) == 0 else { throw CLIError.io("the gateway (process \(pid)) cannot be signalled: \(String(cString: strerror(errno)))") }
            print("reload sent to process \(pid): \(trust.roots.count) root(s), \(trust.intermediates.count) intermediate(s), \(trust.revocationLists.count) CRL(s), \(participants.count) participant(s), \(years) calendar year(s)")
        }
    }
}
