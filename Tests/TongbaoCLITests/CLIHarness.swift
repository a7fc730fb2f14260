import Foundation

/// Runs the built `tongbao` executable as a user would, capturing exit code, stdout and stderr.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The executable next to the test bundle (the same build), else the checkout's debug build.
    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent().appendingPathComponent("tongbao")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        for folder in [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("tongbao")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return repository.appendingPathComponent(".build/debug/tongbao")
    }

    /// Runs `tongbao ARGS` in a scratch folder (so the checkout's rules/ is found through the executable,
    /// not the working directory), feeding `stdin`.
    static func run(_ arguments: [String], stdin: String = "", in directory: URL? = nil, executable: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable ?? Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repository
        var environment = ProcessInfo.processInfo.environment
        environment["TONGBAO_RULES_DIR"] = repository.appendingPathComponent("rules").path
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs like ``run(_:stdin:in:executable:)``, again every 100 ms for up to 20 s while the gateway it talks
    /// to is still starting (a connection refused).
    static func run(_ arguments: [String], retryingUntilServerIsUp: Bool) throws -> Result {
        var result = try run(arguments)
        var tries = 0
        while retryingUntilServerIsUp, result.status != 0, tries < 200,
              (result.stdout + result.stderr).localizedCaseInsensitiveContains("refused") || (result.stdout + result.stderr).contains("connect") {
            Thread.sleep(forTimeInterval: 0.1)
            tries += 1
            result = try run(arguments)
        }
        return result
    }

    /// Writes `text` to a new temporary file and returns its path.
    static func file(_ text: String, name: String = "input.jsonl") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func example(_ path: String) -> String { repository.appendingPathComponent(path).path }
}
