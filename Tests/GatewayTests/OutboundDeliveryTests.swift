import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import Ledger
import NIOCore
import Scoring
import StrictJSON
import Synchronization
import Testing
import TongbaoTestReceiver
import TransparencyLog
import Trust

/// A pharmacy principal's penalty (penalty.art40, main responsibility: 12 points under guangdong → terminated).
func pharmacyPenalty(id: String, person: String = "Y440802000321") -> String {
    """
    {"id": "\(id)", "type": "PenaltyDecision", "issuer": "440800-INS-ADMIN", "issuedAt": "2025-07-01T10:00:00+08:00",
     "region": "440800", "rules": "guangdong",
     "body": {"decisionNo": "湛医保罚〔2025〕40号", "decidedOn": "2025-07-01",
              "institution": {"code": "P44080200007", "name": "湛江市康民大药房", "kind": "pharmacy"},
              "legalBasis": "regulation-40", "fraud": true,
              "findings": [{"violation": "V1", "situations": ["penalty.art40"],
                            "persons": [{"code": "\(person)", "name": "赵六", "category": "pharmacy-principal", "responsibility": "main"}]}]}}
    """
}

/// A licence revocation of `person` by the health department (12 points under guangdong → terminated).
func revocation(id: String, person: String, decidedOn: String = "2025-05-20") -> String {
    """
    {"id": "\(id)", "type": "LicenceRevocation", "issuer": "440800-HEALTH", "issuedAt": "2025-05-21T15:00:00+08:00",
     "region": "440800", "rules": "guangdong",
     "body": {"decisionNo": "湛卫医罚〔2025〕12号", "decidedOn": "\(decidedOn)",
              "person": {"code": "\(person)", "name": "王五", "category": "physician", "responsibility": "main"},
              "institutions": ["H44080200001", "H44080200002"],
              "certificate": {"kind": "practising", "number": "110440800000789"}, "action": "revoked"}}
    """
}

func signedJSON(_ text: String, as name: String, _ gateway: LiveGateway) throws -> [UInt8] {
    let credentials = try gateway.credentials(name)
    return Array(try JWS().sign(Array(text.utf8), key: credentials.key, chain: [credentials.certificate], compact: false).utf8)
}

