import Foundation

/// Runs an external program (openssl, xmlsec1, xmllint, python3) as an independent implementation in tests.
public enum ExternalCommand {
    /// The exit status and the combined standard output and error.
    public struct Result: Sendable {
        /// The exit status.
        public let status: Int32
        /// Standard output and standard error, interleaved.
        public let output: String
    }

    /// Runs `executable` (looked up on PATH) with `arguments` in `folder`.
    public static func run(_ executable: String, _ arguments: [String], in folder: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let folder { process.currentDirectoryURL = folder }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs like ``run(_:_:in:)`` but with output to `logFile` instead of a pipe: for a program that leaves
    /// a daemon behind (`pg_ctl start`), which would hold a pipe open after the program itself has exited.
    public static func run(_ executable: String, _ arguments: [String], in folder: URL? = nil, logFile: URL) throws -> Result {
        let (process, handle) = try prepared(executable, arguments, in: folder, logFile: logFile)
        defer { try? handle.close() }
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
    }

    /// Runs `executable` without holding a thread while it runs (its output goes to a file, its exit resumes
    /// the caller), for programs that talk to a server in the same process; killed after `timeout`.
    public static func run(_ executable: String, _ arguments: [String], in folder: URL? = nil, timeout: Duration) async throws -> Result {
        let logFile = try scratchFolder("tongbao-command").appendingPathComponent("output.log")
        let (process, handle) = try prepared(executable, arguments, in: folder, logFile: logFile)
        defer { try? handle.close() }
        let (exits, exited) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { exited.yield($0.terminationStatus); exited.finish() }
        try process.run()
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        var status: Int32 = -1
        for await code in exits { status = code }
        watchdog.cancel()
        return Result(status: status, output: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
    }

    /// `executable` (looked up on PATH) set up to run in `folder` with no input and its output to `logFile`.
    private static func prepared(_ executable: String, _ arguments: [String], in folder: URL?, logFile: URL) throws -> (Process, FileHandle) {
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let folder { process.currentDirectoryURL = folder }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        return (process, handle)
    }

    /// A new, empty temporary folder.
    public static func scratchFolder(_ prefix: String = "tongbao") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
