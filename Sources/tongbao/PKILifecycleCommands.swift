import ArgumentParser
import Foundation
import Gateway
import Trust

/// The CA folder `tongbao pki init` made: its key and certificate, and the record of what it issued and
/// revoked (`ca/issued.tsv`, `ca/revoked.tsv`: one line per certificate, serial first), from which serial
/// numbers and CRLs are made.
struct CAFolder {
    let folder: URL
    var keyFile: URL { folder.appendingPathComponent("ca/root.key.pem") }
    var certificateFile: URL { folder.appendingPathComponent("trust/roots/root.pem") }
    var issuedFile: URL { folder.appendingPathComponent("ca/issued.tsv") }
    var revokedFile: URL { folder.appendingPathComponent("ca/revoked.tsv") }

    init(_ path: String) throws(CLIError) {
        folder = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: keyFile.path), FileManager.default.fileExists(atPath: certificateFile.path) else {
            throw CLIError.data("\(path) holds no CA (ca/root.key.pem and trust/roots/root.pem, as tongbao pki init makes them)")
        }
    }

    /// The CA, read from its files (the key must be the owner's only).
    func authority() throws(CLIError) -> CertificateAuthority {
        do {
            return try CertificateAuthority(key: try PrivateKey(pem: try readPrivateKey(keyFile.path)), certificatePEM: try readInput(certificateFile.path))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.data("\(folder.path): the CA cannot be read: \(error)")
        }
    }

    /// The serials in `file` (the first column of each line).
    func serials(in file: URL) -> [Int] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            line.split(separator: "\t").first.flatMap { Int($0) }
        }
    }

    /// The next serial: above every one this CA issued (the record, and the certificates `pki init` wrote).
    func nextSerial() -> Int {
        let written = ((try? FileManager.default.contentsOfDirectory(at: folder.appendingPathComponent("participants"), includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".cert.pem") }
            .compactMap { url in (try? Data(contentsOf: url)).flatMap { try? Certificate(pem: Array($0)) }?.serialNumber }
        return (serials(in: issuedFile) + written + [999]).max().map { $0 + 1 } ?? 1000
    }

    /// Appends a line to a record file (owner-only, created when missing).
    func append(_ line: String, to file: URL) throws(CLIError) {
        do {
            if !FileManager.default.fileExists(atPath: file.path) {
                _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw CLIError.io("cannot write \(file.path): \(error.localizedDescription)")
        }
    }
}

/// The `--ca` option of the CA commands.
struct CALocation: ParsableArguments {
    @Option(help: "The CA folder (the --out of pki init).")
    var ca: String
}

extension PKICommand {
    /// `tongbao pki issue`: a participant's key and certificate in the documented profile.
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a participant's key and certificate from a CA made by pki init (the profile is in docs/certificates.md).",
            discussion: "Writes OUT/CODE.key.pem (mode 0600) and OUT/CODE.cert.pem, and prints the line to add to the participants file.")

        @OptionGroup var location: CALocation

        @Option(help: "The participant code (urn:tongbao:participant:CODE in the certificate).")
        var code: String

        @Option(help: "The participant's role: insurance-admin, insurance-agency, health, drug or gateway.")
        var role: Participant.Role

        @Option(help: "The participant's region (6 digits; default: the code's first six characters).")
        var region: String?

        @Option(help: "The participant's name (the certificate's common name).")
        var name: String?

        @Option(help: "Key algorithm: rsa, ecdsa (P-256) or sm2.")
        var algorithm: String = "ecdsa"

        @Option(help: "Days the certificate stays valid.")
        var days: Int = 825

        @Option(help: "The folder to write the key and certificate into.")
        var out: String

        func validate() throws {
            guard KeyAlgorithm(rawValue: algorithm) != nil else { throw ValidationError("--algorithm must be rsa, ecdsa or sm2") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
            guard !code.isEmpty, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ValidationError("--code must be letters, digits and '-'")
            }
        }

        func run() throws {
            try runReportingErrors("pki issue") {
                let folder = try CAFolder(location.ca)
                let authority = try folder.authority()
                let region = region ?? String(code.prefix(6))
                guard region.count == 6, region.allSatisfy(\.isNumber) else { throw CLIError.usage("--region must be 6 digits (the code does not start with them)") }
                let outFolder = URL(fileURLWithPath: out)
                let keyFile = outFolder.appendingPathComponent("\(code).key.pem"), certificateFile = outFolder.appendingPathComponent("\(code).cert.pem")
                for file in [keyFile, certificateFile] where FileManager.default.fileExists(atPath: file.path) {
                    throw CLIError.data("\(file.path) exists; pki issue never overwrites a key or certificate")
                }
                let serial = folder.nextSerial()
                let now = Int(Date().timeIntervalSince1970)
                do {
                    let key = try PrivateKey.generate(KeyAlgorithm(rawValue: algorithm) ?? .ecdsa)
                    let certificate = try authority.issue(commonName: name ?? code, participant: code, subjectKey: key, serial: serial,
                                                          notBefore: now - 300, notAfter: now + days * 86_400)
                    try FileManager.default.createDirectory(at: outFolder, withIntermediateDirectories: true)
                    try writeOwnerOnly(try key.pem(), to: keyFile)
                    try Data(try certificate.pem()).write(to: certificateFile)
                } catch {
                    throw CLIError.io("cannot issue the certificate: \(error)")
                }
                try folder.append("\(serial)\t\(code)\t\(now + days * 86_400)", to: folder.issuedFile)
                print("issued serial \(serial) to \(code): --cert \(certificateFile.path) --key \(keyFile.path)")
                let participant = Participant(code: code, role: role, region: region, name: name ?? code)
                let line = ParticipantsFile.text([participant]).split(separator: "\n").first { $0.contains("\"code\"") }
                    .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " ,")) } ?? ""
                print("add to the participants file: \(line)")
            }
        }
    }

    /// `tongbao pki revoke`: records a certificate as revoked; the next `pki crl` lists it.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a certificate of the CA as revoked; the next pki crl lists it.")

        @OptionGroup var location: CALocation

        @Option(help: "Why (recorded beside the serial).")
        var reason: String = "unspecified"

        @Argument(help: "The certificate to revoke (PEM).")
        var certificate: String

        func run() throws {
            try runReportingErrors("pki revoke") {
                let folder = try CAFolder(location.ca)
                let authority = try folder.authority()
                let revoked: Certificate
                do {
                    revoked = try Certificate(pem: try readInput(certificate))
                } catch let error as CLIError {
                    throw error
                } catch {
                    throw CLIError.data("\(certificate): not a PEM certificate: \(error)")
                }
                guard let serial = revoked.serialNumber else { throw CLIError.data("\(certificate): its serial number does not fit 64 bits") }
                // Issued by this CA (and still valid: an expired certificate is refused everywhere already).
                let now = Int(Date().timeIntervalSince1970)
                guard (try? TrustStore(roots: [authority.certificate], revocationLists: [
                    try authority.revocationList(revokedSerials: [], thisUpdate: now - 60, nextUpdate: now + 60),
                ]).verify(revoked, at: now)) != nil else {
                    throw CLIError.data("\(certificate) is not a valid certificate of this CA (\(authority.certificate.subject))")
                }
                guard !folder.serials(in: folder.revokedFile).contains(serial) else {
                    print("serial \(serial) is already revoked")
                    return
                }
                let cleaned = reason.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
                try folder.append("\(serial)\t\(revoked.participantCodes.joined(separator: ","))\t\(now)\t\(cleaned)", to: folder.revokedFile)
                print("revoked serial \(serial) (\(revoked.participantCodes.joined(separator: ", "))); run tongbao pki crl and install the CRL in the trust stores")
            }
        }
    }

    /// `tongbao pki crl`: a fresh CRL of everything revoked.
    struct CRL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crl",
            abstract: "Write a fresh CRL listing every certificate revoked, valid for --days (put it in each trust store's crl/).")

        @OptionGroup var location: CALocation

        @Option(help: "The CRL file to write (PEM).")
        var out: String

        @Option(help: "Days until the CRL's nextUpdate; gateways warn 24 hours before and refuse after.")
        var days: Int = 7

        func run() throws {
            try runReportingErrors("pki crl") {
                guard (1...365).contains(days) else { throw CLIError.usage("--days must be between 1 and 365") }
                let folder = try CAFolder(location.ca)
                let authority = try folder.authority()
                let serials = folder.serials(in: folder.revokedFile)
                let now = Int(Date().timeIntervalSince1970)
                do {
                    let list = try authority.revocationList(revokedSerials: serials, thisUpdate: now - 60, nextUpdate: now + days * 86_400)
                    try Data(try list.pem()).write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CLIError.io("cannot write the CRL \(out): \(error)")
                }
                print("wrote \(out): \(serials.count) revoked, next update \(Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(now + days * 86_400))))")
            }
        }
    }
}

