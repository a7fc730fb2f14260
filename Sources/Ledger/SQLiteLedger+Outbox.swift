extension SQLiteLedger {
    private static let deliveryColumns = """
        o.sequence, o.position, o.recipient, l.issuer, l.id, l.type, o.state, o.attempts, o.next_attempt_at, o.last_error, o.updated_at
        """

    public func inbox(of recipient: String, after sequence: Int, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        try await messages("""
            SELECT \(Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
            WHERE o.recipient = ? AND o.sequence > ? ORDER BY o.sequence LIMIT ?
            """, [.text(recipient), .integer(sequence), .integer(max(0, limit))])
    }

    public func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) async throws(LedgerError) -> Int {
        try await writing { connection throws(LedgerError) in
            var changed = 0
            for sequence in Set(sequences).sorted() {
                let acknowledged = try connection.withStatement("""
                    UPDATE outbox SET state = 'acknowledged', updated_at = ? WHERE sequence = ? AND recipient = ? AND state <> 'acknowledged'
                    RETURNING sequence
                    """) { update throws(LedgerError) in
                    try update.bind([.text(timestamp), .integer(sequence), .text(recipient)])
                    return try update.step()
                }
                guard acknowledged else { continue }
                changed += 1
                try Self.logAttempt(connection, sequence: sequence, attempt: 0, at: timestamp, outcome: .acknowledged,
                                    detail: "acknowledged by \(recipient)", retryIn: nil)
            }
            return changed
        }
    }

    public func due(to recipients: Set<String>, now: Int64, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        guard !recipients.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: recipients.count).joined(separator: ", ")
        return try await messages("""
            SELECT \(Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
            WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.recipient IN (\(marks)) ORDER BY o.sequence LIMIT ?
            """, [.integer(Int(now))] + recipients.sorted().map { .text($0) } + [.integer(max(0, limit))])
    }

    public func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) async throws(LedgerError) {
        try await writing { connection throws(LedgerError) in
            let current = try connection.withStatement("SELECT attempts, state FROM outbox WHERE sequence = ?") { row throws(LedgerError) in
                try row.bind([.integer(sequence)])
                return try row.step() ? (attempts: row.integer(0), state: row.text(1)) : nil
            }
            guard let current else { throw LedgerError.notFound("no delivery \(sequence)") }
            let attempt = current.attempts + 1
            let move = result.transition(now: now)
            // An acknowledgement that overtook the push keeps the delivery acknowledged.
            let state = current.state == DeliveryState.acknowledged.rawValue ? .acknowledged : move.state
            try connection.withStatement("""
                UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE sequence = ?
                """) { update throws(LedgerError) in
                try update.run([.text(state.rawValue), .integer(attempt), .integer(Int(move.nextAttemptAt)),
                                move.lastError.map { .text($0) } ?? .null, .text(timestamp), .integer(sequence)])
            }
            try Self.logAttempt(connection, sequence: sequence, attempt: attempt, at: timestamp, outcome: move.outcome, detail: move.detail,
                                retryIn: move.retryIn)
        }
    }

    public func deliveries(in state: DeliveryState?, limit: Int) async throws(LedgerError) -> [Delivery] {
        let filter = state == nil ? "" : "WHERE o.state = ?"
        let values: [Statement.Value] = (state.map { [.text($0.rawValue)] } ?? []) + [.integer(max(0, limit))]
        return try await messages("""
            SELECT \(Self.deliveryColumns), NULL FROM outbox o JOIN log l ON l.position = o.position \(filter)
            ORDER BY o.sequence DESC LIMIT ?
            """, values).map(\.delivery)
    }

    public func deliveries(ofBulletin issuer: String, id: String) async throws(LedgerError) -> [Delivery] {
        try await messages("""
            SELECT \(Self.deliveryColumns), NULL FROM outbox o JOIN log l ON l.position = o.position
            WHERE l.issuer = ? AND l.id = ? AND l.outcome IN ('accepted', 'issued') ORDER BY o.recipient
            """, [.text(issuer), .text(id)]).map(\.delivery)
    }

    public func attempts(of sequence: Int) async throws(LedgerError) -> [DeliveryAttempt] {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement("""
                SELECT sequence, attempt, at, outcome, detail, retry_in_ms FROM delivery_log WHERE sequence = ? ORDER BY rowid
                """) { statement throws(LedgerError) in
                try statement.bind([.integer(sequence)])
                var result: [DeliveryAttempt] = []
                while try statement.step() {
                    guard let outcome = DeliveryOutcome(rawValue: statement.text(3)) else {
                        throw LedgerError.storageFailure("delivery \(sequence) has an attempt with the unknown outcome \"\(statement.text(3))\"")
                    }
                    result.append(DeliveryAttempt(
                        sequence: statement.integer(0), attempt: statement.integer(1), at: statement.text(2), outcome: outcome,
                        detail: statement.text(4), retryInMilliseconds: statement.optionalText(5).flatMap { Int($0) }))
                }
                return result
            }
        }
    }

    public func deliveryCounts() async throws(LedgerError) -> [DeliveryState: Int] {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement("SELECT state, COUNT(*) FROM outbox GROUP BY state") { statement throws(LedgerError) in
                var counts: [DeliveryState: Int] = [:]
                while try statement.step() {
                    if let state = DeliveryState(rawValue: statement.text(0)) { counts[state] = statement.integer(1) }
                }
                return counts
            }
        }
    }

    public func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) async throws(LedgerError) -> Int {
        try await writing { connection throws(LedgerError) in
            var chosen: [Int] = []
            if let sequences {
                chosen = Set(sequences).sorted()
            } else {
                try connection.withStatement("SELECT sequence FROM outbox WHERE state = 'dead' ORDER BY sequence") { dead throws(LedgerError) in
                    while try dead.step() { chosen.append(dead.integer(0)) }
                }
            }
            var changed = 0
            for sequence in chosen {
                let retried = try connection.withStatement("""
                    UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
                    WHERE sequence = ? AND state = 'dead' RETURNING sequence
                    """) { update throws(LedgerError) in
                    try update.bind([.integer(Int(now)), .text(timestamp), .integer(sequence)])
                    return try update.step()
                }
                guard retried else { continue }
                changed += 1
                try Self.logAttempt(connection, sequence: sequence, attempt: 0, at: timestamp, outcome: .retryRequested,
                                    detail: "an operator put the dead letter back in the outbox", retryIn: nil)
            }
            return changed
        }
    }

    // MARK: Rows

    private func messages(_ sql: String, _ values: [Statement.Value]) async throws(LedgerError) -> [OutboundMessage] {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement(sql) { statement throws(LedgerError) in
                try statement.bind(values)
                var result: [OutboundMessage] = []
                while try statement.step() {
                    guard let state = DeliveryState(rawValue: statement.text(6)) else {
                        throw LedgerError.storageFailure("delivery \(statement.integer(0)) is in the unknown state \"\(statement.text(6))\"")
                    }
                    let delivery = Delivery(
                        sequence: statement.integer(0), position: statement.integer(1), recipient: statement.text(2), issuer: statement.text(3),
                        id: statement.text(4), type: statement.text(5), state: state, attempts: statement.integer(7),
                        nextAttemptAt: Int64(statement.integer(8)), lastError: statement.optionalText(9), updatedAt: statement.text(10))
                    result.append(OutboundMessage(delivery: delivery, bytes: statement.blob(11)))
                }
                return result
            }
        }
    }

    private static func logAttempt(_ connection: SQLiteConnection, sequence: Int, attempt: Int, at: String, outcome: DeliveryOutcome,
                                   detail: String, retryIn: Int?) throws(LedgerError) {
        try connection.withStatement("INSERT INTO delivery_log (sequence, attempt, at, outcome, detail, retry_in_ms) VALUES (?, ?, ?, ?, ?, ?)") {
            insert throws(LedgerError) in
            try insert.run([.integer(sequence), .integer(attempt), .text(at), .text(outcome.rawValue), .text(String(detail.prefix(500))),
                            retryIn.map { .integer($0) } ?? .null])
        }
    }
}
