import Foundation

/// A benchmark executable's command line: `--name value` options, flags, and the repository it was built
/// in (for the rule packs and calendars it loads).
///
/// A benchmark declares the options it knows; a mistyped or unknown one stops it with its usage before it
/// runs, rather than leaving it to measure the default silently (a `--concurency 64` run that measured 8
/// connections would be a wrong figure nobody notices).
public struct BenchmarkCommandLine: Sendable {
    /// What follows an option's name.
    public enum Value: Sendable, Equatable {
        /// Nothing: the option is a flag.
        case flag
        /// A whole number greater than zero.
        case count
        /// One of these words.
        case choice([String])
        /// Any text that is not empty, such as a folder.
        case text
    }

    /// The arguments, the executable's path first.
    public let arguments: [String]

    /// Reads `arguments` (by default the process's own) and exits when the benchmark should not run: for
    /// `--help` with `usage` on standard output and status 0; for an option not in `options`, an option
    /// without its value, or a value it does not take, with the problem and `usage` on standard error and
    /// status 64 (`EX_USAGE`).
    public init(usage: String, options: [String: Value], _ arguments: [String] = CommandLine.arguments) {
        self.arguments = arguments
        if arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
            print("usage: \(usage)")
            exit(0)
        }
        if let problem = Self.problem(in: arguments, options: options) {
            FileHandle.standardError.write(Data("\(problem)\nusage: \(usage)\n".utf8))
            exit(64)
        }
    }

    /// Why `arguments` (the executable's path first) cannot be run with `options`, or nil when they can.
    public static func problem(in arguments: [String], options: [String: Value]) -> String? {
        var rest = arguments.dropFirst()
        while let name = rest.popFirst() {
            guard let value = options[name] else { return "unknown option '\(name)'" }
            guard value != .flag else { continue }
            guard let given = rest.popFirst() else { return "\(name) needs a value" }
            if case .count = value, (Int(given) ?? 0) <= 0 {
                return "\(name) takes a whole number greater than zero, not '\(given)'"
            }
            if case .text = value, given.isEmpty {
                return "\(name) needs a value"
            }
            if case .choice(let words) = value, !words.contains(given) {
                return "\(name) takes \(words.joined(separator: " or ")), not '\(given)'"
            }
        }
        return nil
    }

    /// The text after `--name`, or `fallback` when the option is absent.
    public func text(_ name: String, _ fallback: String) -> String {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil } ?? fallback
    }

    /// The integer after `--name`, or `fallback` when the option is absent.
    public func int(_ name: String, _ fallback: Int) -> Int {
        Int(text(name, "")) ?? fallback
    }

    /// Whether `flag` was given.
    public func has(_ flag: String) -> Bool {
        arguments.contains(flag)
    }

    /// The repository root, for the rule packs, calendars and examples a benchmark loads, whatever the
    /// working directory: the nearest folder above the executable that holds this package (its
    /// `Package.swift` and `rules/`), which finds it under any build or scratch path; for an executable
    /// copied elsewhere, the repository this file was compiled in.
    public var repository: URL {
        let executable = URL(fileURLWithPath: arguments.first ?? ".").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        while folder.path != "/" {
            if Self.isRepository(folder) { return folder }
            folder = folder.deletingLastPathComponent()
        }
        return Self.compiledIn
    }

    /// The repository this file was compiled in (`Sources/TongbaoTestSupport/` below it).
    static var compiledIn: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func isRepository(_ folder: URL) -> Bool {
        let files = FileManager.default
        return files.fileExists(atPath: folder.appendingPathComponent("Package.swift").path)
            && files.fileExists(atPath: folder.appendingPathComponent("rules/packs").path)
    }
}
