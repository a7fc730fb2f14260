import Bulletins
import Synchronization

/// What makes two bulletins the same decision whatever their ids: the issuer, the type, the decision's
/// document number (文号) and whom it concerns. A decision sent again under a new id would otherwise be
/// scored twice; the way to amend one is a `Correction`.
struct DecisionIdentity: Hashable, Sendable {
    let issuer: String
    let type: BulletinType
    let decisionNo: String
    /// The institution, person (with the certificate, for a revocation) or the bulletin it decides on.
    let subject: String

    /// The identity of `bulletin`'s decision; nil for types that carry no decision number (registrations,
    /// notices, what the gateway issues).
    init?(_ bulletin: Bulletin) {
        let decisionNo: String
        let subject: String
        switch bulletin.body {
        case .penaltyDecision(let body), .agreementHandling(let body):
            (decisionNo, subject) = (body.decisionNo, "institution:\(body.institution.code)")
        case .licenceRevocation(let body):
            // One decision may revoke several certificates of one person, each its own bulletin.
            (decisionNo, subject) = (body.decisionNo, "person:\(body.person.code):\(body.certificate.kind.rawValue):\(body.certificate.number)")
        case .repairDecision(let body):
            (decisionNo, subject) = (body.decisionNo, "person:\(body.person.code)")
        case .restorationDecision(let body):
            (decisionNo, subject) = (body.decisionNo, "person:\(body.person.code)")
        case .finalScoreDecision(let body):
            (decisionNo, subject) = (body.decisionNo, "bulletin:\(body.target.issuer)/\(body.target.id)")
        case .correction(let body):
            (decisionNo, subject) = (body.decisionNo, "bulletin:\(body.target.issuer)/\(body.target.id)")
        default:
            return nil
        }
        self.issuer = bulletin.issuer
        self.type = bulletin.type
        self.decisionNo = decisionNo
        self.subject = subject
    }
}

/// The id under which each decision was first accepted, kept beside the projection (rebuilt from the log
/// at start, and kept in step by the committer, which checks it in order inside the append lock). A
/// decision withdrawn by a `Correction` may be sent again under a new id.
final class DecisionRegister: Sendable {
    /// One change of the register, undone when its batch does not commit.
    enum Change: Sendable {
        case recorded(DecisionIdentity)
        case withdrawn(DecisionIdentity, id: String)
    }

    private struct State {
        var first: [DecisionIdentity: String] = [:]
        /// The decision each accepted bulletin holds, by "issuer/id", for withdrawals.
        var byBulletin: [String: DecisionIdentity] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// `bulletin`'s decision and the id it was accepted under before, when it was, under another id.
    func earlier(of bulletin: Bulletin) -> (DecisionIdentity, String)? {
        guard let identity = DecisionIdentity(bulletin),
              let id = state.withLock({ $0.first[identity] }), id != bulletin.id else { return nil }
        return (identity, id)
    }

    /// Takes an accepted bulletin into account: its decision is recorded (the first id stays), and a
    /// `Correction` that withdraws one frees its decision number. Returns what changed, for ``undo(_:)``.
    @discardableResult
    func apply(_ bulletin: Bulletin) -> [Change] {
        state.withLock { state in
            var changes: [Change] = []
            if case .correction(let body) = bulletin.body, body.action == .withdraw,
               let withdrawn = state.byBulletin["\(body.target.issuer)/\(body.target.id)"],
               let id = state.first[withdrawn], id == body.target.id {
                state.first[withdrawn] = nil
                changes.append(.withdrawn(withdrawn, id: id))
            }
            if let identity = DecisionIdentity(bulletin), state.first[identity] == nil {
                state.first[identity] = bulletin.id
                state.byBulletin["\(bulletin.issuer)/\(bulletin.id)"] = identity
                changes.append(.recorded(identity))
            }
            return changes
        }
    }

    /// Undoes the changes of a batch that did not commit, last first.
    func undo(_ changes: [Change]) {
        state.withLock { state in
            for change in changes.reversed() {
                switch change {
                case .recorded(let identity):
                    if let id = state.first.removeValue(forKey: identity) { state.byBulletin["\(identity.issuer)/\(id)"] = nil }
                case .withdrawn(let identity, let id):
                    state.first[identity] = id
                }
            }
        }
    }
}
