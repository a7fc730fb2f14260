import Bulletins
import Foundation
import Gateway
import Ledger
import Logging
import Scoring
import StrictJSON
import Testing
import TongbaoTestSupport
import Trust

/// A data folder laid out as `tongbao serve` makes it (development PKI, participants, SQLite log), filled
/// through the real intake pipeline with bulletins of June 2025.
struct FilledDataFolder {
    let data: URL

    static func make() async throws -> FilledDataFolder {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-outbound-\(UUID().uuidString)")
        let pki = data.appendingPathComponent("pki")
        _ = try DevelopmentPKI.generate(
            members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) }, algorithm: .ecdsa,
            into: pki, now: Int(Date().timeIntervalSince1970))
        try Data(ParticipantsFile.text(ParticipantsFile.defaults).utf8).write(to: pki.appendingPathComponent("participants.json"))
        var packs: [String: RulePack] = [:]
        for name in ["guangdong", "shanghai", "inner-mongolia", "shandong", "national"] {
            let url = CLI.repository.appendingPathComponent("rules/packs/\(name).json")
            packs[name] = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
        }
        let configuration = try GatewayConfiguration.development(folder: pki, packs: packs)
        let log = try await RunningStore.open(.sqlite(path: data.appendingPathComponent("tongbao.sqlite").path))
        let pipeline = try BulletinIntake(configuration: configuration, ledger: log, projection: FactProjection(scorer: Scorer(pack: try #require(packs["guangdong"]))),
                                  logger: Logger(label: "test"))
        func submit(_ text: String, as code: String) async throws {
            let key = try PrivateKey(pem: Array(try Data(contentsOf: pki.appendingPathComponent("participants/\(code).key.pem"))))
            let certificate = try Trust.Certificate(pem: Array(try Data(contentsOf: pki.appendingPathComponent("participants/\(code).cert.pem"))))
            let signed = try JWS().sign(Array(text.utf8), key: key, chain: [certificate], compact: false)
            let response = IntakeResponse(await pipeline.submit(Array(signed.utf8), mediaType: "application/jose+json", sender: ParticipantsFile.defaults.first { $0.code == code }))
            #expect(response.status == 201, "\(String(decoding: response.body, as: UTF8.self))")
        }
        try await submit(try String(contentsOf: CLI.repository.appendingPathComponent("examples/bulletins/penalty-decision.json"), encoding: .utf8), as: "440800-INS-ADMIN")
        try await submit(Self.penalty(id: "A-2", institution: "P44080200007", kind: "pharmacy", person: "Y440802000321", category: "pharmacy-principal",
                                situation: "penalty.art40", on: "2025-06-10"), as: "440800-INS-ADMIN")
        try await submit(Self.penalty(id: "A-3", institution: "H44080200001", kind: "medical", person: "D440802000999", category: "physician",
                                situation: "impersonation", on: "2025-06-12"), as: "440800-INS-ADMIN")
        // Outside the period: May.
        try await submit(Self.penalty(id: "A-4", institution: "H44080200001", kind: "medical", person: "D440802000555", category: "physician",
                                situation: "procurement.non-selected", on: "2025-05-12"), as: "440800-INS-ADMIN")
        return FilledDataFolder(data: data)
    }

    static func penalty(id: String, institution: String, kind: String, person: String, category: String, situation: String, on date: String) -> String {
        """
        {"id": "\(id)", "type": "PenaltyDecision", "issuer": "440800-INS-ADMIN", "issuedAt": "\(date)T10:00:00+08:00", "region": "440800",
         "rules": "guangdong", "body": {"decisionNo": "湛医保罚〔2025〕\(id)号", "decidedOn": "\(date)",
         "institution": {"code": "\(institution)", "kind": "\(kind)"}, "fraud": \(situation == "penalty.art40"),
         "findings": [{"violation": "V1", "situations": ["\(situation)"],
                       "persons": [{"code": "\(person)", "category": "\(category)", "responsibility": "main"}]}]}}
        """
    }
}

@Suite("outbound commands: bulletin, outbox, deadlines")
struct OutboundCommandTests {
    @Test("tongbao bulletin gives the same bytes twice, groups the period's persons by institution, and issues once")
    func periodicBulletin() async throws {
        let folder = try await FilledDataFolder.make()
        let arguments = ["bulletin", "--data", folder.data.path, "--region", "440800", "--period", "2025-06"]
        let first = try CLI.run(arguments)
        let second = try CLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.hasPrefix("{\n  \"id\": \"SB-440800-2025-06\",\n  \"type\": \"ScoreBulletin\""))
        #expect(first.stdout.contains(#""issuedAt": "2025-07-01T00:00:00+08:00""#))

        let bulletin = try BulletinJSONDecoder.bulletin(fromTree: try JSONParser().parse(Array(first.stdout.utf8)))
        guard case .scoreBulletin(let body) = bulletin.body else { Issue.record("not a score bulletin"); return }
        #expect(body.periodFrom == CalendarDate(iso: "2025-06-01") && body.periodTo == CalendarDate(iso: "2025-06-30"))
        #expect(body.institutions.map(\.institution.code) == ["H44080200001", "P44080200007"])
        let hospital = body.institutions[0]
        #expect(hospital.institution.name == "湛江市第一人民医院")
        #expect(hospital.persons.map(\.person.code) == ["D440802000123", "D440802000999", "N440802000456"])
        let impersonation = hospital.persons[1]
        #expect(impersonation.points == 9 && impersonation.scoredInPeriod == 9 && impersonation.status == .suspended)
        #expect(impersonation.until == CalendarDate(iso: "2025-08-12"))
        // The May act is outside the period.
        #expect(!first.stdout.contains("D440802000555"))

