import Foundation
import Gateway
import Scoring

/// Finds and loads the rule packs and working-day calendars shipped in `rules/`.
///
/// The directory is, in order: `--rules-dir`, `$TONGBAO_RULES_DIR`, `./rules`, or a `rules/` folder
/// above the executable (so `swift run` and `.build/debug/tongbao` work from anywhere in a checkout).
struct RuleLibrary {
    /// The directory holding `packs/` and `calendar/`.
    let directory: URL

    /// The known pack names.
    static let packNames = ["guangdong", "shanghai", "inner-mongolia", "shandong", "national"]

    init(explicit: String?) throws(CLIError) {
        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            guard Self.isRulesDirectory(url) else {
                throw CLIError.usage("--rules-dir \(explicit) has no packs/ folder")
            }
            directory = url
            return
        }
        var candidates: [URL] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["TONGBAO_RULES_DIR"], !fromEnvironment.isEmpty {
            candidates.append(URL(fileURLWithPath: fromEnvironment))
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("rules"))
        var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("rules"))
            folder = folder.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: Self.isRulesDirectory) else {
            throw CLIError.io("cannot find the rules/ folder (rule packs and calendars); pass --rules-dir DIR or set TONGBAO_RULES_DIR")
        }
        directory = found
    }

    private static func isRulesDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("packs").path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Loads a pack by name (`guangdong`, …) or by path to a pack file.
    func pack(_ nameOrPath: String) throws(CLIError) -> RulePack {
        let url: URL
        if Self.packNames.contains(nameOrPath) {
            url = directory.appendingPathComponent("packs").appendingPathComponent(nameOrPath + ".json")
        } else if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            url = URL(fileURLWithPath: nameOrPath)
        } else {
            throw CLIError.usage("unknown rule pack \"\(nameOrPath)\"; use one of \(Self.packNames.joined(separator: ", ")) or a path to a pack file")
        }
        let bytes = try read(url)
        do {
            return try RulePackLoader.load(bytes, source: url.path)
        } catch {
            throw CLIError.data(error.description)
        }
    }

    /// Loads the credit model `credit/NAME.json` (or a path to a model file).
    func creditModel(_ nameOrPath: String = "default") throws(CLIError) -> CreditModel {
        let url = nameOrPath.contains("/") || nameOrPath.hasSuffix(".json")
            ? URL(fileURLWithPath: nameOrPath) : directory.appendingPathComponent("credit").appendingPathComponent(nameOrPath + ".json")
        do {
            return try CreditModel.load(Array(try read(url)), source: url.path)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.data("\(url.path): \(error)")
        }
    }

    /// Loads every year file in `calendar/`.
    func calendar() throws(CLIError) -> WorkingDayCalendar {
        let folder = directory.appendingPathComponent("calendar")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw CLIError.io("cannot list \(folder.path): \(error.localizedDescription)")
        }
        var years: [WorkingDayCalendar.Year] = []
        for name in names {
            let url = folder.appendingPathComponent(name)
            do {
                years.append(try WorkingDayCalendar.loadYear(try read(url), source: url.path))
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.data("\(error)")
            }
        }
        return WorkingDayCalendar(years: years)
    }

    private func read(_ url: URL) throws(CLIError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw CLIError.io("cannot read \(url.path): \(error.localizedDescription)")
        }
    }
}
