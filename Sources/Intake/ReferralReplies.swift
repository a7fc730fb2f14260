import Ledger
import Scoring

/// What the gateway checks before it accepts a `ReferralReply` (exchange-flows.md §2.2): the referral exists,
/// the sender is the regulator it was referred to, it still asks for a reply, and a result that is a scoring
/// fact came as its own bulletin. Run inside the group commit, in order, so two final replies in one batch
/// are told apart.
struct ReferralReplyRules: Sendable {
    let projection: FactProjection
    /// Whom each referral was queued for: the outbox is the record of who was asked (the insurance
    /// administration's copy among them, which may not answer: its role sends no reply at all).
    let ledger: any LedgerStore

    /// The referral `reply` answers, when `sender` may answer it now.
    ///
    /// - Throws: 422 `rules-invalid` with reason `unknown-referral` (none issued, lifted, or replaced by a later
    ///   referral of the person), `already-decided` (a final reply came before) or `related-missing` (D11);
    ///   403 `not-authorized` when the referral went to another participant.
    func check(_ reply: ReferralReplyFact, sender: String) async throws -> ReferralFact {
        guard case .referral(let referral)? = projection.fact(reply.referral) else {
            throw Self.refusal("unknown-referral", "the gateway issued no referral \(reply.referral)")
        }
        let recipients = try await ledger.deliveries(ofBulletin: referral.id.issuer, id: referral.id.id).map(\.recipient)
        guard recipients.contains(sender) else {
            throw GatewayError(.notAuthorized, "referral \(referral.id.id) was sent to \(recipients.sorted().joined(separator: ", ")); only its recipient answers it, not \(sender)")
        }
        guard referral.sanction != .lifted else {
            throw Self.refusal("unknown-referral", "referral \(referral.id.id) lifts a sanction: it asks for no reply")
        }
        let file = projection.facts(of: referral.person)
        if let later = ReferralFollowUp.replacement(of: referral, among: file.compactMap(Self.referral)) {
            throw Self.refusal("unknown-referral", "referral \(referral.id.id) was replaced by \(later.id.id) of \(later.issuedOn); answer that one")
        }
        let withdrawn = projection.withdrawn()
        if reply.stage == .final,
           let earlier = file.lazy.compactMap(Self.reply).first(where: { $0.referral == referral.id && $0.stage == .final && !withdrawn.contains($0.id) }) {
            throw Self.refusal("already-decided", "referral \(referral.id.id) has its final reply already (\(earlier.id))")
        }
        try checkRelated(reply, person: referral.person, withdrawn: withdrawn)
        return referral
    }

    /// D11: a result that is a scoring fact names the bulletin that carries it: by the same issuer, about
    /// the referral's person, and not withdrawn.
    private func checkRelated(_ reply: ReferralReplyFact, person: String, withdrawn: Set<FactID>) throws(GatewayError) {
        let carrier: (kind: String, matches: (Fact) -> Bool)
        switch reply.result {
        case .licenceRevoked:
            carrier = ("LicenceRevocation", { if case .act(let act) = $0 { act.source == .licenceRevocation && act.personCodes.contains(person) } else { false } })
        case .practiceSuspended:
            carrier = ("PracticeNotice", { if case .practice(let notice) = $0 { notice.event == .practiceSuspended && notice.person == person } else { false } })
        default:
            return
        }
        let named = reply.related.filter { $0.issuer == reply.id.issuer && !withdrawn.contains($0) }.compactMap { projection.fact($0) }
        guard named.contains(where: carrier.matches) else {
            throw Self.refusal("related-missing", "a \(reply.result.rawValue) result is a fact of its own: send the \(carrier.kind) of this person and name it in related (\(reply.id.issuer)'s own)")
        }
    }

    private static func referral(_ fact: Fact) -> ReferralFact? {
        if case .referral(let referral) = fact { referral } else { nil }
    }

    private static func reply(_ fact: Fact) -> ReferralReplyFact? {
        if case .referralReply(let reply) = fact { reply } else { nil }
    }

    private static func refusal(_ reason: String, _ detail: String) -> GatewayError {
        GatewayError(.rulesInvalid, detail, reason: reason)
    }
}
