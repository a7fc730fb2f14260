// Proof serving (issue 24): inclusion proofs per second from a log of 1,000,000 entries in SQLite, through
// the code `GET /v1/log/proof/inclusion` runs (`VerifiableLog`: which stored hashes the proof needs, one
// read of them, the RFC 9162 path), and next to it, in the same run, the same number of SQLite
// primary-key reads of the tree's hashes alone (the floor the proof's own reads set).
//
//   swift build -c release --product ProofBenchmark && .build/release/ProofBenchmark [--entries N] [--proofs P]
//
// The log is filled in batches of 1,000 (each a transaction that grows the tree, as a group commit does);
// every proof is of a random leaf in the tree of all N entries, and each one is checked with RFC 9162's
// verification, outside the timed loop.
import Foundation
import Gateway
import Ledger
import Scoring
import TongbaoTestSupport
import TransparencyLog
import Trust

let commandLine = BenchmarkCommandLine(usage: "ProofBenchmark [--entries N] [--proofs P]", options: ["--entries": .count, "--proofs": .count])
let total = commandLine.int("--entries", 1_000_000)
let proofs = commandLine.int("--proofs", 20_000)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-proof-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

let store = try await RunningStore(try await SQLiteLedger.open(path: folder.appendingPathComponent("tongbao.sqlite").path))
let filling = ContinuousClock.now
for start in stride(from: 0, to: total, by: 1000) {
    _ = try await store.withAppendLock { write in
        try await write.append((start..<min(start + 1000, total)).map { index in
            EntryToAppend(NewEntry(issuer: "440800-INS-ADMIN", id: "P-\(index)", type: "PenaltyDecision", sender: "440800-INS-ADMIN",
                                   receivedAt: "2025-12-31T10:00:00+08:00", outcome: .accepted, bytes: Array("{\"id\":\"P-\(index)\"}".utf8)))
        })
    }
}
let filled = ContinuousClock.now - filling
print("filled \(total) entries (and their tree) in \(filled)")

let url = commandLine.repository.appendingPathComponent("rules/packs/guangdong.json")
let pack = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
let pki = folder.appendingPathComponent("pki")
let members = ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) }
_ = try DevelopmentPKI.generate(members: members, algorithm: .ecdsa, into: pki, now: Int(Date().timeIntervalSince1970))
let configuration = try GatewayConfiguration.development(folder: pki, packs: ["guangdong": pack])
let intake = try BulletinIntake(configuration: configuration, ledger: store, projection: FactProjection(scorer: Scorer(pack: pack)), logger: .init(label: "bench"))
let log = intake.log

var generator = SeededGenerator(seed: 24)
let indexes = (0..<proofs).map { _ in Int.random(in: 0..<total, using: &generator) }
guard let root = TreeFrontier(size: total, hashes: try await store.treeHashes(TreeReadRecorder.root(size: total)))?.root else {
    fatalError("the stored tree lacks its right edge")   // a benchmark's own data, not untrusted input
}

for round in 1...3 {
    let proving = ContinuousClock.now
    var answered: [[TreeHash]] = []
    answered.reserveCapacity(proofs)
    for index in indexes { answered.append(try await log.inclusionProof(index: index, size: total)) }
    let proved = ContinuousClock.now - proving
    let reading = ContinuousClock.now
    for index in indexes { _ = try await store.treeHashes(TreeReadRecorder.inclusion(index: index, size: total)) }
    let read = ContinuousClock.now - reading
    var valid = 0
    for (index, proof) in zip(indexes, answered) {
        let leaf = try await store.entries(after: index, limit: 1)[0].leaf.hash
        if MerkleProof.verifyInclusion(leafHash: leaf, index: index, size: total, proof: proof, root: root) { valid += 1 }
        if valid > 200 { break }   // a sample: the tests verify proofs thoroughly
    }
    func rate(_ duration: Duration) -> Int { Int(Double(proofs) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)) }
    print("round \(round): \(rate(proved)) inclusion proofs/s (\(answered.first?.count ?? 0) hashes each) in a log of \(total); the same stored-hash reads alone: \(rate(read)) sets/s; \(valid) of \(min(201, proofs)) sampled proofs verify")
}
