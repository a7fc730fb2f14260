import Bulletins
import Scoring

/// Who receives what (gateway.md §1 flows 7–10): the participants of a role in a region.
public struct OutboundRouting: Sendable {
    let participants: [Participant]
    let homeRegion: String

    /// Routes among `participants`; a region with no participant of a role falls back to `homeRegion`'s.
    public init(participants: [Participant], homeRegion: String) {
        self.participants = participants
        self.homeRegion = homeRegion
    }

    /// The codes of the participants of `role` in `region` (or in the home region when `region` has none).
    public func recipients(_ role: Participant.Role, region: String) -> [String] {
        let local = participants.filter { $0.role == role && $0.region == region }.map(\.code)
        if !local.isEmpty || region == homeRegion { return local }
        return participants.filter { $0.role == role && $0.region == homeRegion }.map(\.code)
    }

    /// The sector regulator that follows up a sanction (移送): drug for pharmacy persons, health otherwise.
    public func regulator(for kind: InstitutionKind) -> Participant.Role {
        kind == .pharmacy ? .drug : .health
    }

    /// The regions with a health or drug participant: those that receive periodic bulletins.
    public var bulletinRegions: [String] {
        Set(participants.filter { $0.role == .health || $0.role == .drug }.map(\.region)).sorted()
    }

    /// Participants that take deliveries by push, by code.
    public var pushEndpoints: [String: String] {
        Dictionary(participants.compactMap { participant in participant.endpoint.map { (participant.code, $0) } }, uniquingKeysWith: { first, _ in first })
    }
}
