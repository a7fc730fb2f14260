import Bulletins
import Scoring
import StrictJSON
import Synchronization

/// What the accepted bulletins say about persons and institutions beyond the scoring facts: names,
/// categories, institution kinds, where each person works, and the region and document number of each
/// decision. Outbound bulletins are written from it so that a reader needs no phone call.
public final class Directory: Sendable {
    private struct State {
        var persons: [String: PersonRef] = [:]
        var institutions: [String: InstitutionRef] = [:]
        /// Institutions per person, in the order first seen; deregistration removes one.
        var workplaces: [String: [String]] = [:]
        var decisions: [FactID: (region: String, decisionNo: String?)] = [:]
        var regions: [String: Set<String>] = [:]
        /// The regions of the bulletins that named each person.
        var personRegions: [String: Set<String>] = [:]
        /// The decision dates of each institution's agreement suspensions (`agreement-suspended`).
        var agreementSuspensions: [String: Set<CalendarDate>] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty directory.
    public init() {}

    /// Learns from an accepted bulletin.
    public func learn(_ bulletin: Bulletin) {
        state.withLock { state in
            func person(_ ref: PersonRef) {
                var known = state.persons[ref.code] ?? PersonRef(code: ref.code, name: nil, category: nil)
                known.name = ref.name ?? known.name
                known.category = ref.category ?? known.category
                state.persons[ref.code] = known
                state.personRegions[ref.code, default: []].insert(bulletin.region)
            }
            func institution(_ ref: InstitutionRef) {
                var known = state.institutions[ref.code] ?? InstitutionRef(code: ref.code, name: nil, kind: nil)
                known.name = ref.name ?? known.name
                known.kind = ref.kind ?? known.kind
                state.institutions[ref.code] = known
                state.regions[ref.code, default: []].insert(bulletin.region)
            }
            func works(_ person: String, at institution: String) {
                if !(state.workplaces[person] ?? []).contains(institution) { state.workplaces[person, default: []].append(institution) }
                state.regions[institution, default: []].insert(bulletin.region)
            }
            var decisionNo: String?
            switch bulletin.body {
            case .penaltyDecision(let body), .agreementHandling(let body):
                decisionNo = body.decisionNo
                institution(body.institution)
                if bulletin.type == .agreementHandling, body.measure == .agreementSuspended {
                    state.agreementSuspensions[body.institution.code, default: []].insert(body.decidedOn)
                }
                for finding in body.findings {
                    for named in finding.persons {
                        person(named.person)
                        works(named.person.code, at: body.institution.code)
                    }
                }
            case .licenceRevocation(let body):
                decisionNo = body.decisionNo
                person(body.person)
                for code in body.institutions { works(body.person.code, at: code) }
            case .registration(let body):
                person(body.person)
                institution(body.institution)
                if body.action == .register {
                    works(body.person.code, at: body.institution.code)
                } else {
                    state.workplaces[body.person.code]?.removeAll { $0 == body.institution.code }
                }
            case .repairDecision(let body):
                decisionNo = body.decisionNo
                person(body.person)
            case .restorationDecision(let body):
                decisionNo = body.decisionNo
                person(body.person)
            case .finalScoreDecision(let body):
                decisionNo = body.decisionNo
            case .correction(let body):
                decisionNo = body.decisionNo
            case .practiceNotice(let body):
                person(body.person)
            case .suspectedViolation(let body):
                institution(body.institution)
            case .referral, .referralReply, .scoreBulletin, .creditRating, .scoreNotice, .receipt:
                break
            }
            state.decisions[bulletin.factID] = (bulletin.region, decisionNo)
        }
    }

    /// The decision dates of the institution's agreement suspensions, in order.
    public func agreementSuspensions(of institution: String) -> [CalendarDate] {
        (state.withLock { $0.agreementSuspensions[institution] } ?? []).sorted()
    }

    /// The person as named in the bulletins (code only when never named).
    public func person(_ code: String) -> PersonRef {
        state.withLock { $0.persons[code] } ?? PersonRef(code: code, name: nil, category: nil)
    }

    /// The institution as named in the bulletins (code only when never named).
    public func institution(_ code: String) -> InstitutionRef {
        state.withLock { $0.institutions[code] } ?? InstitutionRef(code: code, name: nil, kind: nil)
    }

    /// Every institution where the person works or was scored (multi-site), in the order first seen.
    public func workplaces(of person: String) -> [String] {
        state.withLock { $0.workplaces[person] } ?? []
    }

    /// Where a person is known: the regions of the bulletins that named them and of the institutions where
    /// they work. Empty for a person no bulletin named.
    public func regions(ofPerson code: String) -> Set<String> {
        state.withLock { state in
            (state.workplaces[code] ?? []).reduce(into: state.personRegions[code] ?? []) { $0.formUnion(state.regions[$1] ?? []) }
        }
    }

    /// The regions of the bulletins that concerned an institution; empty for one no bulletin named.
    public func regions(ofInstitution code: String) -> Set<String> {
        state.withLock { $0.regions[code] } ?? []
    }

    /// The institutions known in `region`, sorted.
    public func institutions(in region: String) -> [String] {
        state.withLock { state in state.regions.filter { $0.value.contains(region) }.map(\.key).sorted() }
    }

    /// The members of a `PersonRef` object for an outbound bulletin: the code, and the name and category
    /// when some bulletin gave them.
    func personMembers(_ code: String) -> [(String, String)] {
        let person = person(code)
        var members = [("code", JSONText.quoted(code))]
        if let name = person.name { members.append(("name", JSONText.quoted(name))) }
        if let category = person.category { members.append(("category", JSONText.quoted(category.rawValue))) }
        return members
    }

    /// An `InstitutionRef` object for an outbound bulletin: the code, and the name and kind when known.
    func institutionJSON(_ code: String) -> String {
        let institution = institution(code)
        var members = [("code", JSONText.quoted(code))]
        if let name = institution.name { members.append(("name", JSONText.quoted(name))) }
        if let kind = institution.kind { members.append(("kind", JSONText.quoted(kind.rawValue))) }
        return JSONText.object(members)
    }

    /// The region a decision concerns and its document number.
    public func decision(_ id: FactID) -> (region: String, decisionNo: String?)? {
        state.withLock { $0.decisions[id] }
    }
}
