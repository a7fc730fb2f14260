import Foundation
import Testing
import TongbaoTestSupport
@testable import Trust

/// ECDSA signatures whose nonces were computed ahead on the background thread (`SigningNonces`).
@Suite("signing nonces computed ahead")
struct SigningNoncesTests {
    let data = Array(#"{"id":"RCPT-1","type":"Receipt"}"#.utf8)

    /// Waits (polling; the thread runs at idle priority, so on a busy machine it may take a while) until
    /// `pool` holds `count` nonces.
    private func waitUntilReady(_ pool: SigningNonces, _ count: Int) async throws {
        for _ in 0..<1200 where pool.readyCount < count {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(pool.readyCount >= count, "the pool holds \(pool.readyCount) of \(count) nonces after a minute")
    }

    /// A nonce from `pool`, trying again while the thread holds the lock (``SigningNonces/take()`` never waits for it).
    private func take(_ pool: SigningNonces) async throws -> SigningNonces.Nonce {
        for _ in 0..<1000 {
            if let nonce = pool.take() { return nonce }
            await Task.yield()
        }
        return try #require(pool.take())
    }

    @Test("a signature with a nonce computed ahead verifies here and in openssl, and every one has its own r")
    func signaturesVerify() async throws {
        let key = try PrivateKey.generate(.ecdsa)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        key.precomputeSigningNonces(keeping: 200)
        let pool = try #require(key.precomputedNonces)
        try await waitUntilReady(pool, 200)

        var rs = Set<[UInt8]>()
        var last: [UInt8] = []
        for _ in 0..<200 {
            let nonce = try await take(pool)
            let signature = try #require(pool.sign(digest: SHA256.hash(data), with: nonce))
            #expect(signature.count == 64)
            #expect(Signature.verify(signature, of: data, with: publicKey))
            var tampered = data
            tampered[2] ^= 1
            #expect(!Signature.verify(signature, of: tampered, with: publicKey))
            rs.insert(Array(signature.prefix(32)))
            last = signature
        }
        // A repeated nonce would repeat r (and give the key away): 200 signatures, 200 values of r.
        #expect(rs.count == 200)
        #expect(pool.signaturesMade == 200)

        // An independent implementation agrees.
        let folder = try OpenSSLCLI.scratch()
        try Data(data).write(to: folder.appendingPathComponent("data.bin"))
        try Data(try key.publicKeyPEM()).write(to: folder.appendingPathComponent("key.pub.pem"))
        try Data(try Signature.derSignature(fromRaw: last)).write(to: folder.appendingPathComponent("data.sig"))
        let check = try OpenSSLCLI.run(["dgst", "-sha256", "-verify", "key.pub.pem", "-signature", "data.sig", "data.bin"], in: folder)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("Verified OK"))
        await key.precomputedNonces?.stopAndWait()
    }

    @Test("Signature.sign takes a ready nonce, signs the usual way when none is, and the pool refills itself")
    func signUsesThePool() async throws {
        let key = try PrivateKey.generate(.ecdsa)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        key.precomputeSigningNonces(keeping: 16)
        key.precomputeSigningNonces(keeping: 4096)   // a second call changes nothing
        let pool = try #require(key.precomputedNonces)
        #expect(pool.capacity == 16)
        try await waitUntilReady(pool, 16)

        for _ in 0..<10 {
            #expect(Signature.verify(try Signature.sign(data, with: key), of: data, with: publicKey))
        }
        // Each took a nonce. The thread is woken when half the pool is gone (by the 9th), so only the 10th may
        // find it adding one just then, and sign the usual way.
        let made = pool.signaturesMade
        #expect((9...10).contains(made))
        // Half the pool gone (by the 9th), the thread fills it up again in the background: to 16, or 15
        // if the 10th signature took one after that.
        try await waitUntilReady(pool, 15)

        // Stopped: nothing is ready, and signing goes on the usual way.
        await pool.stopAndWait()
        #expect(pool.readyCount == 0)
        #expect(pool.take() == nil)
        #expect(Signature.verify(try Signature.sign(data, with: key), of: data, with: publicKey))
        #expect(pool.signaturesMade == made)
    }

    @Test("a pool's thread, stopped without waiting as a key's deinit does, can then be waited for (as the exit handler does, before OpenSSL frees its state)")
    func stopThenWait() async throws {
        let key = try PrivateKey.generate(.ecdsa)
        key.precomputeSigningNonces(keeping: 1_000_000)   // filling takes long: the thread is busy when stopped
        let pool = try #require(key.precomputedNonces)
        try await waitUntilReady(pool, 10)
        #expect(pool.threadRunning)   // listed for the exit handler (SigningNonces.stopAllThreads)
        pool.stop()
        await pool.stopAndWait()
        #expect(!pool.threadRunning)
        #expect(pool.readyCount == 0)
        await pool.stopAndWait()   // once ended, waiting returns at once
    }

    @Test("only ECDSA keys keep nonces; RSA and SM2 sign as before", arguments: [KeyAlgorithm.rsa, .sm2])
    func otherAlgorithms(algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        key.precomputeSigningNonces(keeping: 16)
        #expect(key.precomputedNonces == nil)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        #expect(Signature.verify(try Signature.sign(data, with: key), of: data, with: publicKey))
    }
}
