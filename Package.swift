// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tongbao",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tongbao", targets: ["tongbao"]),
        .library(name: "Scoring", targets: ["Scoring"]),
        .library(name: "Bulletins", targets: ["Bulletins"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // libxml2, via pkg-config; only XMLSupport imports it.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // Hardened XML parsing, XSD validation and exclusive C14N: the only code that touches libxml2.
        .target(name: "XMLSupport", dependencies: ["CLibXML2"]),
        // OpenSSL's libcrypto, via pkg-config; only Trust imports it.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Keys, certificates, chains, CRLs and signatures: the only code that touches OpenSSL.
        .target(name: "Trust", dependencies: ["COpenSSL", "StrictJSON", "XMLSupport", "ThreadParking"]),
        // SQLite, via pkg-config; only Ledger imports it.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The async store: the message log (hash-chained, durable) and the outbox; SQLite is the embedded
        // default, PostgreSQL (a pool) serves several nodes. It stores: no signing, no gateway callbacks.
        .target(
            name: "Ledger",
            dependencies: [
                "CSQLite", "ThreadParking", "TransparencyLog",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Verifying a signed bulletin end to end (signature, trust, the bulletin from the verified bytes).
        .target(name: "BulletinVerification", dependencies: ["Bulletins", "Trust"]),
        // The intake fuzz target: libFuzzer with `.ci/fuzz`, a corpus replayer otherwise.
        .executableTarget(name: "IntakeFuzzer", dependencies: ["BulletinVerification"]),
        // Intake: verify → authorize → fact, and the committer, the one write path (group commit, periodic
        // bulletins); the projection, directory, derivation and outbound signer. Knows no HTTP.
        .target(
            name: "Intake",
            dependencies: [
                "Scoring", "Bulletins", "Trust", "Ledger", "StrictJSON", "BulletinVerification", "ParallelWork", "TransparencyLog",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Delivery: the push worker, the periodic-bulletin scheduler, the log follower and the trust reloader,
        // as services; and the log witness a participant runs.
        .target(
            name: "Delivery",
            dependencies: [
                "Intake", "Ledger", "Trust", "StrictJSON", "TransparencyLog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP edge: Hummingbird routes over mutual TLS, the internal listener, and Problem, the one
        // place a code becomes an HTTP status.
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "Intake", "Ledger", "Scoring", "Bulletins", "Trust", "StrictJSON", "TransparencyLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The gateway assembled: GatewayApp.makeGateway turns settings into the services `serve` runs;
        // `import Gateway` brings Intake, Delivery and GatewayHTTP with it.
        .target(
            name: "Gateway",
            dependencies: [
                "Intake", "Delivery", "GatewayHTTP", "Ledger", "Scoring",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The verifiable log's Merkle tree (RFC 9162 §2.1): hashing, roots and proofs over stored
        // complete-subtree hashes, and their verification. Pure: no I/O.
        .target(name: "TransparencyLog", dependencies: ["Trust", "StrictJSON", "XMLSupport", .product(name: "Crypto", package: "swift-crypto")]),
        // Where the project's own threads sleep until there is work (never a task or an event loop).
        .target(name: "ThreadParking"),
        // A strict, position-tracking JSON reader for untrusted input and data files.
        .target(name: "StrictJSON"),
        // Work cut into independent pieces and run on every core, results in piece order.
        .target(name: "ParallelWork"),
        // The pure scoring core: rule packs, facts, the fold, the working-day calendar.
        .target(name: "Scoring", dependencies: ["ParallelWork", "StrictJSON"]),
        // The bulletin model (envelope and bodies) and its JSON codec.
        .target(name: "Bulletins", dependencies: ["Scoring", "StrictJSON", "XMLSupport"]),
        .executableTarget(
            name: "tongbao",
            dependencies: [
                "Scoring", "Bulletins", "Trust", "Ledger", "Gateway", "BulletinVerification", "ParallelWork", "TransparencyLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers shared by tests and benchmarks (seeded data generation, external programs).
        .target(name: "TongbaoTestSupport", dependencies: ["Ledger", "TransparencyLog"]),
        // A participant's receiving endpoint (HTTPS, client certificates, signature checks, dedup) for tests.
        .target(
            name: "TongbaoTestReceiver",
            dependencies: [
                "Gateway", "Bulletins", "Trust", "TransparencyLog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "ReplayBenchmark",
            dependencies: ["Scoring", "Bulletins", "TongbaoTestSupport"],
            path: "Benchmarks/ReplayBenchmark"
        ),
        .executableTarget(
            name: "PeriodicBenchmark",
            dependencies: ["Gateway", "Scoring", "Bulletins", "StrictJSON", "TongbaoTestSupport"],
            path: "Benchmarks/PeriodicBenchmark"
        ),
        .executableTarget(
            name: "GatewayBenchmark",
            dependencies: [
                "Gateway", "Ledger", "Trust", "Scoring", "TongbaoTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/GatewayBenchmark"
        ),
        .executableTarget(
            name: "DerivationBenchmark",
            dependencies: ["Gateway", "Scoring", "TongbaoTestSupport"],
            path: "Benchmarks/DerivationBenchmark"
        ),
        .executableTarget(
            name: "ProofBenchmark",
            dependencies: ["Gateway", "Ledger", "Trust", "Scoring", "TransparencyLog", "TongbaoTestSupport"],
            path: "Benchmarks/ProofBenchmark"
        ),
        .executableTarget(
            name: "SignatureBenchmark",
            dependencies: ["Trust", "TongbaoTestSupport"],
            path: "Benchmarks/SignatureBenchmark"
        ),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON", "TongbaoTestSupport"]),
        .testTarget(name: "TongbaoTestSupportTests", dependencies: ["TongbaoTestSupport"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "TongbaoTestSupport", "TransparencyLog", "Trust"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Intake", "Delivery", "GatewayHTTP", "Trust", "TongbaoTestSupport", "TongbaoTestReceiver", "BulletinVerification",
                "TransparencyLog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["log_verifier.py"]
        ),
        .testTarget(name: "XMLSupportTests", dependencies: ["XMLSupport"]),
        .testTarget(name: "ThreadParkingTests", dependencies: ["ThreadParking"]),
        .testTarget(name: "TransparencyLogTests", dependencies: ["TransparencyLog", "TongbaoTestSupport"], exclude: ["rfc9162.py"]),
        .testTarget(name: "TrustTests", dependencies: ["Trust", "XMLSupport", "TongbaoTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ScoringTests", dependencies: ["Scoring", "TongbaoTestSupport"]),
        .testTarget(name: "BulletinsTests", dependencies: ["Bulletins", "Scoring", "TongbaoTestSupport"]),
        .testTarget(
            name: "TongbaoCLITests",
            dependencies: [
                "tongbao", "Trust", "Ledger", "Gateway", "Bulletins", "TongbaoTestReceiver", "TongbaoTestSupport", "TransparencyLog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
