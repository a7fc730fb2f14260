extension SQLiteMessageLog: Outbox {
    private static let deliveryColumns = """
        o.sequence, o.position, o.recipient, l.issuer, l.id, l.type, o.state, o.attempts, o.next_attempt_at, o.last_error, o.updated_at
        """

    public func inbox(of recipient: String, after sequence: Int, limit: Int) throws(LedgerError) -> [OutboundMessage] {
        try messages("""
            SELECT \(Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
            WHERE o.recipient = ? AND o.sequence > ? ORDER BY o.sequence LIMIT ?
            """, [.text(recipient), .integer(sequence), .integer(max(0, limit))])
    }

    public func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) throws(LedgerError) -> Int {
        try connection.withLock { (box) throws(LedgerError) -> Int in
            try box.connection.transaction { () throws(LedgerError) -> Int in
                var changed = 0
                for sequence in Set(sequences).sorted() {
                    let update = try box.connection.prepare("""
                        UPDATE outbox SET state = 'acknowledged', updated_at = ? WHERE sequence = ? AND recipient = ? AND state <> 'acknowledged'
                        RETURNING sequence
                        """)
                    try update.bind([.text(timestamp), .integer(sequence), .text(recipient)])
                    guard try update.step() else { continue }
                    changed += 1
                    try Self.logAttempt(box.connection, sequence: sequence, attempt: 0, at: timestamp, outcome: "acknowledged",
                                        detail: "acknowledged by \(recipient)", retryIn: nil)
                }
                return changed
            }
        }
    }

    public func due(to recipients: Set<String>, now: Int64, limit: Int) throws(LedgerError) -> [OutboundMessage] {
        guard !recipients.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: recipients.count).joined(separator: ", ")
        return try messages("""
            SELECT \(Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
            WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.recipient IN (\(marks)) ORDER BY o.sequence LIMIT ?
            """, [.integer(Int(now))] + recipients.sorted().map { .text($0) } + [.integer(max(0, limit))])
    }

    public func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) throws(LedgerError) {
        try connection.withLock { (box) throws(LedgerError) in
            try box.connection.transaction { () throws(LedgerError) in
                let current = try box.connection.prepare("SELECT attempts, state FROM outbox WHERE sequence = ?")
                try current.bind([.integer(sequence)])
                guard try current.step() else { throw LedgerError(code: "not-found", message: "no delivery \(sequence)") }
                let attempt = current.integer(0) + 1
                // An acknowledgement that overtook the push keeps the delivery acknowledged.
                let keep = current.text(1) == "acknowledged"
                let state: String, next: Int64, error: String?, detail: String, retryIn: Int?
                switch result {
                case .delivered(let text): (state, next, error, detail, retryIn) = ("delivered", now, nil, text, nil)
                case .retry(let text, let delay): (state, next, error, detail, retryIn) = ("pending", now + Int64(delay), text, text, delay)
                case .dead(let text): (state, next, error, detail, retryIn) = ("dead", now, text, text, nil)
                }
                try box.connection.prepare("""
                    UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE sequence = ?
                    """).run([.text(keep ? "acknowledged" : state), .integer(attempt), .integer(Int(next)),
                              error.map { .text($0) } ?? .null, .text(timestamp), .integer(sequence)])
                let outcome = switch result { case .delivered: "delivered"; case .retry: "failed"; case .dead: "dead" }
                try Self.logAttempt(box.connection, sequence: sequence, attempt: attempt, at: timestamp, outcome: outcome, detail: detail, retryIn: retryIn)
            }
        }
    }

    public func deliveries(in state: DeliveryState?, limit: Int) throws(LedgerError) -> [Delivery] {
        let filter = state == nil ? "" : "WHERE o.state = ?"
        let values: [Statement.Value] = (state.map { [.text($0.rawValue)] } ?? []) + [.integer(max(0, limit))]
        return try messages("""
            SELECT \(Self.deliveryColumns), NULL FROM outbox o JOIN log l ON l.position = o.position \(filter)
            ORDER BY o.sequence DESC LIMIT ?
            """, values).map(\.delivery)
    }

    public func deliveries(ofBulletin issuer: String, id: String) throws(LedgerError) -> [Delivery] {
        try messages("""
            SELECT \(Self.deliveryColumns), NULL FROM outbox o JOIN log l ON l.position = o.position
            WHERE l.issuer = ? AND l.id = ? AND l.outcome IN ('accepted', 'issued') ORDER BY o.recipient
            """, [.text(issuer), .text(id)]).map(\.delivery)
    }

    public func attempts(of sequence: Int) throws(LedgerError) -> [DeliveryAttempt] {
        try connection.withLock { (box) throws(LedgerError) -> [DeliveryAttempt] in
            let statement = try box.connection.prepare("""
                SELECT sequence, attempt, at, outcome, detail, retry_in_ms FROM delivery_log WHERE sequence = ? ORDER BY rowid
                """)
            try statement.bind([.integer(sequence)])
            var result: [DeliveryAttempt] = []
            while try statement.step() {
                result.append(DeliveryAttempt(
                    sequence: statement.integer(0), attempt: statement.integer(1), at: statement.text(2), outcome: statement.text(3),
                    detail: statement.text(4), retryInMilliseconds: statement.optionalText(5).flatMap { Int($0) }))
            }
            return result
        }
    }

    public func deliveryCounts() throws(LedgerError) -> [DeliveryState: Int] {
        try connection.withLock { (box) throws(LedgerError) -> [DeliveryState: Int] in
            let statement = try box.connection.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            var counts: [DeliveryState: Int] = [:]
            while try statement.step() {
                if let state = DeliveryState(rawValue: statement.text(0)) { counts[state] = statement.integer(1) }
            }
            return counts
        }
    }

    public func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) throws(LedgerError) -> Int {
        try connection.withLock { (box) throws(LedgerError) -> Int in
            try box.connection.transaction { () throws(LedgerError) -> Int in
                var chosen: [Int] = []
                if let sequences {
                    chosen = Set(sequences).sorted()
                } else {
                    let dead = try box.connection.prepare("SELECT sequence FROM outbox WHERE state = 'dead' ORDER BY sequence")
                    while try dead.step() { chosen.append(dead.integer(0)) }
                }
                var changed = 0
                for sequence in chosen {
                    let update = try box.connection.prepare("""
                        UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
                        WHERE sequence = ? AND state = 'dead' RETURNING sequence
                        """)
                    try update.bind([.integer(Int(now)), .text(timestamp), .integer(sequence)])
                    guard try update.step() else { continue }
                    changed += 1
                    try Self.logAttempt(box.connection, sequence: sequence, attempt: 0, at: timestamp, outcome: "retry-requested",
                                        detail: "an operator put the dead letter back in the outbox", retryIn: nil)
                }
                return changed
            }
        }
    }

    // MARK: Rows

    private func messages(_ sql: String, _ values: [Statement.Value]) throws(LedgerError) -> [OutboundMessage] {
        try connection.withLock { (box) throws(LedgerError) -> [OutboundMessage] in
            let statement = try box.connection.prepare(sql)
            try statement.bind(values)
            var result: [OutboundMessage] = []
            while try statement.step() {
                let delivery = Delivery(
                    sequence: statement.integer(0), position: statement.integer(1), recipient: statement.text(2), issuer: statement.text(3),
                    id: statement.text(4), type: statement.text(5), state: DeliveryState(rawValue: statement.text(6)) ?? .pending,
                    attempts: statement.integer(7), nextAttemptAt: Int64(statement.integer(8)), lastError: statement.optionalText(9),
                    updatedAt: statement.text(10))
                result.append(OutboundMessage(delivery: delivery, bytes: statement.blob(11)))
            }
            return result
        }
    }

    private static func logAttempt(_ connection: SQLiteConnection, sequence: Int, attempt: Int, at: String, outcome: String,
                                   detail: String, retryIn: Int?) throws(LedgerError) {
        try connection.prepare("INSERT INTO delivery_log (sequence, attempt, at, outcome, detail, retry_in_ms) VALUES (?, ?, ?, ?, ?, ?)")
            .run([.integer(sequence), .integer(attempt), .text(at), .text(outcome), .text(String(detail.prefix(500))),
                  retryIn.map { .integer($0) } ?? .null])
    }
}
