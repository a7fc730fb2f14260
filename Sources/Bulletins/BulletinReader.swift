import StrictJSON
import XMLSupport

/// The encoding a bulletin arrived in.
public enum BulletinEncoding: String, Sendable {
    case json, xml
}

/// A bulletin read from bytes, with the tree it was decoded from (for converting and locating).
public struct ParsedBulletin {
    /// The bulletin.
    public let bulletin: Bulletin
    /// The JSON tree of the bulletin (for XML input, converted from the XML; lines are the input's).
    public let tree: JSONNode
    /// The encoding of the input.
    public let encoding: BulletinEncoding
}

/// Reads bulletins in either encoding: JSON (checked against the shapes, then decoded) or XML (parsed
/// hardened, validated against the XSD, converted, then decoded through the same model).
/// Immutable after creation, and safe to share across threads (see ``XMLSchema``).
public final class BulletinReader: @unchecked Sendable {
    private let schema: XMLSchema

    /// Creates a reader; compiles the XSD generated from ``BulletinShapes`` (the text of `schemas/bulletin.xsd`).
    public init() throws(BulletinError) {
        do {
            schema = try XMLSchema(text: SchemaWriter.xsd())
        } catch {
            throw BulletinError(code: .schemaUnavailable, pointer: "", line: 1, message: error.message)
        }
    }

    /// The encoding of `bytes`: XML when the first non-blank byte is `<`, JSON when it is `{`.
    public static func encoding(of bytes: [UInt8]) -> BulletinEncoding? {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        switch first {
        case UInt8(ascii: "<"): return .xml
        case UInt8(ascii: "{"): return .json
        default: return nil
        }
    }

    /// Reads one bulletin; throws the first problem.
    public func read(_ bytes: [UInt8]) throws(BulletinError) -> ParsedBulletin {
        switch Self.encoding(of: bytes) {
        case .json?:
            guard bytes.count <= BulletinJSONDecoder.maxBytes else {
                throw BulletinError(code: .tooLarge, pointer: "", line: 1, message: "bulletin larger than \(BulletinJSONDecoder.maxBytes) bytes")
            }
            let tree: JSONNode
            do {
                tree = try JSONParser(limits: JSONLimits(maxDepth: 16, maxStringBytes: 16 * 1024, maxContainerCount: 100_000)).parse(bytes)
            } catch {
                throw BulletinError(code: .malformed, pointer: "", line: error.line, message: "not valid JSON: \(error.message) (column \(error.column))")
            }
            return ParsedBulletin(bulletin: try BulletinJSONDecoder.bulletin(fromTree: tree), tree: tree, encoding: .json)
        case .xml?:
            let problems = xmlProblems(bytes)
            if let first = problems.errors.first { throw first }
            guard let parsed = problems.parsed else {
                throw BulletinError(code: .malformed, pointer: "", line: 1, message: "not a bulletin")
            }
            return parsed
        case nil:
            throw BulletinError(code: .malformed, pointer: "", line: 1, message: "neither XML (starts with <) nor JSON (starts with {)")
        }
    }

    /// Every problem of an input (for XML, every schema violation; for JSON, the first), empty when valid.
    public func problems(_ bytes: [UInt8]) -> [BulletinError] {
        if Self.encoding(of: bytes) == .xml { return xmlProblems(bytes).errors }
        do {
            _ = try read(bytes)
            return []
        } catch {
            return [error]
        }
    }

    private func xmlProblems(_ bytes: [UInt8]) -> (parsed: ParsedBulletin?, errors: [BulletinError]) {
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: bytes)
        } catch {
            let code: BulletinError.Code = switch error.code {
            case .dtdForbidden: .dtdForbidden
            case .tooDeep: .tooDeep
            case .tooLarge: .tooLarge
            default: .malformed
            }
            return (nil, [BulletinError(code: code, pointer: "", line: error.line ?? 1, message: error.message, path: error.path)])
        }
        let violations = schema.validate(document)
        guard violations.isEmpty else {
            return (nil, violations.map {
                BulletinError(code: .schemaInvalid, pointer: "", line: $0.line ?? 1, message: $0.message, path: $0.path ?? "/Bulletin")
            })
        }
        do {
            let tree = try BulletinXML.jsonTree(from: document)
            do {
                return (ParsedBulletin(bulletin: try BulletinJSONDecoder.bulletin(fromTree: tree), tree: tree, encoding: .xml), [])
            } catch {
                let type = Self.type(in: tree)
                return (nil, [BulletinError(code: error.code, pointer: error.pointer, line: error.line, message: error.message,
                                            path: BulletinXML.xpath(for: error.pointer, type: type))])
            }
        } catch {
            return (nil, [error])
        }
    }

    private static func type(in tree: JSONNode) -> String? {
        guard case .object(let members) = tree.value, let node = members.first(where: { $0.key == "type" })?.node,
              case .string(let type) = node.value else { return nil }
        return type
    }
}
