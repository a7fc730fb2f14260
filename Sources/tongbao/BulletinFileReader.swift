import Foundation

/// Reads the bulletins of one input file: a single JSON document, or JSON Lines (one bulletin per
/// line), streamed in blocks so that large inputs never sit in memory whole.
///
/// A file is JSON Lines when its first non-blank line is a complete object on its own (`{…}`);
/// otherwise the whole file is one document (pretty-printed JSON, or XML).
struct BulletinFileReader {
    /// The largest single-document file accepted.
    static let maxDocumentBytes = 1 << 20

    /// The name used in messages (`<stdin>` for `-`).
    let name: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private var lineNumber = 0

    init(path: String) throws(CLIError) {
        if path == "-" {
            name = "<stdin>"
            handle = FileHandle.standardInput
            return
        }
        name = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError.io("\(path): no such file")
        }
        guard let opened = FileHandle(forReadingAtPath: path) else { throw CLIError.io("\(path): cannot open for reading") }
        handle = opened
    }

    /// Calls `body` with each bulletin's bytes and the line it starts on.
    mutating func forEachDocument(_ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        while let (line, number) = try nextLine() {
            guard let first = line.firstIndex(where: { !Self.isBlank($0) }) else { continue }
            let last = line.lastIndex(where: { !Self.isBlank($0) }) ?? first
            if line[first] == UInt8(ascii: "{"), line[last] == UInt8(ascii: "}") {
                try body(line, number)
                while let (next, nextNumber) = try nextLine() {
                    guard next.contains(where: { !Self.isBlank($0) }) else { continue }
                    try body(next, nextNumber)
                }
                return
            }
            // One document: a pretty-printed JSON bulletin, or an XML bulletin.
            var document = Array(line)
            document.append(0x0A)
            while let (next, _) = try nextLine() {
                document.append(contentsOf: next)
                document.append(0x0A)
                guard document.count <= Self.maxDocumentBytes else {
                    throw CLIError.data("\(name):\(number): bulletin larger than \(Self.maxDocumentBytes) bytes [too-large]")
                }
            }
            try body(document[...], number)
            return
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// The next line without its newline, and its 1-based number.
    private mutating func nextLine() throws(CLIError) -> (ArraySlice<UInt8>, Int)? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                let line = buffer[position..<newline]
                position = newline + 1
                lineNumber += 1
                return (line, lineNumber)
            }
            if finished {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count
                lineNumber += 1
                return (line, lineNumber)
            }
            try fill()
        }
    }

    private mutating func fill() throws(CLIError) {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        guard buffer.count <= 4 * Self.maxDocumentBytes else {
            throw CLIError.data("\(name):\(lineNumber + 1): line longer than \(4 * Self.maxDocumentBytes) bytes")
        }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: 1 << 20)
        } catch {
            throw CLIError.io("\(name): read failed: \(error.localizedDescription)")
        }
        guard let chunk, !chunk.isEmpty else {
            finished = true
            return
        }
        buffer.append(contentsOf: chunk)
    }
}
