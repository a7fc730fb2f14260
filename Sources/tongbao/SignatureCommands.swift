import ArgumentParser
import Bulletins
import BulletinVerification
import Foundation
import StrictJSON
import Gateway
import Trust

/// `tongbao sign`: signs a bulletin (XML-DSig for XML, JWS for JSON).
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a bulletin: XML-DSig enveloped for XML, JWS (flattened; --compact for compact) for JSON.",
        discussion: "The certificate must belong to the bulletin's issuer (urn:tongbao:participant:ISSUER).")

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case xml, jws
    }

    @Option(help: "The signer's private key (PEM).")
    var key: String

    @Option(help: "The signer's certificate (PEM).")
    var cert: String

    @Option(help: "Intermediate certificates to send along (PEM, JWS x5c only).")
    var chain: String?

    @Option(help: "xml or jws; default: the input's encoding.")
    var to: Output?

    @Flag(help: "JWS compact serialization instead of flattened JSON.")
    var compact = false

    @Argument(help: "An unsigned bulletin (XML or JSON); - reads standard input.")
    var file: String

    func run() throws {
        try runReportingErrors("sign") {
            let input = try readInput(file)
            let parsed: ParsedBulletin
            do throws(BulletinError) {
                parsed = try BulletinReader().read(input)
            } catch {
                throw CLIError.data("\(file):\(error.line): \(error.location): \(error.message) [\(error.code)]")
            }
            do {
                let privateKey = try PrivateKey(pem: try readInputOrThrow(key))
                let certificates = try Trust.Certificate.all(pem: try readInputOrThrow(cert)) + (try chain.map { path throws(TrustError) in
                    try Trust.Certificate.all(pem: try readInputOrThrow(path))
                } ?? [])
                guard let certificate = certificates.first else { throw TrustError(code: .malformedCertificate, message: "\(cert) holds no certificate") }
                guard try privateKey.isCertified(by: certificate) else {
                    throw CLIError.data("\(key): the key does not belong to the certificate \(cert) (its signature would not verify)")
                }
                guard certificate.participantCodes.contains(parsed.bulletin.issuer) else {
                    throw TrustError(code: .issuerMismatch, message: "the certificate belongs to \(certificate.participantCodes.joined(separator: ", ")), not the issuer \(parsed.bulletin.issuer)")
                }
                switch to ?? (parsed.encoding == .xml ? .xml : .jws) {
                case .xml:
                    let unsigned = parsed.encoding == .xml ? input : Array(try xmlText(parsed).utf8)
                    let signed = try XMLSignature().sign(unsigned, key: privateKey, certificate: certificate)
                    FileHandle.standardOutput.write(Data(signed))
                case .jws:
                    let payload = parsed.encoding == .json ? input : Array(JSONWriter.pretty(parsed.tree).utf8)
                    print(try JWS().sign(payload, key: privateKey, chain: certificates, compact: compact))
                }
            } catch let error as TrustError {
                StandardError.write("tongbao sign: \(error.message) [\(error.code)]\n")
                throw ExitCode(1)
            }
        }
    }

    private func xmlText(_ parsed: ParsedBulletin) throws(TrustError) -> String {
        do {
            return try BulletinXML.xml(from: parsed.tree)
        } catch {
            throw TrustError(code: .profileViolation, message: error.message)
        }
    }

    private func readInputOrThrow(_ path: String) throws(TrustError) -> [UInt8] {
        do {
            return try readInput(path)
        } catch {
            throw TrustError(code: .ioError, message: error.description)
        }
    }
}

/// `tongbao verify`: verifies signed bulletins against a trust store.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify signed bulletins: signature, profile, chain, revocation, validity and issuer binding.",
        discussion: "Prints `FILE: ok ISSUER` or `FILE: CODE reason` per file; exit 0 when all verify, else 1.")

    @Option(help: "The trust store folder (roots/, intermediates/, crl/).")
    var trust: String

    @Argument(help: "Signed bulletins (XML-DSig, or JWS compact or flattened).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one signed bulletin") }
    }

    func run() throws {
        try runReportingErrors("verify") {
            let store: TrustStore
            let reader: BulletinReader
            do {
                store = try TrustStore(directory: trust)
                reader = try BulletinReader()
            } catch {
                throw CLIError.io("\(error)")
            }
            let verifier = SignedBulletinVerifier(trust: store, reader: reader)
            let now = Int(Date().timeIntervalSince1970)
            var failed = false
            for path in files {
                do {
                    let bulletin = try verifier.verify(try readInput(path), now: now)
                    print("\(path): ok \(bulletin.issuer)")
                } catch let error as TrustError {
                    failed = true
                    print("\(path): \(error.code) \(error.message)")
                } catch let error as BulletinError {
                    failed = true
                    print("\(path): \(error.code) \(error.location): \(error.message)")
                } catch let error as CLIError {
                    failed = true
                    print("\(path): \(error.exitCode == 65 ? "too-large" : "io-error") \(error.description)")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
