import CutoverLogs
import Foundation

// `make fuzz`: LogFuzz over 10 million generated lines (or the count given), in a release build.
// Exits 1 when a property breaks; prints the figures either way.
let arguments = CommandLine.arguments.dropFirst()
let count = arguments.first.flatMap(Int.init) ?? 10_000_000
let seed = arguments.dropFirst().first.flatMap(UInt64.init) ?? 1
let started = Date()
let report = LogFuzz.run(count: count, seed: seed)
print("cutover-fuzz: seed \(seed): \(report) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
for violation in report.violations.prefix(20) { print("  violation: \(violation)") }
exit(report.violations.isEmpty ? 0 : 1)
