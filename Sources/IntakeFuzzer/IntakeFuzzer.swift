import BulletinVerification
import Foundation

// The intake fuzz target (libFuzzer). Built with `-sanitize=fuzzer -D FUZZING` by `.ci/fuzz`, the entry
// point hands over to libFuzzer's driver, which calls `LLVMFuzzerTestOneInput` with each input; built
// normally, it replays the files given on the command line, one line of outcome each.

/// The trust store: `$TONGBAO_FUZZ_TRUST`, else `certs/test-trust` under the current folder.
let harness: IntakeFuzzing? = {
    let trust = ProcessInfo.processInfo.environment["TONGBAO_FUZZ_TRUST"] ?? "certs/test-trust"
    return try? IntakeFuzzing(trustDirectory: trust, now: Int(Date().timeIntervalSince1970))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let harness else {
        FileHandle.standardError.write(Data("IntakeFuzzer: cannot read the trust store (run from the repository or set TONGBAO_FUZZ_TRUST)\n".utf8))
        exit(2)
    }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    harness.check(bytes)
    // A disagreement of the two JSON paths is a bug to report, as a crash is: stop with the input.
    if !harness.fastPathAgrees(bytes) { preconditionFailure("the one-pass JSON reader accepted what the full path reads otherwise") }
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable target's entry point as `main` under this name; libFuzzer's own `main` is
/// therefore not used, and its driver is called instead.
@_cdecl("IntakeFuzzer_main")
func fuzzerEntryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
#else
@main
struct IntakeFuzzerReplay {
    static func main() throws {
        guard let harness else {
            FileHandle.standardError.write(Data("IntakeFuzzer: cannot read the trust store (run from the repository or set TONGBAO_FUZZ_TRUST)\n".utf8))
            exit(2)
        }
        for path in CommandLine.arguments.dropFirst() {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            print("\(path): \(harness.check(bytes))" + (harness.fastPathAgrees(bytes) ? "" : ", one-pass reader disagrees"))
        }
    }
}
#endif
