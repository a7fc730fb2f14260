import ArgumentParser
import Foundation
import Gateway
import StrictJSON
import Trust

/// `tongbao pki init`: a development PKI for the participants.
struct PKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki", abstract: "A PKI made with this project: init a CA, issue and revoke participant certificates, write CRLs.",
        subcommands: [Init.self, Issue.self, Revoke.self, CRL.self, Rotate.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a root CA, a CRL and one signing certificate per participant, as a trust store.",
            discussion: """
                Writes DIR/trust/{roots,intermediates,crl}/ (use it as --trust), DIR/participants/CODE.{cert,key}.pem
                and DIR/ca/root.key.pem. Without --participants, one participant per role in region 440800 and
                the gateway are created and listed in DIR/participants.json.
                """)

        @Option(help: "The folder to write into.")
        var out: String

        @Option(help: "A participants file (cli.md); default: one participant per role.")
        var participants: String?

        @Option(help: "Key algorithm: rsa, ecdsa (P-256) or sm2.")
        var algorithm: String = "ecdsa"

        @Option(help: "Days the participant certificates stay valid.")
        var days: Int = 825

        func validate() throws {
            guard KeyAlgorithm(rawValue: algorithm) != nil else { throw ValidationError("--algorithm must be rsa, ecdsa or sm2") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
        }

        func run() throws {
            try runReportingErrors("pki init") {
                let folder = URL(fileURLWithPath: out)
                // A CA is made once: generating it again would silently distrust every certificate it issued.
                func refuseAnExistingCA() throws(CLIError) {
                    for existing in ["ca/root.key.pem", "trust/roots/root.pem"] where FileManager.default.fileExists(atPath: folder.appendingPathComponent(existing).path) {
                        throw CLIError.data("\(folder.appendingPathComponent(existing).path) exists: \(out) already holds a CA; choose another --out (pki init never overwrites one)")
                    }
                }
                let members: [DevelopmentPKI.Member]
                if let participants {
                    let bytes = try readInput(participants)
                    do throws(JSONDecodingError) {
                        members = try ParticipantsFile.parse(bytes).map { DevelopmentPKI.Member(code: $0.code, name: $0.name) }
                    } catch {
                        throw CLIError.data("\(participants):\(error.line): \(error.pointer): \(error.message)")
                    }
                    try refuseAnExistingCA()
                } else {
                    members = ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: $0.role == .gateway ? ["localhost", "127.0.0.1"] : []) }
                    try refuseAnExistingCA()
                    do {
                        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                        try Data(ParticipantsFile.text(ParticipantsFile.defaults).utf8).write(to: folder.appendingPathComponent("participants.json"))
                    } catch {
                        throw CLIError.io("cannot write \(out)/participants.json: \(error.localizedDescription)")
                    }
                }
                let result: DevelopmentPKI.Result
                do throws(TrustError) {
                    result = try DevelopmentPKI.generate(
                        members: members, algorithm: KeyAlgorithm(rawValue: algorithm) ?? .ecdsa, into: folder,
                        now: Int(Date().timeIntervalSince1970), validDays: days)
                } catch {
                    throw CLIError.io(error.description)
                }
                print("trust store: \(result.trustDirectory.path)")
                for code in result.credentials.keys.sorted() {
                    guard let files = result.credentials[code] else { continue }
                    print("\(code): --cert \(files.certificate.path) --key \(files.key.path)")
                }
            }
        }
    }
}
