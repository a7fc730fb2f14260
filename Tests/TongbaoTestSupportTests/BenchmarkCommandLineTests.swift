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
}