extension PKICommand {
    /// `tongbao pki rotate`: a new signing or log key for the gateway, with an overlap in which the old one
    /// still verifies.
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Replace the gateway's signing key and certificate, or its log key, keeping the old one verifying.",
            discussion: """
                --what log: a new Ed25519 log key in CODE.log-key.pem; the old one is kept (CODE.log-key-KEYID.pem, \
                recorded in CODE.log-key-history.txt). From the next start the gateway signs every checkpoint with both \
                keys until the overlap ends, and lists the old key in GET /v1/log/key for good, so receipts signed \
                before the rotation keep verifying. Refused while an earlier rotation's overlap lasts.
                --what signing: a new key and certificate from the data folder's CA (DATA/pki), the old pair kept as \
                CODE.previous.{key,cert}.pem; the old certificate stays valid (bulletins it signed keep verifying) until \
                it expires or you revoke it (pki revoke, pki crl) once the overlap is over.
                Either takes effect when the gateway starts again (copy the new files to every node of a cluster first).
                """)

        @OptionGroup var options: GatewayOptions

        @Option(help: "What to rotate: signing (the X.509 key and certificate) or log (the Ed25519 log key).")
        var what: String

        @Option(help: "Days the old log key signs beside the new one (--what log).")
        var overlapDays: Int = 7

        @Option(help: "Days the new certificate is valid (--what signing).")
        var days: Int = 365

        @Option(parsing: .singleValue, help: "A host name or address clients reach the gateway by, for its new TLS certificate (--what signing; repeat for several; default: localhost and 127.0.0.1).")
        var serverName: [String] = []

        func validate() throws {
            guard what == "signing" || what == "log" else { throw ValidationError("--what must be signing or log") }
            guard (0...365).contains(overlapDays) else { throw ValidationError("--overlap-days must be between 0 and 365") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
        }

        func run() throws {
            try runReportingErrors("pki rotate") {
                let setup = try GatewaySetup(options, requireLog: false)
                let now = Int(Date().timeIntervalSince1970)
                if what == "log" {
                    try rotateLogKey(setup, now: now)
                } else {
                    try rotateSigningKey(setup, now: now)
                }
            }
        }

        private func rotateLogKey(_ setup: GatewaySetup, now: Int) throws(CLIError) {
            let rotation: LogKeyHistory.Rotation
            do {
                rotation = try LogKeyHistory(logKeyPath: setup.logKeyPath).rotate(origin: setup.configuration.logOrigin, overlap: overlapDays * 86_400, now: now)
            } catch where error.code == .internal {
                throw CLIError.io(error.detail)
            } catch {
                throw CLIError.data(error.detail)
            }
            print("""
                rotated the log key of \(setup.configuration.logOrigin)
                  new:      \(rotation.current.text) (\(setup.logKeyPath))
                  previous: \(rotation.previous.text) (kept in \(rotation.previousKeyPath))
                checkpoints are signed with both until \(Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(rotation.overlapEnds)))); \
                the previous key stays listed in GET /v1/log/key. Restart the gateway (every node, with these files) to put it in force.
                """)
        }

        private func rotateSigningKey(_ setup: GatewaySetup, now: Int) throws(CLIError) {
            let folder = try CAFolder(options.pki.path)
            let authority = try folder.authority()
            let code = setup.configuration.code
            let old = setup.configuration.signingCertificate
            let keyFile = URL(fileURLWithPath: setup.keyPath), certificateFile = URL(fileURLWithPath: setup.certPath)
            let previousKey = keyFile.deletingLastPathComponent().appendingPathComponent("\(code).previous.key.pem")
            let previousCertificate = certificateFile.deletingLastPathComponent().appendingPathComponent("\(code).previous.cert.pem")
            let serial = folder.nextSerial()
            let gateway = setup.configuration.participants.first { $0.code == code }
            // The serial is recorded before anything is installed, so that it is never issued twice.
            try folder.append("\(serial)\t\(code)\t\(now + days * 86_400)", to: folder.issuedFile)
            do {
                let key = try PrivateKey.generate(setup.configuration.signingKey.algorithm)
                let certificate = try authority.issue(commonName: gateway?.name ?? code, participant: code, subjectKey: key, serial: serial,
                                                      notBefore: now - 300, notAfter: now + days * 86_400,
                                                      serverNames: serverName.isEmpty ? ["localhost", "127.0.0.1"] : serverName)
                let manager = FileManager.default
                for file in [previousKey, previousCertificate] where manager.fileExists(atPath: file.path) { try manager.removeItem(at: file) }
                // The old pair is copied aside first, then the new one replaces it (each a rename): never without a
                // key. Keys are created owner-only, never readable by others for a moment.
                try writeOwnerOnly(Array(try Data(contentsOf: keyFile)), to: previousKey)
                try manager.copyItem(at: certificateFile, to: previousCertificate)
                let stagedKey = keyFile.appendingPathExtension("new"), stagedCertificate = certificateFile.appendingPathExtension("new")
                for file in [stagedKey, stagedCertificate] where manager.fileExists(atPath: file.path) { try manager.removeItem(at: file) }
                try writeOwnerOnly(try key.pem(), to: stagedKey)
                try Data(try certificate.pem()).write(to: stagedCertificate)
                guard rename(stagedKey.path, keyFile.path) == 0, rename(stagedCertificate.path, certificateFile.path) == 0 else {
                    throw CLIError.io("cannot put the new key and certificate in place: \(String(cString: strerror(errno)))")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.io("cannot rotate the signing key: \(error)")
            }
            print("""
                rotated the signing key of \(code): new certificate serial \(serial) (\(certificateFile.path))
                the previous one (serial \(old.serialNumber.map(String.init) ?? "?"), kept as \(previousCertificate.path)) stays valid until \
                \(Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(old.notAfter)))): what it signed keeps verifying; revoke it \
                (pki revoke, pki crl) once every recipient has seen the new one. Restart the gateway to put it in force.
                """)
        }
    }
}

extension Participant.Role: ExpressibleByArgument {}

/// Writes a new file readable and writable by its owner only from its creation (a private key).
func writeOwnerOnly(_ bytes: [UInt8], to url: URL) throws(CLIError) {
    let descriptor = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw CLIError.io("cannot create \(url.path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(descriptor) == 0 else { throw CLIError.io("cannot write \(url.path): \(String(cString: strerror(errno)))") }
}
