import Dispatch

/// Work cut into independent pieces and run on every core, with the results in piece order, so that
/// the outcome never depends on how the pieces were scheduled.
public enum Parallel {
    /// Calls `body` for each piece `0..<pieces`, concurrently, and returns the results in piece order.
    public static func map<Result>(pieces: Int, _ body: @Sendable (Int) -> Result) -> [Result] {
        guard pieces > 1 else { return pieces == 1 ? [body(0)] : [] }
        let slots = Slots<Result>(count: pieces)
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            slots.store(body(piece), at: piece)
        }
        return slots.take()
    }

    /// `transform` of every element, concurrently, in order; the error of the first element (in order)
    /// whose transform threw, if any did.
    public static func map<Element: Sendable, Result>(_ elements: [Element], _ transform: @Sendable (Element) throws -> Result) throws -> [Result] {
        let results = map(pieces: elements.count) { index in Swift.Result { try transform(elements[index]) } }
        return try results.map { try $0.get() }
    }

    /// The range of piece `piece` when `count` items are cut into `pieces` nearly equal, contiguous pieces.
    public static func range(of piece: Int, count: Int, pieces: Int) -> Range<Int> {
        (count * piece / pieces)..<(count * (piece + 1) / pieces)
    }
}

/// One result slot per piece; each piece writes only its own slot, and the slots are read only after
/// `concurrentPerform` has returned (which orders every write before the read).
private final class Slots<Result>: @unchecked Sendable {
    private let count: Int
    private let storage: UnsafeMutablePointer<Result?>

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil, count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Stores a piece's result; `piece` is always in `0..<count` (`concurrentPerform`'s iterations).
    func store(_ result: Result, at piece: Int) {
        storage[piece] = result
    }

    func take() -> [Result] {
        (0..<count).compactMap { storage[$0].take() }
    }
}