        // As XML too, and valid against the XSD's twin, the decoder.
        let xml = try CLI.run(arguments + ["--to", "xml"])
        #expect(xml.status == 0 && xml.stdout.contains("<ScoreBulletin>"))

        // Credit ratings: the pharmacy had a fraud-flagged 12-point act → key supervision, grade D.
        let credit = try CLI.run(arguments + ["--kind", "credit-rating"])
        #expect(credit.status == 0, "\(credit.stderr)")
        #expect(credit.stdout.contains(#""id": "CR-P44080200007-2025-06""#))
        let ratings = credit.stdout.components(separatedBy: "}\n{").count
        #expect(ratings == 2)
        #expect(credit.stdout.contains(#""keySupervision": true"#) && credit.stdout.contains(#""model": "tongbao-credit-2026""#))

        // Issued once: the second --issue leaves it alone; status names both recipients, none acknowledged yet.
        let issued = try CLI.run(arguments + ["--issue"])
        #expect(issued.status == 0 && issued.stderr.contains("issued SB-440800-2025-06 at log position"), "\(issued.stderr)")
        let again = try CLI.run(arguments + ["--issue"])
        #expect(again.stderr.contains("SB-440800-2025-06 was issued before"))
        let status = try CLI.run(["outbox", "status", "--data", folder.data.path, "440800-GATEWAY/SB-440800-2025-06"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.lines.first == "440800-GATEWAY/SB-440800-2025-06: 0 of 2 recipient(s) acknowledged")
        #expect(status.lines.dropFirst().map { $0.split(separator: "\t").prefix(2).joined(separator: " ") } == ["440800-DRUG pending", "440800-HEALTH pending"])

        // The log still verifies with everything the gateway issued in it.
        let verified = try CLI.run(["log", "verify", "--data", folder.data.path])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }

    @Test("tongbao outbox list, dead and retry; tongbao deadlines with and without --overdue")
    func outboxAndDeadlines() async throws {
        let folder = try await FilledDataFolder.make()
        let list = try CLI.run(["outbox", "list", "--data", folder.data.path, "--state", "pending"])
        #expect(list.status == 0, "\(list.stderr)")
        // Four acts → five score notices to the agency (one per person), and two referrals (terminated pharmacist, suspended physician),
        // each copied to the insurance admin (D18).
        #expect(list.lines.filter { $0.contains("\tScoreNotice\t") && $0.contains("440800-INS-AGENCY") }.count == 5)
        #expect(list.lines.filter { $0.contains("\tReferral\t") }.map { $0.split(separator: "\t")[3] }.sorted()
                == ["440800-DRUG", "440800-HEALTH", "440800-INS-ADMIN", "440800-INS-ADMIN"])
        let dead = try CLI.run(["outbox", "dead", "--data", folder.data.path])
        #expect(dead.status == 0 && dead.stdout.isEmpty && dead.stderr.contains("0 dead letter(s)"))
        let retry = try CLI.run(["outbox", "retry", "--data", folder.data.path])
        #expect(retry.stdout.contains("put 0 dead letter(s) back"))

        let overdue = try CLI.run(["deadlines", "--data", folder.data.path, "--overdue", "--date", "2025-12-31"])
        #expect(overdue.status == 0, "\(overdue.stderr)")
        #expect(overdue.lines == ["2025-08-12\toverdue-restoration\toverdue\t-\tD440802000999"])
        let all = try CLI.run(["deadlines", "--data", folder.data.path, "--date", "2025-06-13"])
        #expect(all.lines.contains("2025-06-19\tnotice-to-institution\topen\t440800-INS-ADMIN/A-3\tD440802000999"))
        #expect(try CLI.run(["outbox", "status", "--data", folder.data.path, "nonsense"]).status != 0)
    }

    @Test("deadlines FILE... (no server): a referral's reply deadline from the files, met by the reply, in JSON lines; bad input exits 65")
    func deadlinesFromFiles() throws {
        let referral = CLI.example("examples/bulletins/referral.json")
        let reply = CLI.example("examples/bulletins/referral-reply.json")
        // Issued 2025-07-02: 20 working days later is 2025-07-30; the final reply is dated (issued) 07-28.
        let open = try CLI.run(["deadlines", "--rules", "guangdong", "--date", "2025-07-20", referral])
        #expect(open.status == 0, "\(open.stderr)")
        #expect(open.lines == [#"{"step":"referral-reply","state":"open","due":"2025-07-30","act":"440800-GATEWAY/GATEWAY-2025-REF-0004","persons":["D440802000123"]}"#])
        let met = try CLI.run(["deadlines", "--rules", "guangdong", "--date", "2025-08-31", referral, reply])
        #expect(met.lines == [#"{"step":"referral-reply","state":"met","due":"2025-07-30","act":"440800-GATEWAY/GATEWAY-2025-REF-0004","persons":["D440802000123"]}"#])
        let overdue = try CLI.run(["deadlines", "--rules", "guangdong", "--date", "2025-08-31", "--overdue", referral])
        #expect(overdue.lines.count == 1 && overdue.lines.first?.contains(#""state":"overdue""#) == true, "\(overdue.stdout)")
        #expect(try CLI.run(["deadlines", "--rules", "guangdong", "--date", "2025-08-31", "--overdue", referral, reply]).lines.isEmpty)
        let broken = try CLI.run(["deadlines", "--rules", "guangdong", try CLI.file(#"{"id": "x", "type": "ReferralReply"}"#)])
        #expect(broken.status == 65 && broken.stderr.contains("missing required field"), "\(broken.stderr)")
    }
}
