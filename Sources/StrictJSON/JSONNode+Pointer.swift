extension JSONNode {
    /// The line of the value at a JSON pointer, or of the deepest existing value on its path.
    public func line(at pointer: String) -> Int {
        var node = self
        for token in pointer.split(separator: "/", omittingEmptySubsequences: true) {
            let key = String(token).replacing("~1", with: "/").replacing("~0", with: "~")
            switch node.value {
            case .object(let members):
                guard let member = members.first(where: { $0.key == key }) else { return node.line }
                node = member.node
            case .array(let elements):
                guard let index = Int(key), elements.indices.contains(index) else { return node.line }
                node = elements[index]
            default:
                return node.line
            }
        }
        return node.line
    }
}
