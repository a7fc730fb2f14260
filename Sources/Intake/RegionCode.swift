/// China's administrative division codes (6 digits: province `PP0000`, city `PPCC00`, county `PPCCDD`),
/// and which region lies within which.
public enum RegionCode {
    /// Whether `region` is `parent` or lies within it: a province holds its cities and counties, a city
    /// its counties. A code that is not 6 digits holds nothing but itself.
    public static func contains(_ parent: String, _ region: String) -> Bool {
        if parent == region { return true }
        let parent = Array(parent.utf8), region = Array(region.utf8)
        guard parent.count == 6, region.count == 6, (parent + region).allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        let zero = UInt8(ascii: "0")
        if parent[2...] == [zero, zero, zero, zero] { return parent[0..<2] == region[0..<2] }
        if parent[4...] == [zero, zero] { return parent[0..<4] == region[0..<4] }
        return false
    }
}
