import Bulletins
import Scoring

/// Who receives what (gateway.md §1 flows 7–10): the participants of a role in a region.
public struct OutboundRouting: Sendable {
    private let fixed: [Participant]
    /// The participants in force, when they are reloaded while the gateway runs.
    private let live: LiveTrust?
    let homeRegion: String

    /// Routes among `participants`; a region with no participant of a role falls back to `homeRegion`'s.
    public init(participants: [Participant], homeRegion: String) {
        fixed = participants
        live = nil
        self.homeRegion = homeRegion
    }

    /// Routes among the participants `live` holds at each call: a participant added to (or removed from) the
    /// participants file is routed to (or not) from the reload on.
    public init(live: LiveTrust, homeRegion: String) {
        fixed = []
        self.live = live
        self.homeRegion = homeRegion
    }

    /// The participants routed among now.
    var participants: [Participant] { live?.snapshot.listed ?? fixed }

    /// The codes of the participants of `role` in `region` (or in the home region when `region` has none).
    public func recipients(_ role: Participant.Role, region: String) -> [String] {
        let participants = participants
        let local = participants.filter { $0.role == role && $0.region == region }.map(\.code)
        if !local.isEmpty || region == homeRegion { return local }
        return participants.filter { $0.role == role && $0.region == homeRegion }.map(\.code)
    }

    /// The role of the participant `code` among those routed to now, or nil for one not listed.
    public func role(of code: String) -> Participant.Role? {
        participants.first { $0.code == code }?.role
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
