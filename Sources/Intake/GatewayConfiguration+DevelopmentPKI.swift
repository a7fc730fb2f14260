import Foundation
import Scoring
import Trust

extension GatewayConfiguration {
    /// The configuration of a gateway on a development PKI made by ``DevelopmentPKI`` in `folder`
    /// (`trust/`, `participants/CODE.{key,cert}.pem`), with the default participants: what the tests and
    /// benchmarks start.
    public static func development(folder: URL, packs: [String: RulePack], defaultPack: String = "guangdong",
                                   participants: [Participant] = ParticipantsFile.defaults) throws -> GatewayConfiguration {
        guard let gateway = participants.first(where: { $0.role == .gateway }) else {
            throw TrustError(code: .trustStoreUnreadable, message: "no participant has the role gateway")
        }
        func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: folder.appendingPathComponent(path))) }
        let logKeyPath = folder.appendingPathComponent("participants/\(gateway.code).log-key.pem").path
        var configuration = GatewayConfiguration(
            code: gateway.code, region: gateway.region, participants: participants,
            trust: try TrustStore(directory: folder.appendingPathComponent("trust").path),
            signingKey: try PrivateKey(pem: try read("participants/\(gateway.code).key.pem")),
            signingCertificate: try Trust.Certificate(pem: try read("participants/\(gateway.code).cert.pem")),
            logKey: try Ed25519PrivateKey.loadOrCreate(at: logKeyPath),
            packs: packs, defaultPack: defaultPack)
        configuration.previousLogKeys = try LogKeyHistory(logKeyPath: logKeyPath).previousKeys(now: Int(Date().timeIntervalSince1970))
        return configuration
    }
}
