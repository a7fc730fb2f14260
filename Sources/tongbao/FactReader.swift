import Bulletins
import Foundation
import ParallelWork
import Scoring
import Synchronization

/// Reads the scoring facts of bulletin files for `replay`, `indicators` and the other scoring commands.
///
/// Documents are gathered in batches and each batch is decoded on every core; the outcomes are then
/// taken in input order, so facts, notes and problems come out exactly as a one-by-one read would give
/// them (the first 50 problems, in file and line order).
struct FactReader {
    /// Documents decoded together; large enough to keep every core busy, small enough to bound memory.
    static let batchSize = 16_384
    /// Problems collected before giving up.
    static let maxProblems = 50

    let pack: RulePack
    let command: String
    /// How many pieces a batch is cut into (one per core is enough; a few more even out uneven pieces).
    let pieces = max(1, ProcessInfo.processInfo.activeProcessorCount * 4)

    /// What one document gave.
    enum Outcome {
        case fact(Fact)
        case ignored(line: Int, type: String)
        case problem(String)
    }

    /// Reads every file; throws exit 65 with the problems found (up to 50), else returns the facts.
    func read(_ paths: [String], progress: Progress) throws -> [Fact] {
        let decoder = DocumentDecoder(pack: pack)
        var facts: [Fact] = []
        var problems: [String] = []
        for path in paths {
            var reader = try BulletinFileReader(path: path)
            let name = reader.name
            var batch = DocumentBatch()
            func flush() {
                for outcome in decode(batch, decoder: decoder, file: name) {
                    // As a one-by-one read: nothing after the 50th problem is taken or said.
                    guard problems.count < Self.maxProblems else { break }
                    switch outcome {
                    case .fact(let fact): facts.append(fact)
                    case .ignored(let line, let type):
                        StandardError.write("tongbao \(command): ignored \(name):\(line): a \(type) is not a scoring fact\n")
                    case .problem(let problem): problems.append(problem)
                    }
                }
                batch.removeAll()
                progress.message("\(command): \(facts.count) bulletins read…")
            }
            try reader.forEachDocument { bytes, line in
                guard problems.count < Self.maxProblems else { return }
                batch.append(bytes, line: line)
                if batch.count >= Self.batchSize { flush() }
            }
            if problems.count < Self.maxProblems { flush() }
        }
        progress.finish()
        guard problems.isEmpty else {
            let separator = "\ntongbao \(command): "
            throw CLIError.data(problems.joined(separator: separator) + (problems.count >= Self.maxProblems ? separator + "(stopped after 50 problems)" : ""))
        }
        return facts
    }

    /// Decodes a batch on every core; the outcomes are in the batch's order.
    private func decode(_ batch: DocumentBatch, decoder: DocumentDecoder, file: String) -> [Outcome] {
        let count = batch.count
        guard count > 0 else { return [] }
        let pieces = min(self.pieces, count)
        let results = Parallel.map(pieces: pieces) { piece in
            Parallel.range(of: piece, count: count, pieces: pieces).map { index in
                decoder.decode(batch.document(index), line: batch.line(index), file: file)
            }
        }
        return results.flatMap { $0 }
    }
}

/// Documents copied out of the file reader's buffer, back to back, with the line each starts on.
struct DocumentBatch {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var lines: [Int] = []

    var count: Int { ends.count }

    mutating func append(_ document: ArraySlice<UInt8>, line: Int) {
        bytes.append(contentsOf: document)
        ends.append(bytes.count)
        lines.append(line)
    }

    func document(_ index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    func line(_ index: Int) -> Int { lines[index] }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
    }
}

/// Turns one document (JSON, or XML through the schema) into a fact under the pack. Safe to use from
/// several threads at once: the XML reader is made once, on first use, under a lock.
struct DocumentDecoder: Sendable {
    let pack: RulePack
    private let json = BulletinJSONDecoder()
    private let xml = LazyXMLReader()

    init(pack: RulePack) { self.pack = pack }

    func decode(_ bytes: ArraySlice<UInt8>, line: Int, file: String) -> FactReader.Outcome {
        do {
            let bulletin: Bulletin
            if bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) == UInt8(ascii: "<") {
                bulletin = try xml.reader().read(Array(bytes)).bulletin
            } else {
                bulletin = try json.decode(bytes, firstLine: line)
            }
            guard let fact = try bulletin.fact(under: pack, line: line) else {
                return .ignored(line: line, type: bulletin.type.rawValue)
            }
            return .fact(fact)
        } catch {
            let where_ = error.code == .rulesInvalid
                ? BulletinJSONDecoder.line(of: error.pointer, in: bytes, firstLine: line) ?? error.line
                : error.line
            return .problem("\(file):\(where_): \(error.location): \(error.message) [\(error.code)]")
        }
    }
}

/// The XML bulletin reader, compiled from the schema only when an XML document shows up.
final class LazyXMLReader: Sendable {
    private let made = Mutex<Result<BulletinReader, BulletinError>?>(nil)

    func reader() throws(BulletinError) -> BulletinReader {
        let result = made.withLock { made in
            if let made { return made }
            let result: Result<BulletinReader, BulletinError>
            do throws(BulletinError) { result = .success(try BulletinReader()) } catch { result = .failure(error) }
            made = result
            return result
        }
        return try result.get()
    }
}
