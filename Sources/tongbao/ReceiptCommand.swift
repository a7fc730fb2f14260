import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOSSL
import TransparencyLog
import Trust

/// `tongbao receipt`: what a participant does with the receipts it holds.
struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "receipt", abstract: "Check the gateway's receipts.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify receipts offline: the checkpoint's signature by the log key, the leaf's inclusion proof, and that the leaf names the receipt's issuer, id and SHA-256.",
            discussion: """
                The log key comes from --log-key (a file holding its C2SP vkey, as `tongbao log key` prints it), or is \
                fetched from the gateway at --url (over mutual TLS with --key and --cert) and accepted only when its \
                binding statement verifies against --trust. Prints RECEIPT: ok position N (checkpoint size S), or \
                RECEIPT: CODE reason; exit 0 when every receipt verifies, 1 otherwise.
                """)

        @Option(help: "The log's verifier key: a file holding its C2SP vkey (and, after a rotation, those it rotated from, one per line).")
        var logKey: String?

        @Option(help: "The gateway's base URL (https://HOST:PORT), to fetch the log key from instead.")
        var url: String?

        @Option(help: "With --url: the trust store folder the key's binding to the gateway's certificate is checked against.")
        var trust: String?

        @Option(help: "With --url: your private key (PEM), for mutual TLS.")
        var key: String?

        @Option(help: "With --url: your certificate (PEM), for mutual TLS.")
        var cert: String?

        @Argument(help: "Receipts (JSON or XML), as the gateway answered them.")
        var receipts: [String]

        func run() async throws {
            try await runReportingErrors("receipt verify") {
                let logKey = try await resolveKey()
                var allVerify = true
                for path in receipts {
                    do {
                        let receipt = try LogReceipt(bytes: try readInput(path))
                        let checkpoint = try receipt.verify(logKeys: logKey)
                        print("\(path): ok position \(receipt.position) (\(receipt.issuer)/\(receipt.id), checkpoint size \(checkpoint.checkpoint.size))")
                    } catch let error as LogError {
                        print("\(path): \(error.code) \(error.message)")
                        allVerify = false
                    }
                }
                if !allVerify { throw ExitCode(1) }
            }
        }

        private func resolveKey() async throws -> [NoteVerifierKey] {
            if let logKey {
                guard url == nil else { throw CLIError.usage("give --log-key or --url, not both") }
                return try LogKeyFile.read(logKey)
            }
            guard let url, let trust, let key, let cert else { throw CLIError.usage("give --log-key FILE, or --url with --trust, --key and --cert") }
            let store = try TrustStore(directory: trust)
            let client = try MutualTLSClient.make(keyPEM: try readInput(key), certificatePEM: try readInput(cert), trust: store)
            let result = await SubmitCommand.logKeys(url: url, client: client, trust: store)
            try await client.shutdown()
            return try result.get()
        }
    }
}

/// An HTTPS client that presents a participant's certificate and trusts the roots of a trust store (the
/// gateway's certificate names no host the client dialled: its participant binding is what counts).
enum MutualTLSClient {
    static func make(keyPEM: [UInt8], certificatePEM: [UInt8], trust: TrustStore) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
        tls.trustRoots = .certificates(try trust.roots.map { try NIOSSLCertificate(bytes: try $0.der(), format: .der) })
        tls.certificateVerification = .noHostnameVerification
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }
}

/// A file of log verifier keys, as `tongbao log key` prints them: one C2SP vkey per line, the current key
/// first, then those the log rotated from.
enum LogKeyFile {
    static func read(_ path: String) throws(CLIError) -> [NoteVerifierKey] {
        let lines = String(decoding: try readInput(path), as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var keys: [NoteVerifierKey] = []
        for (number, line) in lines.enumerated() {
            guard let key = NoteVerifierKey(text: line) else {
                throw CLIError.data("\(path) line \(number + 1): not a C2SP verifier key (NAME+KEYID+BASE64)")
            }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw CLIError.data("\(path): no C2SP verifier key in it") }
        return keys
    }
}
