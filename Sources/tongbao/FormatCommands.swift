import ArgumentParser
import Bulletins
import Foundation
import StrictJSON

/// Reads a whole input file (`-` is stdin), refusing more than `limit` bytes.
/// Reads the gateway's private key file, refusing one that others may read (as ssh does): a key anyone on
/// the machine can copy signs receipts and referrals for the gateway. (Participants' keys given to `sign`
/// and `submit` are read as they are: the repository's test fixtures among them.)
func readPrivateKey(_ path: String) throws(CLIError) -> [UInt8] {
    var status = stat()
    if path != "-", stat(path, &status) == 0, status.st_mode & 0o077 != 0 {
        throw CLIError.data("\(path): the private key is readable by others (mode \(String(status.st_mode & 0o777, radix: 8))); make it the owner's only: chmod 600 \(path)")
    }
    return try readInput(path)
}

func readInput(_ path: String, limit: Int = 1 << 20) throws(CLIError) -> [UInt8] {
    let handle: FileHandle
    if path == "-" {
        handle = FileHandle.standardInput
    } else {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError.io("\(path): no such file")
        }
        guard let opened = FileHandle(forReadingAtPath: path) else { throw CLIError.io("\(path): cannot open for reading") }
        handle = opened
    }
    do {
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else {
            throw CLIError.data("\(path):1: /: larger than \(limit) bytes [too-large]")
        }
        return Array(data)
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError.io("\(path): read failed: \(error.localizedDescription)")
    }
}

/// `tongbao validate`: checks bulletins against the schemas.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check bulletins (XML or JSON) against the schemas and the bulletin rules.",
        discussion: """
            Prints `FILE: ok TYPE ENCODING` for each valid file; for each problem, one line on stderr:
            `FILE:LINE: WHERE: problem [code]`, WHERE being the XPath (XML) or JSON pointer (JSON).
            Exit 0 when every file is valid, else 65.
            """)

    @Argument(help: "Bulletin files; - reads standard input.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one bulletin file") }
    }

    func run() throws {
        try runReportingErrors("validate") {
            let reader: BulletinReader
            do throws(BulletinError) {
                reader = try BulletinReader()
            } catch {
                throw CLIError.io(error.description)
            }
            var invalid = false
            for path in files {
                let name = path == "-" ? "<stdin>" : path
                let bytes: [UInt8]
                do {
                    bytes = try readInput(path)
                } catch let error as CLIError where error.exitCode == 65 {
                    invalid = true
                    StandardError.write("\(error.description)\n")
                    continue
                }
                let problems = reader.problems(bytes)
                if problems.isEmpty, let parsed = try? reader.read(bytes) {
                    print("\(name): ok \(parsed.bulletin.type.rawValue) \(parsed.encoding.rawValue)")
                } else {
                    invalid = true
                    for problem in problems {
                        StandardError.write("\(name):\(problem.line): \(problem.location): \(problem.message) [\(problem.code)]\n")
                    }
                }
            }
            if invalid { throw ExitCode(65) }
        }
    }
}

/// `tongbao convert`: prints a bulletin in the other encoding.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Print a bulletin in the other encoding (XML ⇄ JSON), losslessly; a signature is dropped.")

    enum Encoding: String, ExpressibleByArgument, CaseIterable {
        case xml, json
    }

    @Option(help: "The encoding to print: xml or json.")
    var to: Encoding

    @Argument(help: "A bulletin file; - reads standard input.")
    var file: String

    func run() throws {
        try runReportingErrors("convert") {
            let bytes = try readInput(file)
            let parsed: ParsedBulletin
            do throws(BulletinError) {
                parsed = try BulletinReader().read(bytes)
            } catch {
                throw CLIError.data("\(file == "-" ? "<stdin>" : file):\(error.line): \(error.location): \(error.message) [\(error.code)]")
            }
            switch to {
            case .json:
                print(JSONWriter.pretty(parsed.tree), terminator: "")
            case .xml:
                do throws(BulletinError) {
                    print(try BulletinXML.xml(from: parsed.tree), terminator: "")
                } catch {
                    throw CLIError.data("\(file):\(error.line): \(error.location): \(error.message) [\(error.code)]")
                }
            }
        }
    }
}

/// `tongbao schemas`: writes the normative schemas generated from the bulletin shapes.
struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas",
        abstract: "Write schemas/bulletin.schema.json and schemas/bulletin.xsd, generated from the bulletin shapes.")

    @Option(help: "The folder to write into.")
    var out: String = "schemas"

    func run() throws {
        try runReportingErrors("schemas") {
            let folder = URL(fileURLWithPath: out)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(SchemaWriter.jsonSchema().utf8).write(to: folder.appendingPathComponent("bulletin.schema.json"))
                try Data(SchemaWriter.xsd().utf8).write(to: folder.appendingPathComponent("bulletin.xsd"))
            } catch {
                throw CLIError.io("cannot write into \(out): \(error.localizedDescription)")
            }
            print("wrote \(out)/bulletin.schema.json and \(out)/bulletin.xsd")
        }
    }
}
