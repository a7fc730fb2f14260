import ArgumentParser
import Foundation
import StrictJSON
import Trust

/// `tongbao pki init`: a development PKI for the participants.
struct PKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki", abstract: "Development PKI (for tests and the embedded default; not for production).",
        subcommands: [Init.self])

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
                let members: [DevelopmentPKI.Member]
                if let participants {
                    members = try ParticipantsFile.members(try readInput(participants), source: participants)
                } else {
                    members = ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) }
                    do {
                        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                        try Data(ParticipantsFile.defaultText.utf8).write(to: folder.appendingPathComponent("participants.json"))
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

/// The participants file of cli.md: `{"participants":[{"code","role","region","name","endpoint"}]}`.
enum ParticipantsFile {
    struct Entry {
        let code: String
        let role: String
        let region: String
        let name: String
    }

    static let roles = ["insurance-admin", "insurance-agency", "health", "drug", "gateway"]

    static let defaults = [
        Entry(code: "440800-INS-ADMIN", role: "insurance-admin", region: "440800", name: "湛江市医疗保障局"),
        Entry(code: "440800-INS-AGENCY", role: "insurance-agency", region: "440800", name: "湛江市医疗保障事业管理中心"),
        Entry(code: "440800-HEALTH", role: "health", region: "440800", name: "湛江市卫生健康局"),
        Entry(code: "440800-DRUG", role: "drug", region: "440800", name: "湛江市市场监督管理局"),
        Entry(code: "440800-GATEWAY", role: "gateway", region: "440800", name: "通报网关（开发）"),
    ]

    static var defaultText: String {
        let lines = defaults.map {
            JSONText.object([("code", JSONText.quoted($0.code)), ("role", JSONText.quoted($0.role)),
                             ("region", JSONText.quoted($0.region)), ("name", JSONText.quoted($0.name)), ("endpoint", "null")])
        }
        return "{\"participants\": [\n  " + lines.joined(separator: ",\n  ") + "\n]}\n"
    }

    /// The members of a participants file, checked: codes, roles, regions, no duplicates.
    static func members(_ bytes: [UInt8], source: String) throws(CLIError) -> [DevelopmentPKI.Member] {
        do {
            let root = try JSONParser().parse(bytes)
            let file = try JSONObject(root, pointer: "", allowedKeys: ["participants"])
            var members: [DevelopmentPKI.Member] = []
            for element in try file.array("participants", maxCount: 10_000) {
                let entry = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["code", "role", "region", "name", "endpoint"])
                let code = try entry.string("code", maxLength: 64)
                guard !code.isEmpty, code.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }) else {
                    throw entry.error("code", "\"\(code)\" is not a participant code (letters, digits, . _ -)")
                }
                let role = try entry.string("role", maxLength: 32)
                guard roles.contains(role) else { throw entry.error("role", "\"\(role)\" is not one of \(roles.joined(separator: ", "))") }
                guard !members.contains(where: { $0.code == code }) else { throw entry.error("code", "participant \(code) is listed twice") }
                _ = try entry.string("region", maxLength: 6)
                _ = try entry.optionalString("endpoint", maxLength: 2048)
                members.append(DevelopmentPKI.Member(code: code, name: try entry.string("name", maxLength: 200)))
            }
            return members
        } catch let error as JSONSyntaxError {
            throw CLIError.data("\(source):\(error.line): not valid JSON: \(error.message)")
        } catch let error as JSONDecodingError {
            throw CLIError.data("\(source):\(error.line): \(error.pointer): \(error.message)")
        } catch {
            throw CLIError.data("\(source): \(error)")
        }
    }
}
