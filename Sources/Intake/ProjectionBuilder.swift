import Bulletins
import Ledger
import Scoring
import Trust

/// Rebuilds the scoring facts from the message log, the source of truth: the gateway does it at start,
/// `tongbao ledger rebuild` does it on demand, with this one code.
public enum ProjectionBuilder {
    /// The scoring facts of every accepted bulletin of `log`, in log order.
    public static func facts(from log: any LedgerStore, packs: [String: RulePack], defaultPack: String) async throws -> [Fact] {
        var facts: [Fact] = []
        try await forEachAccepted(in: log, packs: packs, defaultPack: defaultPack) { _, fact in
            if let fact { facts.append(fact) }
        }
        return facts
    }

    /// Calls `body` with every accepted bulletin of `log` and its scoring fact, and every referral the
    /// gateway issued, in log order.
    public static func forEachAccepted(in log: any LedgerStore, packs: [String: RulePack], defaultPack: String,
                                       _ body: (Bulletin, Fact?) throws -> Void) async throws {
        let reader = try BulletinReader()
        var position = 0
        while true {
            let batch = try await log.entries(after: position, limit: 1000)
            guard let last = batch.last else { break }
            for entry in batch {
                guard let (bulletin, fact) = try read(entry, reader: reader, packs: packs, defaultPack: defaultPack) else { continue }
                try body(bulletin, fact)
            }
            position = last.position
        }
    }

    /// The bulletin and fact of an accepted entry, or of a `Referral` the gateway issued (a fact of the
    /// person's file and of the deadlines); nil for rejected entries and the other issued ones.
    static func read(_ entry: LogEntry, reader: BulletinReader, packs: [String: RulePack], defaultPack: String) throws -> (Bulletin, Fact?)? {
        switch entry.content.outcome {
        case .accepted: break
        case .issued where entry.content.type == BulletinType.referral.rawValue: break
        default: return nil
        }
        let bulletin = try self.bulletin(of: entry, reader: reader)
        return (bulletin, try packs[bulletin.rules ?? defaultPack].flatMap { pack in
            try bulletin.fact(under: pack, receivedAt: entry.content.receivedAt, position: entry.position)
        })
    }

    /// The signed content of a logged entry, read again (its bytes were verified before they were logged).
    static func bulletin(of entry: LogEntry, reader: BulletinReader) throws -> Bulletin {
        let bytes = BulletinReader.encoding(of: entry.content.bytes) == .xml
            ? entry.content.bytes : (JWS.unverifiedPayload(entry.content.bytes) ?? [])
        return try reader.read(bytes).bulletin
    }

    /// The projections on `date`: one line per person (as `tongbao replay`), then one per institution (as
    /// `tongbao indicators`), sorted; the same log always gives the same bytes.
    public static func projections(of facts: [Fact], scorer: Scorer, on date: CalendarDate) throws(ScoringError) -> String {
        let evaluation = try scorer.evaluate(facts, asOf: date)
        let lines = evaluation.persons.map { ReplayLine.render($0, explain: false) } + evaluation.institutions.map(IndicatorLine.render)
        return lines.map { $0 + "\n" }.joined()
    }
}