/// Runs delivery passes until nothing is due within `seconds` (or the time is up).
func drain(_ worker: DeliveryWorker, seconds: Double = 20) async throws {
    let end = Date().addingTimeInterval(seconds)
    var idle = 0
    while Date() < end {
        idle = await worker.deliverDue() == 0 ? idle + 1 : 0
        if idle >= 10 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// The inbox of a participant: `(cursor, type, id, verified bulletin)` per item.
func pullInbox(_ client: HTTPClient, _ gateway: LiveGateway, after: Int = 0) async throws -> [(cursor: Int, type: String, bulletin: Bulletin)] {
    let answer = try await get(client, gateway, "/v1/inbox?after=\(after)&limit=100")
    #expect(answer.status == 200, "\(answer.text)")
    let root = try JSONParser().parse(answer.body)
    let page = try JSONObject(root, pointer: "", allowedKeys: ["items", "next"])
    let store = try TrustStore(directory: gateway.folder.appendingPathComponent("trust").path)
    let reader = try BulletinReader()
    var items: [(Int, String, Bulletin)] = []
    for element in try page.array("items") {
        let item = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["cursor", "issuer", "id", "type", "state", "mediaType", "bulletin"])
        let bytes = Array(try item.string("bulletin", maxLength: 2 << 20).utf8)
        let payload = try item.string("mediaType") == "application/xml"
            ? try XMLSignature().verify(bytes, trust: store, at: [Int(Date().timeIntervalSince1970)]).canonical
            : try JWS().verify(bytes, trust: store, at: [Int(Date().timeIntervalSince1970)]).payload
        items.append((try item.int("cursor"), try item.string("type"), try reader.read(payload).bulletin))
    }
    return items
}

@Suite("outbound flows: referrals, score notices, push and pull delivery", .serialized)
struct OutboundDeliveryTests {
    /// Quick retries; the timeout leaves room for a loaded CI machine (a push that times out is sent again, and would arrive twice).
    static let fast = RetryPolicy(baseDelayMilliseconds: 40, maximumDelayMilliseconds: 400, attemptLimit: 4, timeoutMilliseconds: 5_000, pollMilliseconds: 50)

    @Test("a revocation refers the person to health once; score notices reach the agency; a pharmacy principal goes to drug")
    func routing() async throws {
        let receivers = Mutex<[String: TestReceiver]>([:])
        let gateway = try await LiveGateway.start { folder in
            var urls: [String: String] = [:]
            for code in ["440800-HEALTH", "440800-DRUG"] {
                let receiver = try await TestReceiver.start(folder: folder, code: code)
                receivers.withLock { $0[code] = receiver }
                urls[code] = receiver.url
            }
            return urls
        }
        defer { gateway.stop() }
        let (health, drug) = try receivers.withLock { (try #require($0["440800-HEALTH"]), try #require($0["440800-DRUG"])) }
        let worker = try gateway.deliveryWorker(Self.fast)

        let healthClient = try gateway.client("440800-HEALTH")
        let adminClient = try gateway.client("440800-INS-ADMIN")
        let agencyClient = try gateway.client("440800-INS-AGENCY")
        let revoked = try signedJSON(revocation(id: "440800-HEALTH-2025-0012", person: "D440802000789"), as: "440800-HEALTH", gateway)
        #expect(try await post(healthClient, gateway, revoked, type: "application/jose+json").status == 201)
        // Sent twice: a resubmission gets the original receipt (200) and causes nothing new.
        #expect(try await post(healthClient, gateway, revoked, type: "application/jose+json").status == 200)
        try await drain(worker)

        let referrals = health.received.bulletins.values.filter { $0.type == .referral }
        #expect(referrals.count == 1)
        #expect(health.received.arrivals.values.allSatisfy { $0 == 1 })
        let referral = try #require(referrals.first)
        guard case .referral(let body) = referral.body else { Issue.record("not a referral"); return }
        #expect(referral.issuer == "440800-GATEWAY")
        #expect(body.person.code == "D440802000789" && body.person.name == "王五")
        #expect(body.institutions == ["H44080200001", "H44080200002"])
        #expect(body.sanction == .terminated && body.from == CalendarDate(iso: "2025-05-20") && body.until == CalendarDate(iso: "2028-05-20"))
        #expect(body.points == 12 && body.year == 2025 && body.rules == "guangdong")
        #expect(body.cause.issuer == "440800-HEALTH" && body.cause.id == "440800-HEALTH-2025-0012" && body.cause.decisionNo == "湛卫医罚〔2025〕12号")
        #expect(body.followUp?.isEmpty == false && body.respondBy != nil)
        #expect(drug.received.requests == 0)

        // The agency pulls its score notice (it has no endpoint), verifies it, acknowledges it.
        let inbox = try await pullInbox(agencyClient, gateway)
        #expect(inbox.map(\.type) == ["ScoreNotice"])
        let notice = try #require(inbox.first)
        guard case .scoreNotice(let noticeBody) = notice.bulletin.body else { Issue.record("not a notice"); return }
        #expect(noticeBody.notice == .score && noticeBody.person?.code == "D440802000789")
        #expect(noticeBody.institutions == ["H44080200001", "H44080200002"])
        #expect(noticeBody.points == 12 && noticeBody.yearTotal == 12 && noticeBody.status == .terminated)
        #expect(noticeBody.actions == [.agencyTalk, .exam, .internalBulletin])
        // guangdong: notice to the institution 5 working days after 2025-05-20, delivery 3 after, objection 10 after.
        #expect(noticeBody.deadlines.map(\.step) == ["notice-to-institution", "delivery", "objection"])
        #expect(noticeBody.deadlines.first?.due == CalendarDate(iso: "2025-05-27"))
        var ack = HTTPClientRequest(url: gateway.url + "/v1/inbox/ack")
        ack.method = .POST
        ack.body = .bytes(ByteBuffer(string: #"{"cursors": [\#(notice.cursor)]}"#))
        let acked = try await agencyClient.execute(ack, timeout: .seconds(10))
        #expect(String(buffer: try await acked.body.collect(upTo: 1024)) == #"{"acknowledged":1}"#)
        #expect(try await pullInbox(agencyClient, gateway, after: notice.cursor).isEmpty)
        // Nobody else sees the agency's inbox: the admin's holds only its copy of the referral (D18).
        #expect(try await pullInbox(adminClient, gateway).map(\.type) == ["Referral"])

        // A pharmacy principal's sanction goes to the drug regulator instead.
        let penalty = try signedJSON(pharmacyPenalty(id: "440800-INS-ADMIN-2025-0040"), as: "440800-INS-ADMIN", gateway)
        #expect(try await post(adminClient, gateway, penalty, type: "application/jose+json").status == 201)
        try await drain(worker)
        let drugReferrals = drug.received.bulletins.values.filter { $0.type == .referral }
        #expect(drugReferrals.count == 1)
        if case .referral(let body)? = drugReferrals.first?.body {
            #expect(body.person.code == "Y440802000321" && body.person.category == .pharmacyPrincipal && body.institutions == ["P44080200007"])
        }
        #expect(health.received.bulletins.values.filter { $0.type == .referral }.count == 1)

        // The broadcast ledger of one bulletin: who has it and who has not.
        let deliveries = try await gateway.log.deliveries(ofBulletin: referral.issuer, id: referral.id)
        #expect(deliveries.map(\.recipient) == ["440800-HEALTH", "440800-INS-ADMIN"] && deliveries.map(\.state) == [.delivered, .pending],
                "pushed to health, waiting in the admin's inbox: \(deliveries)")
        // The log still verifies with the issued bulletins in it.
        #expect(try await gateway.log.verifyChain().firstBroken == nil)
        try await worker.shutdown()
        for client in [healthClient, adminClient, agencyClient] { try await client.shutdown() }
        await health.stop()
        await drug.stop()
    }

    @Test("a receiver failing its first requests gets the bulletin later, with backoff in the delivery log; a dead one is retried by an operator; the receiver witnesses the log as it grows, and refuses a forked history")
    func retriesAndDeadLetters() async throws {
        let receivers = Mutex<[String: TestReceiver]>([:])
        let gateway = try await LiveGateway.start { folder in
            let health = try await TestReceiver.start(folder: folder, code: "440800-HEALTH", failFirst: 2)
            let drug = try await TestReceiver.start(folder: folder, code: "440800-DRUG")
            receivers.withLock { $0 = ["440800-HEALTH": health, "440800-DRUG": drug] }
            return ["440800-HEALTH": health.url, "440800-DRUG": drug.url]
        }
        defer { gateway.stop() }
        let (health, drug) = try receivers.withLock { (try #require($0["440800-HEALTH"]), try #require($0["440800-DRUG"])) }
        let worker = try gateway.deliveryWorker(Self.fast)
        let healthClient = try gateway.client("440800-HEALTH")
        let adminClient = try gateway.client("440800-INS-ADMIN")

        // Fails twice (HTTP 503), then arrives on attempt 3.
        let revoked = try signedJSON(revocation(id: "H-R-1", person: "D440802000111"), as: "440800-HEALTH", gateway)
        #expect(try await post(healthClient, gateway, revoked, type: "application/jose+json").status == 201)
        try await drain(worker)
        #expect(health.received.failedOnPurpose == 2)
        #expect(health.received.bulletins.values.filter { $0.type == .referral }.count == 1)
        let referral = try #require(try await gateway.log.deliveries(in: nil, limit: 100).first { $0.type == "Referral" && $0.recipient == "440800-HEALTH" })
        #expect(referral.state == .delivered && referral.attempts == 3)
        let log = try await gateway.log.attempts(of: referral.sequence)
        #expect(log.map(\.outcome) == [.failed, .failed, .delivered])
        let backoffs = log.compactMap(\.retryInMilliseconds)
        #expect(backoffs.count == 2)
        #expect((20...40).contains(backoffs[0]) && (40...80).contains(backoffs[1]), "\(backoffs)")

        // The receiving department witnesses the log: it keeps the checkpoint it cosigns.
        guard case .consistent(let witnessed) = try await health.witness(gateway: gateway.url, folder: gateway.folder) else {
            Issue.record("the receiver's first look at the log is not consistent")
            return
        }

        // The drug endpoint goes away: attempts run out and the referral becomes a dead letter.
        await drug.stop()
        let penalty = try signedJSON(pharmacyPenalty(id: "A-P-1"), as: "440800-INS-ADMIN", gateway)
        #expect(try await post(adminClient, gateway, penalty, type: "application/jose+json").status == 201)
        try await drain(worker)
        let dead = try await gateway.log.deliveries(in: .dead, limit: 10)
        #expect(dead.count == 1 && dead.first?.recipient == "440800-DRUG" && dead.first?.attempts == Self.fast.attemptLimit)
        let deadSequence = try #require(dead.first?.sequence)
        #expect(try await gateway.log.attempts(of: deadSequence).last?.outcome == .dead)
        #expect(drug.received.bulletins.isEmpty)

        // The log grew: the witness is proved the new checkpoint extends the kept one, and cosigns it.
        guard case .consistent(let grown) = try await health.witness(gateway: gateway.url, folder: gateway.folder) else {
            Issue.record("the grown log is not consistent with what the receiver kept")
            return
        }
        #expect(grown.checkpoint.size > witnessed.checkpoint.size)
        let stored = try #require(try await gateway.log.checkpoints(from: grown.checkpoint.size, limit: 1).first)
        #expect(stored.size == grown.checkpoint.size && stored.note.contains("— \(health.witnessName) "), "\(stored.note)")
        // Fed another history (a checkpoint of the same log key over other entries), it refuses and does not cosign.
        let logKey = try Ed25519PrivateKey(pem: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("participants/440800-GATEWAY.log-key.pem"))))
        let signer = try #require(NoteSigner(name: grown.checkpoint.origin, key: logKey))
        let fork = try SignedCheckpoint(signing: Checkpoint(origin: signer.verifier.name, size: grown.checkpoint.size - 1, root: Array(repeating: 9, count: 32)), with: signer)
        health.keepForWitnessing(fork.text)
        guard case .inconsistent(let kept, _, let reason) = try await health.witness(gateway: gateway.url, folder: gateway.folder) else {
            Issue.record("a forked history was accepted")
            return
        }
        #expect(kept.size == grown.checkpoint.size - 1 && reason.contains("consistency proof"), "\(reason)")

        // Back up; the operator retries; it arrives exactly once.
        let drugAgain = try await drug.restarted(folder: gateway.folder)
        #expect(try await gateway.log.retry(nil, at: "2026-01-01T00:00:00+08:00", now: 0) == 1)
        try await drain(worker)
        #expect(drugAgain.received.bulletins.values.filter { $0.type == .referral }.count == 1)
        #expect(drugAgain.received.arrivals.values.allSatisfy { $0 == 1 })
        #expect(try await gateway.log.deliveries(in: .dead, limit: 10).isEmpty)
        try await worker.shutdown()
        try await healthClient.shutdown()
        try await adminClient.shutdown()
        await health.stop()
        await drugAgain.stop()
    }

    @Test("practice notices and suspected violations are forwarded to the agency's inbox with the regulator's own signature")
    func forwarding() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let healthClient = try gateway.client("440800-HEALTH")
        let agencyClient = try gateway.client("440800-INS-AGENCY")
        for (name, id) in [("practice-notice", "H-PN-9"), ("suspected-violation", "H-SV-9")] {
            let signed = try signedJSON(try reissued(name, issuer: "440800-HEALTH", id: id), as: "440800-HEALTH", gateway)
            #expect(try await post(healthClient, gateway, signed, type: "application/jose+json").status == 201)
        }
        let inbox = try await pullInbox(agencyClient, gateway)
        #expect(inbox.map(\.type) == ["PracticeNotice", "SuspectedViolation"])
        #expect(inbox.allSatisfy { $0.bulletin.issuer == "440800-HEALTH" })
        try await healthClient.shutdown()
        try await agencyClient.shutdown()
    }

    @Test("a practice notice (D37, D38): forwarded to the agency and admin of its region and to the agency of another region where the person works; it bars eligibility while in force and is on the person file")
    func practiceNotice() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        let admin = try gateway.client("440800-INS-ADMIN")
        let neighbour = try gateway.client(LiveGateway.neighbour.code)
        // The person also works in 茂名 (440900): that agency registers them there first.
        let registration = try reissued("registration", issuer: LiveGateway.neighbour.code, id: "440900-REG-1")
            .replacingOccurrences(of: #""region": "440800""#, with: #""region": "440900""#)
            .replacingOccurrences(of: "D440802000123", with: "D440802000321").replacingOccurrences(of: "H44080200001", with: "H44090000001")
        #expect(try await post(neighbour, gateway, try signedJSON(registration, as: LiveGateway.neighbour.code, gateway), type: "application/jose+json").status == 201)
        let notice = try signedJSON(try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-PN-37"), as: "440800-HEALTH", gateway)
        let accepted = try await post(health, gateway, notice, type: "application/jose+json")
        #expect(accepted.status == 201, "\(accepted.text)")

        let agency = try gateway.client("440800-INS-AGENCY")
        for client in [agency, admin, neighbour] {
            let inbox = try await pullInbox(client, gateway)
            #expect(inbox.filter { $0.type == "PracticeNotice" && $0.bulletin.id == "H-PN-37" && $0.bulletin.issuer == "440800-HEALTH" }.count == 1, "\(inbox.map(\.type))")
        }
        try await agency.shutdown()
        // The §8 example's dates: in force 2025-08-15 up to (not including) 2026-02-15; status and points untouched.
        for (date, eligible, reason) in [("2025-08-14", true, "normal"), ("2025-08-15", false, "practice-suspended"), ("2026-02-15", true, "normal")] {
            let answer = try await get(admin, gateway, "/v1/persons/D440802000321/eligibility?date=\(date)")
            #expect(answer.status == 200)
            #expect(answer.text.contains(#""eligible":\#(eligible)"#) && answer.text.contains(#""status":"normal""#)
                    && answer.text.contains(#""points":0"#) && answer.text.contains(#""reason":"\#(reason)""#), "\(date): \(answer.text)")
        }
        let file = try await get(admin, gateway, "/v1/persons/D440802000321?date=2025-09-01")
        #expect(file.text.contains(#""practice":[{"notice":{"issuer":"440800-HEALTH","id":"H-PN-37"},"event":"practice-suspended""#)
                && file.text.contains(#""blocking":true"#), "\(file.text)")
        for client in [health, admin, neighbour] { try await client.shutdown() }
    }
}

/// A `ReferralReply` from `issuer` to the gateway's referral `referral` (JSON text).
func referralReply(id: String, issuer: String = "440800-HEALTH", referral: String, stage: String = "final", result: String,
                   expectedBy: String? = nil, related: [(String, String)] = []) -> String {
    let extra = (expectedBy.map { #", "expectedBy": "\#($0)""# } ?? "")
        + (related.isEmpty ? "" : #", "related": ["# + related.map { #"{"issuer": "\#($0.0)", "id": "\#($0.1)"}"# }.joined(separator: ", ") + "]")
    return """
    {"id": "\(id)", "type": "ReferralReply", "issuer": "\(issuer)", "issuedAt": "2025-06-10T10:00:00+08:00", "region": "440800",
     "body": {"referral": {"issuer": "440800-GATEWAY", "id": "\(referral)"}, "stage": "\(stage)", "decidedOn": "2025-06-09",
              "decisionNo": "湛卫医监〔2025〕9号", "result": "\(result)"\(extra)}}
    """
}

@Suite("referral replies over mutual TLS", .serialized)
struct ReferralReplyTests {
    @Test("a referral reply (§2): only the referral's recipient answers; a licence-revoked result names its revocation; one final reply; forwarded to the agency and admin; meets referral-reply; on the person file, also as rebuilt from the log")
    func replyFlow() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        let drug = try gateway.client("440800-DRUG")
        let agency = try gateway.client("440800-INS-AGENCY")
        let admin = try gateway.client("440800-INS-ADMIN")
        func submit(_ text: String, as name: String, _ client: HTTPClient) async throws -> Answer {
            try await post(client, gateway, try signedJSON(text, as: name, gateway), type: "application/jose+json")
        }
        #expect(try await submit(revocation(id: "440800-HEALTH-2025-0012", person: "D440802000789"), as: "440800-HEALTH", health).status == 201)
        let referral = try #require(try await pullInbox(health, gateway).first { $0.type == "Referral" }?.bulletin)
        guard case .referral(let referred) = referral.body else { Issue.record("not a referral"); return }
        let today = Timestamps.chinaDate(Date())
        #expect(referred.respondBy == ReferralFollowUp.replyDue(issuedOn: today, pack: try #require(gateway.gateway.intake.configuration.packs["guangdong"]), calendar: gateway.gateway.intake.projection.scoring.calendar)?.date,
                "counted from the day it was issued (D13)")

        let refusals: [(String, String, HTTPClient, Int, String)] = [
            (referralReply(id: "DRUG-R-1", issuer: "440800-DRUG", referral: referral.id, result: "education"), "440800-DRUG", drug, 403, #""code":"not-authorized""#),
            (referralReply(id: "AG-R-1", issuer: "440800-INS-AGENCY", referral: referral.id, result: "education"), "440800-INS-AGENCY", agency, 403,
             "may not submit ReferralReply"),
            (referralReply(id: "H-R-0", referral: "REF-NONE", result: "education"), "440800-HEALTH", health, 422, #""reason":"unknown-referral""#),
            (referralReply(id: "H-R-1", referral: referral.id, result: "licence-revoked"), "440800-HEALTH", health, 422, #""reason":"related-missing""#),
        ]
        for (text, name, client, status, mark) in refusals {
            let answer = try await submit(text, as: name, client)
            #expect(answer.status == status && answer.text.contains(mark), "\(answer.status) \(answer.text)")
        }
        let final = referralReply(id: "H-R-2", referral: referral.id, result: "licence-revoked", related: [("440800-HEALTH", "440800-HEALTH-2025-0012")])
        let accepted = try await submit(final, as: "440800-HEALTH", health)
        #expect(accepted.status == 201, "\(accepted.text)")
        let again = try await submit(referralReply(id: "H-R-3", referral: referral.id, result: "warning"), as: "440800-HEALTH", health)
        #expect(again.status == 422 && again.text.contains(#""reason":"already-decided""#), "\(again.text)")

        for client in [agency, admin] {
            let inbox = try await pullInbox(client, gateway)
            #expect(inbox.contains { $0.type == "ReferralReply" && $0.bulletin.id == "H-R-2" && $0.bulletin.issuer == "440800-HEALTH" }, "\(inbox.map(\.type))")
        }
        let deadlines = try await get(agency, gateway, "/v1/deadlines?date=\(today)")
        #expect(deadlines.text.contains(#""step":"referral-reply","due":"\#(referred.respondBy?.description ?? "")","state":"met","act":{"issuer":"440800-GATEWAY","id":"\#(referral.id)"}"#),
                "\(deadlines.text)")
        let file = try await get(agency, gateway, "/v1/persons/D440802000789?date=\(today)")
        #expect(file.text.contains(#""referrals":[{"referral":{"issuer":"440800-GATEWAY","id":"\#(referral.id)"},"sanction":"terminated""#)
                && file.text.contains(#""state":"closed","replies":[{"issuer":"440800-HEALTH","id":"H-R-2","stage":"final","result":"licence-revoked""#), "\(file.text)")

        // The log alone gives the same referral and reply facts as the projection intake kept.
        let configuration = gateway.gateway.intake.configuration
        let rebuilt = try await ProjectionBuilder.facts(from: gateway.log, packs: configuration.packs, defaultPack: configuration.defaultPack)
        func followUp(_ facts: [Fact]) -> Set<FactID> {
            Set(facts.compactMap { fact in
                switch fact {
                case .referral, .referralReply: fact.id
                default: nil
                }
            })
        }
        #expect(followUp(rebuilt) == followUp(gateway.gateway.intake.projection.allFacts()) && followUp(rebuilt).count == 2)
        #expect(Set(rebuilt) == Set(gateway.gateway.intake.projection.allFacts()), "every fact, byte for byte")
        for client in [health, drug, agency, admin] { try await client.shutdown() }
    }
}

extension ReferralReplyTests {
    @Test("§2.4 example 3 over mutual TLS: a Correction lifts the sanction; the first referral's reply is cancelled, and a reply to either referral is refused; the person file shows both after a restart")
    func liftedReferral() async throws {
        var gateway = try await LiveGateway.start()
        let health = try gateway.client("440800-HEALTH")
        func submit(_ text: String) async throws -> Answer {
            try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
        }
        #expect(try await submit(revocation(id: "440800-HEALTH-2025-0012", person: "D440802000789")).status == 201)
        let correction = """
            {"id": "H-C-1", "type": "Correction", "issuer": "440800-HEALTH", "issuedAt": "2025-06-01T10:00:00+08:00", "region": "440800",
             "rules": "guangdong", "body": {"decisionNo": "湛卫医更〔2025〕1号", "decidedOn": "2025-06-01",
             "target": {"issuer": "440800-HEALTH", "id": "440800-HEALTH-2025-0012"}, "action": "withdraw"}}
            """
        #expect(try await submit(correction).status == 201)
        let referrals = try await pullInbox(health, gateway).filter { $0.type == "Referral" }.map(\.bulletin)
        #expect(referrals.count == 2)
        let sanctions = referrals.compactMap { if case .referral(let body) = $0.body { body.sanction } else { nil } }
        #expect(sanctions == [.terminated, .lifted], "\(sanctions)")
        for (index, referral) in referrals.enumerated() {
            let answer = try await submit(referralReply(id: "H-R-L\(index)", referral: referral.id, result: "education"))
            #expect(answer.status == 422 && answer.text.contains(#""reason":"unknown-referral""#), "\(answer.text)")
        }
        let today = Timestamps.chinaDate(Date())
        /// Each referral on the person file as `id:sanction:state`.
        func fileStates(_ client: HTTPClient) async throws -> [String] {
            let file = try await get(client, gateway, "/v1/persons/D440802000789?date=\(today)")
            let root = try #require(try JSONSerialization.jsonObject(with: Data(file.body)) as? [String: Any])
            return (root["referrals"] as? [[String: Any]] ?? []).map { record in
                "\((record["referral"] as? [String: Any])?["id"] ?? ""):\(record["sanction"] ?? ""):\(record["state"] ?? "")"
            }
        }
        let expected = ["\(referrals[0].id):terminated:cancelled", "\(referrals[1].id):lifted:closed"]
        #expect(try await fileStates(health) == expected)
        let deadlines = try await get(health, gateway, "/v1/deadlines?date=\(today)").text
        #expect(deadlines.contains(#""step":"referral-reply""#) && deadlines.contains(#""state":"cancelled""#), "\(deadlines)")
        try await health.shutdown()
        gateway = try await gateway.restarted()
        defer { gateway.stop() }
        let again = try gateway.client("440800-HEALTH")
        #expect(try await fileStates(again) == expected, "rebuilt from the log")
        try await again.shutdown()
    }
}

@Suite("overdue notices (D2)", .serialized)
struct OverdueNoticeTests {
    @Test("an unanswered referral's referral-reply gets one OD- notice on the day after it was due, to the recipient that owes it and the region's agency; exactly once, also after a restart")
    func overdueReferralReply() async throws {
        var gateway = try await LiveGateway.start()
        let health = try gateway.client("440800-HEALTH")
        let agency = try gateway.client("440800-INS-AGENCY")
        #expect(try await post(health, gateway, try signedJSON(revocation(id: "440800-HEALTH-2025-0012", person: "D440802000789"), as: "440800-HEALTH", gateway),
                               type: "application/jose+json").status == 201)
        let referral = try #require(try await pullInbox(health, gateway).first { $0.type == "Referral" })
        guard case .referral(let body) = referral.bulletin.body, let due = body.respondBy else { Issue.record("no respondBy"); return }

        #expect(try await gateway.gateway.intake.issueOverdueNotices(on: due).isEmpty, "not overdue on its due date")
        #expect(try await gateway.gateway.intake.issueOverdueNotices(on: due.adding(days: 33)).isEmpty,
                "a gateway first looking more than 31 days after the due date sends no notice for it")
        let dayAfter = due.adding(days: 1)
        let issued = try await gateway.gateway.intake.issueOverdueNotices(on: dayAfter)
        #expect(issued.count == 1)
        guard case .appended(let entry)? = issued.first else { Issue.record("not issued: \(issued)"); return }
        let expectedID = "OD-" + String(SHA256.hex(Array("referral-reply\n440800-GATEWAY\n\(referral.bulletin.id)\nD440802000789".utf8)).prefix(24))
        #expect(entry.content.id == expectedID && entry.content.type == "ScoreNotice")
        #expect(try await gateway.gateway.intake.issueOverdueNotices(on: dayAfter.adding(days: 5)).allSatisfy { if case .duplicate = $0 { true } else { false } })

        for client in [health, agency] {
            let notices = try await pullInbox(client, gateway, after: 0).filter { $0.bulletin.id == entry.content.id }
            #expect(notices.count == 1, "each recipient once")
            guard case .scoreNotice(let notice)? = notices.first?.bulletin.body else { Issue.record("no notice"); continue }
            #expect(notice.notice == .overdueDeadline && notice.deadline?.step == "referral-reply" && notice.deadline?.due == due)
            #expect(notice.person?.code == "D440802000789" && notice.act?.id == referral.bulletin.id)
            #expect(notices.first?.bulletin.issuedAt == "\(dayAfter)T00:00:00+08:00")
        }
        try await health.shutdown()
        try await agency.shutdown()

        // After a restart the gateway rebuilds its projection from the log and finds the notice issued.
        gateway = try await gateway.restarted()
        defer { gateway.stop() }
        let again = try await gateway.gateway.intake.issueOverdueNotices(on: dayAfter.adding(days: 10))
        #expect(again.count == 1 && again.allSatisfy { if case .duplicate(let kept) = $0 { kept.content.id == entry.content.id } else { false } })
        let entries = try await gateway.log.entries(after: 0, limit: 1000)
        #expect(entries.filter { $0.content.id.hasPrefix("OD-") }.count == 1)
    }
}

extension OverdueNoticeTests {
    @Test("a Shanghai act with no final decision: final-without-objection is owed by the region's agency, which gets its OD- notice the day after")
    func finalWithoutObjection() async throws {
        let gateway = try await LiveGateway.start(configure: { settings in
            if let shanghai = settings.gateway.packs["shanghai"] { settings.scorer = Scorer(pack: shanghai, calendar: settings.scorer.calendar) }
        })
        defer { gateway.stop() }
        let admin = try gateway.client("440800-INS-ADMIN")
        let act = penalty("A-SH-1", person: "D440802000555", situation: "penalty.art38-39", on: "2025-06-03").replacingOccurrences(of: "guangdong", with: "shanghai")
        let answer = try await post(admin, gateway, try signedJSON(act, as: "440800-INS-ADMIN", gateway), type: "application/jose+json")
        #expect(answer.status == 201, "\(answer.text)")
        let projection = gateway.gateway.intake.projection
        let dayAfterDecision = try #require(CalendarDate(iso: "2025-06-04"))
        let items = try DeadlineReport.items(facts: projection.allFacts(), scorer: projection.scoring, on: dayAfterDecision, overdueOnly: false)
        let step = try #require(items.first { $0.step == "final-without-objection" }, "\(items.map(\.step))")
        #expect(try await gateway.gateway.intake.issueOverdueNotices(on: step.due).isEmpty)
        let issued = try await gateway.gateway.intake.issueOverdueNotices(on: step.due.adding(days: 1))
        guard issued.count == 1, case .appended(let entry)? = issued.first else { Issue.record("\(issued)"); return }
        #expect(entry.content.id == "OD-" + String(SHA256.hex(Array("final-without-objection\n440800-INS-ADMIN\nA-SH-1\n-".utf8)).prefix(24)))
        #expect(try await gateway.log.deliveries(ofBulletin: entry.content.issuer, id: entry.content.id).map(\.recipient) == ["440800-INS-AGENCY"])
        try await admin.shutdown()
    }
}

@Suite("reports to the insurance administration (D18)", .serialized)
struct AdministrationReportTests {
    @Test("every referral is copied to the region's insurance admin, which owes no reply; an agreement suspension, termination or resumption is forwarded to it, other measures are not")
    func immediateReports() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        let agency = try gateway.client("440800-INS-AGENCY")
        let admin = try gateway.client("440800-INS-ADMIN")
        #expect(try await post(health, gateway, try signedJSON(revocation(id: "440800-HEALTH-2025-0012", person: "D440802000789"), as: "440800-HEALTH", gateway),
                               type: "application/jose+json").status == 201)
        let measures = [("agreement-suspended", "agreement.suspended"), ("liquidated-damages", "agreement.liquidated-damages"),
                        ("agreement-resumed", ""), ("services-suspended", "agreement.liquidated-damages"), ("agreement-terminated", "agreement.terminated")]
        for (index, (measure, situation)) in measures.enumerated() {
            var text = try reissued("agreement-handling", issuer: "440800-INS-AGENCY", id: "AG-D18-\(index)")
                .replacingOccurrences(of: #""measure": "liquidated-damages""#, with: #""measure": "\#(measure)""#)
                .replacingOccurrences(of: #"["agreement.liquidated-damages"]"#, with: #"["\#(situation)"]"#)
                .replacingOccurrences(of: "湛医保协〔2025〕", with: "湛医保协〔2025〕D18-\(index)-")
            if measure == "agreement-resumed", let findings = text.range(of: #""findings": \[[\s\S]*\]"#, options: .regularExpression) {
                text.replaceSubrange(findings, with: #""findings": []"#)   // a resumption names no findings
            }
            let answer = try await post(agency, gateway, try signedJSON(text, as: "440800-INS-AGENCY", gateway), type: "application/jose+json")
            #expect(answer.status == 201, "\(measure): \(answer.text)")
        }
        let inbox = try await pullInbox(admin, gateway)
        let referral = try #require(inbox.first { $0.type == "Referral" }, "the admin has a copy of the referral: \(inbox.map(\.type))")
        #expect(try await pullInbox(health, gateway).contains { $0.bulletin.id == referral.bulletin.id }, "and health has it")
        #expect(inbox.filter { $0.type == "AgreementHandling" }.map(\.bulletin.id).sorted() == ["AG-D18-0", "AG-D18-2", "AG-D18-3", "AG-D18-4"])
        // The copy is no request to answer: the admin may not reply, and an overdue reply is owed by health alone.
        let reply = referralReply(id: "ADMIN-R-1", issuer: "440800-INS-ADMIN", referral: referral.bulletin.id, result: "education")
        #expect(try await post(admin, gateway, try signedJSON(reply, as: "440800-INS-ADMIN", gateway), type: "application/jose+json").status == 403)
        guard case .referral(let body) = referral.bulletin.body, let due = body.respondBy else { Issue.record("no respondBy"); return }
        let overdue = try await gateway.gateway.intake.issueOverdueNotices(on: due.adding(days: 2))
        guard case .appended(let entry)? = overdue.first else { Issue.record("no overdue notice"); return }
        let deliveries = try await gateway.log.deliveries(ofBulletin: entry.content.issuer, id: entry.content.id).map(\.recipient).sorted()
        #expect(deliveries == ["440800-HEALTH", "440800-INS-AGENCY"])
        for client in [health, agency, admin] { try await client.shutdown() }
    }

    @Test("key supervision (D41): an institution's first fraud-flagged act of a year sends one KS- notice to the region's insurance admin; a second one that year sends none")
    func keySupervision() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let admin = try gateway.client("440800-INS-ADMIN")
        for (index, person) in ["Y440802000321", "Y440802000322"].enumerated() {
            let penalty = pharmacyPenalty(id: "440800-INS-ADMIN-2025-004\(index)", person: person)
                .replacingOccurrences(of: "湛医保罚〔2025〕40号", with: "湛医保罚〔2025〕4\(index)号")
            let answer = try await post(admin, gateway, try signedJSON(penalty, as: "440800-INS-ADMIN", gateway), type: "application/jose+json")
            #expect(answer.status == 201, "\(answer.text)")
        }
        let notices = try await pullInbox(admin, gateway).filter { $0.bulletin.id.hasPrefix("KS-") }
        #expect(notices.map(\.bulletin.id) == ["KS-P44080200007-2025"])
        guard case .scoreNotice(let notice)? = notices.first?.bulletin.body else { Issue.record("no notice"); return }
        #expect(notice.notice == .keySupervision && notice.institutions == ["P44080200007"] && notice.act?.id == "440800-INS-ADMIN-2025-0040")
        try await admin.shutdown()
    }
}

extension AdministrationReportTests {
    @Test("D34: a second agreement suspension of an institution within 365 days sends one TG- notice to the agency and the admin, in either order of arrival; one more than 365 days later sends none")
    func repeatedSuspension() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let agency = try gateway.client("440800-INS-AGENCY")
        func suspend(_ id: String, on date: String, institution: String) async throws {
            let text = try reissued("agreement-handling", issuer: "440800-INS-AGENCY", id: id)
                .replacingOccurrences(of: #""measure": "liquidated-damages""#, with: #""measure": "agreement-suspended""#)
                .replacingOccurrences(of: #""decidedOn": "2025-07-01""#, with: #""decidedOn": "\#(date)""#)
                .replacingOccurrences(of: "H44080200001", with: institution)
                .replacingOccurrences(of: "湛医保协〔2025〕7号", with: "湛医保协〔2025〕\(id)号")
            let answer = try await post(agency, gateway, try signedJSON(text, as: "440800-INS-AGENCY", gateway), type: "application/jose+json")
            #expect(answer.status == 201, "\(id): \(answer.text)")
        }
        // H…01: 2025-03-03, then 2025-11-03 (the second within 365 days). H…02: the same pair arriving in reverse.
        try await suspend("S-1", on: "2025-03-03", institution: "H44080200001")
        try await suspend("S-2", on: "2025-11-03", institution: "H44080200001")
        try await suspend("S-3", on: "2025-11-03", institution: "H44080200002")
        try await suspend("S-4", on: "2025-03-03", institution: "H44080200002")
        // H…03: 2025-01-02 and 2026-01-05, more than 365 days apart.
        try await suspend("S-5", on: "2025-01-02", institution: "H44080200003")
        try await suspend("S-6", on: "2026-01-05", institution: "H44080200003")
        let grounds = try await gateway.log.entries(after: 0, limit: 1000).filter { $0.content.id.hasPrefix("TG-") }.map(\.content.id)
        #expect(grounds.sorted() == ["TG-H44080200001-2025-11-03", "TG-H44080200002-2025-11-03"])
        let recipients = try await gateway.log.deliveries(ofBulletin: "440800-GATEWAY", id: "TG-H44080200002-2025-11-03").map(\.recipient)
        #expect(recipients.sorted() == ["440800-INS-ADMIN", "440800-INS-AGENCY"])
        try await agency.shutdown()
    }
}
