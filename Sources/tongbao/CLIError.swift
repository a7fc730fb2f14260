import ArgumentParser
import Foundation

/// A command-line failure with its exit code (cli.md): 1 check failed, 64 usage, 65 bad data, 74 I/O.
struct CLIError: Error, CustomStringConvertible {
    let exitCode: Int32
    let description: String

    static func usage(_ message: String) -> CLIError { CLIError(exitCode: 64, description: message) }
    static func data(_ message: String) -> CLIError { CLIError(exitCode: 65, description: message) }
    static func io(_ message: String) -> CLIError { CLIError(exitCode: 74, description: message) }
}

/// Runs a command body, turning a ``CLIError`` into its message on stderr and its exit code.
func runReportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CLIError {
        StandardError.write("tongbao \(command): \(error.description)\n")
        throw ExitCode(error.exitCode)
    }
}

/// ``runReportingErrors(_:_:)`` for an async body.
func runReportingErrors(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        StandardError.write("tongbao \(command): \(error.description)\n")
        throw ExitCode(error.exitCode)
    }
}

/// Unbuffered writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Whether standard error is a terminal (progress is shown only then).
    static var isTerminal: Bool { isatty(2) == 1 }
}

/// Buffered writes to standard output, flushed in large blocks.
struct StandardOutput {
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 16) }

    mutating func writeLine(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes text that already holds whole lines.
    mutating func write(_ lines: [UInt8]) {
        buffer.append(contentsOf: lines)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
