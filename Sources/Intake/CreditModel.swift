import Bulletins
import StrictJSON

/// The credit model that turns an institution's personnel-score inputs into a score on a 100-point scale
/// and a grade (信用评级挂钩). The mapping is ours — no source document publishes one — and it is data:
/// `rules/credit/default.json`.
///
/// score = start − min(perScoredPerson × scored, scoredPersonsCap)
///               − min(perSuspendedPerson × suspended + perTerminatedPerson × terminated, sanctionsCap)
///               − overThreshold (when over the threshold) − keySupervision (when under key supervision),
/// at least 0; the grade is the first whose `min` the score reaches.
public struct CreditModel: Sendable, Equatable {
    /// A grade band.
    public struct Band: Sendable, Equatable {
        /// The grade.
        public var grade: CreditRatingBody.Grade
        /// The lowest score with this grade.
        public var min: Int
    }

    /// The model's name, carried in every `CreditRating`.
    public var name: String
    /// The score before deductions.
    public var start: Int
    /// Deductions by name (see the type's documentation).
    public var deductions: [String: Int]
    /// Grade bands, highest first.
    public var bands: [Band]

    static let deductionNames: Set<String> = [
        "perScoredPerson", "scoredPersonsCap", "perSuspendedPerson", "perTerminatedPerson", "sanctionsCap", "overThreshold", "keySupervision",
    ]

    /// Reads a model file; `source` names it in errors.
    public static func load(_ bytes: [UInt8], source: String) throws(JSONDecodingError) -> CreditModel {
        let root: JSONNode
        do {
            root = try JSONParser().parse(bytes)
        } catch {
            throw JSONDecodingError(pointer: "", line: error.line, message: "\(source): not valid JSON: \(error.message)")
        }
        let file = try JSONObject(root, pointer: "", allowedKeys: ["$schema", "model", "title", "start", "deductions", "grades"])
        let deductionsObject = try file.object("deductions", allowedKeys: deductionNames)
        var deductions: [String: Int] = [:]
        for name in deductionNames { deductions[name] = try deductionsObject.int(name, in: 0...100) }
        var bands: [Band] = []
        for element in try file.array("grades", maxCount: 5) {
            let band = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["grade", "min"])
            bands.append(Band(grade: try band.enumeration("grade"), min: try band.int("min", in: 0...100)))
        }
        guard bands.last?.min == 0, zip(bands, bands.dropFirst()).allSatisfy({ $0.min > $1.min }) else {
            throw file.error("grades", "grades must go from the highest minimum down to one with min 0")
        }
        return CreditModel(name: try file.string("model", maxLength: 64), start: try file.int("start", in: 0...100), deductions: deductions, bands: bands)
    }

    /// The score and grade for the inputs.
    public func rate(scoredPersons: Int, suspendedPersons: Int, terminatedPersons: Int, overThreshold: Bool, keySupervision: Bool) -> (score: Int, grade: CreditRatingBody.Grade) {
        func value(_ name: String) -> Int { deductions[name] ?? 0 }
        var score = start
        score -= min(value("perScoredPerson") * scoredPersons, value("scoredPersonsCap"))
        score -= min(value("perSuspendedPerson") * suspendedPersons + value("perTerminatedPerson") * terminatedPersons, value("sanctionsCap"))
        if overThreshold { score -= value("overThreshold") }
        if keySupervision { score -= value("keySupervision") }
        score = max(0, score)
        return (score, bands.first { score >= $0.min }?.grade ?? .d)
    }
}
