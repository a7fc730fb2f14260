import Intake
import Scoring

/// Who may read what over the API. A participant reads the receipts of its own bulletins and its own
/// inbox; the eligibility and file of persons known in its region (insurance roles: every person; health:
/// the medical staff it licenses; drug: pharmacists and pharmacy principals); the views of institutions in
/// its region; the deadlines of acts in its region. Everything else is `403 not-authorized`.
///
/// "Known in its region": a region of a bulletin that named the person or institution, or of an
/// institution where the person works, lies within the participant's region (a province holds its cities).
/// A person or institution no bulletin named is open to every participant: the answer (normal, 0 points,
/// nothing recorded) tells nothing about anyone.
struct ReadAccess: Sendable {
    let directory: Directory

    /// The person categories each sector regulator supervises.
    static func supervises(_ role: Participant.Role, _ category: PersonCategory) -> Bool {
        switch role {
        case .insuranceAdmin, .insuranceAgency: true
        case .health: category != .pharmacyPrincipal
        case .drug: category == .pharmacist || category == .pharmacyPrincipal
        case .gateway: false
        }
    }

    /// Refuses unless `reader` may read the person's eligibility and file.
    func checkPerson(_ code: String, by reader: Participant) throws(GatewayError) {
        let regions = directory.regions(ofPerson: code)
        guard !regions.isEmpty else { return }
        guard regions.contains(where: { RegionCode.contains(reader.region, $0) }) else {
            throw GatewayError(.notAuthorized, "person \(code) is not known in region \(reader.region), which \(reader.code) acts for")
        }
        if let category = directory.person(code).category, !Self.supervises(reader.role, category) {
            throw GatewayError(.notAuthorized, "a \(reader.role.rawValue) participant does not supervise \(category.rawValue)s")
        }
    }

    /// Refuses unless `reader` may read the institution's view.
    func checkInstitution(_ code: String, by reader: Participant) throws(GatewayError) {
        let regions = directory.regions(ofInstitution: code)
        guard regions.isEmpty || regions.contains(where: { RegionCode.contains(reader.region, $0) }) else {
            throw GatewayError(.notAuthorized, "institution \(code) is not in region \(reader.region), which \(reader.code) acts for")
        }
    }

    /// Refuses unless the receipt is of `reader`'s own bulletin.
    func checkReceipt(of issuer: String, by reader: Participant) throws(GatewayError) {
        guard issuer == reader.code else {
            throw GatewayError(.notAuthorized, "\(reader.code) may read the receipts of its own bulletins only, not \(issuer)'s")
        }
    }

    /// Whether `reader` may see a deadline of the act `act` (a fact of the projection).
    func mayRead(act: FactID, by reader: Participant) -> Bool {
        guard let region = directory.decision(act)?.region else { return false }
        return RegionCode.contains(reader.region, region)
    }
}
