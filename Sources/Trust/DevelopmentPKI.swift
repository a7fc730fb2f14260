import Foundation

/// Generates a development PKI for a set of participants: a root CA, one signing certificate per
/// participant (bound by `urn:tongbao:participant:CODE`), and a CRL, laid out as the trust store of
/// cli.md expects. For development and tests only: the keys are written unencrypted.
///
/// ```
/// DIR/trust/roots/root.pem            DIR/trust/crl/root.pem         DIR/trust/intermediates/
/// DIR/ca/root.key.pem                 DIR/participants/CODE.cert.pem DIR/participants/CODE.key.pem
/// ```
public enum DevelopmentPKI {
    /// One participant to issue a certificate for.
    public struct Member: Sendable {
        /// The participant code.
        public var code: String
        /// The name for the certificate's common name.
        public var name: String
        /// DNS names and IP addresses, for a member that also serves TLS (the gateway).
        public var serverNames: [String]

        /// Creates a member.
        public init(code: String, name: String, serverNames: [String] = []) {
            self.code = code
            self.name = name
            self.serverNames = serverNames
        }
    }

    /// What was written.
    public struct Result: Sendable {
        /// The trust store folder (`roots/`, `intermediates/`, `crl/`).
        public var trustDirectory: URL
        /// Each member's (certificate, key) files, by participant code.
        public var credentials: [String: (certificate: URL, key: URL)]
    }

    /// Writes the PKI into `directory` (created if needed; existing files are replaced).
    ///
    /// - Parameter backdatedDays: how long before `now` the certificates start, so that bulletins issued
    ///   earlier (the examples are dated 2025) verify at their `issuedAt`.
    /// - Parameter rootName: the root CA's common name (two development CAs in one trust store need two).
    public static func generate(
        members: [Member], algorithm: KeyAlgorithm, into directory: URL, now: Int, validDays: Int = 825, backdatedDays: Int = 730,
        rootName: String = "Tongbao Development Root CA"
    ) throws(TrustError) -> Result {
        let day = 86_400
        let start = now - backdatedDays * day
        let authority = try CertificateAuthority.root(
            name: rootName, algorithm: algorithm, notBefore: start, notAfter: now + (validDays + 30) * day)
        let trust = directory.appendingPathComponent("trust")
        let participants = directory.appendingPathComponent("participants")
        try write(try authority.certificate.pem(), to: trust.appendingPathComponent("roots/root.pem"))
        try makeDirectory(trust.appendingPathComponent("intermediates"))
        let crl = try authority.revocationList(revokedSerials: [], thisUpdate: now - day, nextUpdate: now + validDays * day)
        try write(try crl.pem(), to: trust.appendingPathComponent("crl/root.pem"))
        try write(try authority.key.pem(), to: directory.appendingPathComponent("ca/root.key.pem"), secret: true)
        var credentials: [String: (certificate: URL, key: URL)] = [:]
        for (index, member) in members.enumerated() {
            let key = try PrivateKey.generate(algorithm)
            let certificate = try authority.issue(
                commonName: member.name, participant: member.code, subjectKey: key, serial: 100 + index,
                notBefore: start, notAfter: now + validDays * day, serverNames: member.serverNames)
            let certificateURL = participants.appendingPathComponent("\(member.code).cert.pem")
            let keyURL = participants.appendingPathComponent("\(member.code).key.pem")
            try write(try certificate.pem(), to: certificateURL)
            try write(try key.pem(), to: keyURL, secret: true)
            credentials[member.code] = (certificateURL, keyURL)
        }
        return Result(trustDirectory: trust, credentials: credentials)
    }

    private static func makeDirectory(_ url: URL) throws(TrustError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw TrustError(code: .ioError, message: "cannot create \(url.path): \(error.localizedDescription)")
        }
    }

    private static func write(_ bytes: [UInt8], to url: URL, secret: Bool = false) throws(TrustError) {
        try makeDirectory(url.deletingLastPathComponent())
        do {
            try Data(bytes).write(to: url, options: .atomic)
            if secret { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path) }
        } catch {
            throw TrustError(code: .ioError, message: "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
