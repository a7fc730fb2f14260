import Foundation
import Testing
import TongbaoTestSupport

/// A benchmark's command line is checked before it runs: a mistyped option must stop it, not leave it to
/// measure its default.
@Suite struct BenchmarkCommandLineTests {
    let options: [String: BenchmarkCommandLine.Value] = [
        "--bulletins": .count, "--store": .choice(["sqlite", "postgres"]), "--intake-only": .flag,
    ]

    func problem(_ arguments: String...) -> String? {
        BenchmarkCommandLine.problem(in: ["GatewayBenchmark"] + arguments, options: options)
    }

    @Test func declaredOptionsInAnyOrderPass() {
        #expect(problem() == nil)
        #expect(problem("--intake-only", "--bulletins", "12000", "--store", "postgres") == nil)
        #expect(problem("--store", "sqlite", "--intake-only") == nil)
    }

    @Test func anUnknownOrMistypedOptionIsNamed() {
        #expect(problem("--bulletin", "12000") == "unknown option '--bulletin'")
        #expect(problem("--intake-only", "12000") == "unknown option '12000'")
    }

    @Test func anOptionWithoutItsValueIsNamed() {
        #expect(problem("--intake-only", "--bulletins") == "--bulletins needs a value")
    }

    @Test func aCountMustBeAWholeNumberAboveZero() {
        #expect(problem("--bulletins", "12k") == "--bulletins takes a whole number greater than zero, not '12k'")
        #expect(problem("--bulletins", "0") == "--bulletins takes a whole number greater than zero, not '0'")
        #expect(problem("--bulletins", "-5") == "--bulletins takes a whole number greater than zero, not '-5'")
    }

    @Test func aChoiceMustBeOneOfItsWords() {
        #expect(problem("--store", "postgresql") == "--store takes sqlite or postgres, not 'postgresql'")
    }

    @Test func valuesAreReadAfterTheCheck() {
        let commandLine = BenchmarkCommandLine(usage: "GatewayBenchmark", options: options, ["GatewayBenchmark", "--bulletins", "12000"])
        #expect(commandLine.int("--bulletins", 4000) == 12000)
        #expect(commandLine.text("--store", "sqlite") == "sqlite")
        #expect(!commandLine.has("--intake-only"))
    }

    @Test func aTextOptionNeedsAValue() {
        let withFolder: [String: BenchmarkCommandLine.Value] = ["--keep": .text]
        #expect(BenchmarkCommandLine.problem(in: ["ReplayBenchmark", "--keep", "/tmp/x"], options: withFolder) == nil)
        #expect(BenchmarkCommandLine.problem(in: ["ReplayBenchmark", "--keep", ""], options: withFolder) == "--keep needs a value")
    }

    /// The repository is found from the executable's place, not the working directory: under the usual
    /// `.build/<triple>/release/`, under another scratch path, and (by where it was compiled) for a copy
    /// outside any checkout.
    @Test func theRepositoryIsFoundFromAnyWorkingDirectory() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        func found(_ executable: String) -> String {
            BenchmarkCommandLine(usage: "X", options: [:], [executable]).repository.standardizedFileURL.path
        }
        let expected = repository.standardizedFileURL.path
        #expect(found(repository.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release/GatewayBenchmark").path) == expected)
        #expect(found(repository.appendingPathComponent(".build-bench/scratch/deeper/release/ProofBenchmark").path) == expected)
        #expect(found("/usr/local/bin/ProofBenchmark") == expected)
        #expect(FileManager.default.fileExists(atPath: URL(fileURLWithPath: found("/nowhere/X")).appendingPathComponent("rules/packs/national.json").path))
    }
}
