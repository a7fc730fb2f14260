import Foundation
import Testing

/// No `.wait()` and no other blocking call on an event loop or Swift's cooperative pool anywhere in
/// `Sources/`: a scan of the code, so that one coming back fails the suite. What must block does so on a
/// thread of its own, and is listed below with the reason.
@Suite("no blocking calls in Sources/")
struct NoBlockingCallsTests {
    /// Calls that block the calling thread until something else happens.
    static let blocking = [".wait()", "Thread.sleep", "usleep(", " sleep(", "waitUntilExit", "readDataToEndOfFile", "syncShutdownGracefully",
                           "DispatchGroup", "concurrentPerform", ".wait(timeout", "DispatchSemaphore", "pthread_cond_wait"]

    /// The places allowed to block, by file and the text of the line, with why it blocks no shared thread.
    static let allowed: [(file: String, line: String, reason: String)] = [
        ("Sources/ThreadParking/Parking.swift", "pthread_cond_wait", "the one place the project's own threads (serial threads, the WAL checkpointer, the nonce thread) sleep until there is work; it returns at once when called from a Swift task"),
        ("Sources/ParallelWork/Parallel.swift", "concurrentPerform", "CPU work split over the cores; the calling thread takes a share and waits for no I/O"),
        ("Sources/TongbaoTestSupport/ExternalCommand.swift", "waitUntilExit", "test support: runs external programs for the tests, never in the gateway"),
        ("Sources/TongbaoTestSupport/ExternalCommand.swift", "readDataToEndOfFile", "test support: reads an external program's output for the tests"),
    ]

    @Test("every blocking call in Sources/ is on the allow-list, and every allow-list entry is still needed")
    func scan() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = repository.appendingPathComponent("Sources")
        var found: [(file: String, line: String)] = []
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let url as URL in files where url.pathExtension == "swift" {
            let file = String(url.path.dropFirst(repository.path.count + 1))
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard !code.hasPrefix("//") else { continue }
                let beforeComment = code.components(separatedBy: "//").first ?? code
                if Self.blocking.contains(where: { beforeComment.contains($0) }) { found.append((file, beforeComment)) }
            }
        }
        #expect(!found.isEmpty, "the scan read no code: \(sources.path)")
        for place in found {
            #expect(Self.allowed.contains { place.file == $0.file && place.line.contains($0.line) },
                    "a blocking call in \(place.file): \(place.line) — make it async, or move it to a thread of its own and list it here with the reason")
        }
        for entry in Self.allowed {
            #expect(found.contains { $0.file == entry.file && $0.line.contains(entry.line) }, "no longer needed on the allow-list: \(entry.file) \(entry.line)")
        }
    }
}
