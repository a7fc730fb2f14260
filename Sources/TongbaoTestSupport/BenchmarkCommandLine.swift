import Foundation

/// A benchmark executable's command line: `--name value` options, flags, and the repository it was built
/// in (for the rule packs and calendars it loads).
public struct BenchmarkCommandLine: Sendable {
    /// The arguments, the executable's path first.
    public let arguments: [String]

    /// Reads `arguments` (by default the process's own).
    public init(_ arguments: [String] = CommandLine.arguments) {
        self.arguments = arguments
    }

    /// The text after `--name`, or `fallback` when the option is absent.
    public func text(_ name: String, _ fallback: String) -> String {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil } ?? fallback
    }

    /// The integer after `--name`, or `fallback` when the option is absent or not a number.
    public func int(_ name: String, _ fallback: Int) -> Int {
        Int(text(name, "")) ?? fallback
    }

    /// Whether `flag` was given.
    public func has(_ flag: String) -> Bool {
        arguments.contains(flag)
    }

    /// The repository root: benchmark executables live in `.build/<triple>/<configuration>/` below it.
    public var repository: URL {
        let executable = URL(fileURLWithPath: arguments.first ?? ".").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
