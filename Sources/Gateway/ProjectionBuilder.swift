import Bulletins
import Ledger
import Scoring
import Trust

/// Rebuilds the scoring facts from the message log, the source of truth: the gateway does it at start,
/// `tongbao ledger rebuild` does it on demand, with this one code.
public enum ProjectionBuilder {
    /// The scoring facts of every accepted bulletin of `log`, in log order.
    public static func facts(from log: any MessageLog, packs: [String: RulePack], defaultPack: String) throws -> [Fact] {
        let reader = try BulletinReader()
        var facts: [Fact] = []
        var position = 0
        while true {
            let batch = try log.entries(after: position, limit: 1000)
            guard let last = batch.last else { break }
            for entry in batch where entry.content.outcome == "accepted" {
                // The bytes were verified before they were logged; read the signed content again.
                let bytes = BulletinReader.encoding(of: entry.content.bytes) == .xml
                    ? entry.content.bytes : (JWS.unverifiedPayload(entry.content.bytes) ?? [])
                let bulletin = try reader.read(bytes).bulletin
                if let pack = packs[bulletin.rules ?? defaultPack], let fact = try bulletin.fact(under: pack) {
                    facts.append(fact)
                }
            }
            position = last.position
        }
        return facts
    }

    /// The projections on `date`: one line per person (as `tongbao replay`), then one per institution (as
    /// `tongbao indicators`), sorted; the same log always gives the same bytes.
    public static func projections(of facts: [Fact], scorer: Scorer, on date: CalendarDate) throws(ScoringError) -> String {
        let evaluation = try scorer.evaluate(facts, asOf: date)
        let lines = evaluation.persons.map { ReplayLine.render($0, explain: false) } + evaluation.institutions.map(IndicatorLine.render)
        return lines.map { $0 + "\n" }.joined()
    }
}
