import Bulletins
import StrictJSON

/// A department connected to the gateway (gateway.md §1, cli.md participants file).
public struct Participant: Sendable, Equatable {
    /// The role, which decides what a participant may send.
    public enum Role: String, Sendable, CaseIterable {
        case insuranceAdmin = "insurance-admin"
        case insuranceAgency = "insurance-agency"
        case health, drug, gateway

        /// The bulletin types a participant of this role may submit (gateway.md §1).
        public var allowedTypes: Set<BulletinType> {
            switch self {
            case .insuranceAdmin: [.penaltyDecision, .correction]
            case .insuranceAgency: [.agreementHandling, .repairDecision, .restorationDecision, .finalScoreDecision, .registration, .correction]
            case .health, .drug: [.licenceRevocation, .practiceNotice, .suspectedViolation, .referralReply, .correction]
            case .gateway: []
            }
        }
    }

    /// The participant code (`440800-HEALTH`).
    public var code: String
    /// The role.
    public var role: Role
    /// The region code.
    public var region: String
    /// The department's name.
    public var name: String
    /// The push endpoint, when the participant takes deliveries by push.
    public var endpoint: String?

    /// Creates a participant.
    public init(code: String, role: Role, region: String, name: String, endpoint: String? = nil) {
        self.code = code
        self.role = role
        self.region = region
        self.name = name
        self.endpoint = endpoint
    }
}

/// The participants file: `{"participants":[{"code","role","region","name","endpoint"}]}`.
public enum ParticipantsFile {
    /// One participant per role in region 440800, and the gateway: the embedded default.
    public static let defaults = [
        Participant(code: "440800-INS-ADMIN", role: .insuranceAdmin, region: "440800", name: "湛江市医疗保障局"),
        Participant(code: "440800-INS-AGENCY", role: .insuranceAgency, region: "440800", name: "湛江市医疗保障事业管理中心"),
        Participant(code: "440800-HEALTH", role: .health, region: "440800", name: "湛江市卫生健康局"),
        Participant(code: "440800-DRUG", role: .drug, region: "440800", name: "湛江市市场监督管理局"),
        Participant(code: "440800-GATEWAY", role: .gateway, region: "440800", name: "通报网关（开发）"),
    ]

    /// The file's text for `participants`.
    public static func text(_ participants: [Participant]) -> String {
        let lines = participants.map {
            JSONText.object([("code", JSONText.quoted($0.code)), ("role", JSONText.quoted($0.role.rawValue)),
                             ("region", JSONText.quoted($0.region)), ("name", JSONText.quoted($0.name)),
                             ("endpoint", $0.endpoint.map(JSONText.quoted) ?? "null")])
        }
        return "{\"participants\": [\n  " + lines.joined(separator: ",\n  ") + "\n]}\n"
    }

    /// Reads and checks a participants file: codes, roles, regions, no duplicates.
    public static func parse(_ bytes: [UInt8]) throws(JSONDecodingError) -> [Participant] {
        let root: JSONNode
        do {
            root = try JSONParser().parse(bytes)
        } catch {
            throw JSONDecodingError(pointer: "", line: error.line, message: "not valid JSON: \(error.message)")
        }
        let file = try JSONObject(root, pointer: "", allowedKeys: ["participants"])
        var participants: [Participant] = []
        for element in try file.array("participants", maxCount: 10_000) {
            let entry = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["code", "role", "region", "name", "endpoint"])
            let code = try entry.string("code", maxLength: 64)
            guard CodeFormat.identifier.matches(code) else { throw entry.error("code", "\"\(code)\" is not a participant code (letters, digits, . _ -)") }
            guard !participants.contains(where: { $0.code == code }) else { throw entry.error("code", "participant \(code) is listed twice") }
            let region = try entry.string("region", maxLength: 6)
            guard CodeFormat.region.matches(region) else { throw entry.error("region", "\"\(region)\" is not a 6-digit region code") }
            participants.append(Participant(
                code: code, role: try entry.enumeration("role"), region: region, name: try entry.string("name", maxLength: 200),
                endpoint: try entry.optionalString("endpoint", maxLength: 2048)))
        }
        return participants
    }
}
