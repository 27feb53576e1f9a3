import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation

/// `cutover probe --json`: the run, the fallback's health, the drifted URLs and every result.
package struct ProbeReportView: Encodable {
    package struct Item: Encodable {
        var path: String
        var expectedOwner: Owner
        var observation: ProbeObservation
        var drift: Bool
        var backendStatus: Int?
        var backendError: String?
        var readyToFlip: Bool
    }
    /// One node's answers (`NodeSummary`).
    package struct Node: Encodable {
        var node: String
        var urlCount: Int
        var driftedURLs: Int
        var errorCount: Int
        var exportID: Int64?
        var expectedExportID: Int64?
        var problems: [String]

        init(_ summary: NodeSummary) {
            node = summary.node
            urlCount = summary.urlCount
            driftedURLs = summary.driftedURLs
            errorCount = summary.errorCount
            exportID = summary.exportID
            expectedExportID = summary.expectedExportID
            problems = summary.problems
        }
    }
    var run: ProbeRunView
    var fallback: FallbackHealth
    var drifted: [Item]
    var results: [Item]
    var nodes: [Node]

    package init(_ report: ProbeReport) {
        run = ProbeRunView(report.run)
        fallback = report.fallback
        nodes = report.nodes.map(Node.init)
        results = report.outcomes.map {
            Item(
                path: $0.target.path,
                expectedOwner: $0.target.expectedOwner,
                observation: $0.observation,
                drift: $0.drift,
                backendStatus: $0.backendStatus,
                backendError: $0.backendError,
                readyToFlip: $0.readyToFlip
            )
        }
        drifted = results.filter(\.drift)
    }
}

extension ProbeReport {
    /// The document `ProbeReportView` encodes to with JSONEncoder (sorted keys, ISO-8601 dates,
    /// no escaped slashes, absent optionals left out, no whitespace), with every result written
    /// straight into one buffer: JSONEncoder's pretty printing of 10,000 results was the gap
    /// between `probe` and `probe --json` (scripts/bench-apache.py probe). A test checks the two
    /// agree byte for byte.
    package func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let writer = JSONWriter(capacity: 420 * outcomes.count + 2048)
        let drifts = outcomes.map(\.drift)
        writer.raw("{\"drifted\":[")
        var first = true
        for (outcome, drift) in zip(outcomes, drifts) where drift {
            if !first { writer.byte(UInt8(ascii: ",")) }
            first = false
            writer.probeResult(outcome, drift: drift)
        }
        writer.raw("],\"fallback\":")
        try encoder.encode(fallback).withUnsafeBytes { writer.append($0.assumingMemoryBound(to: UInt8.self)) }
        writer.raw(",\"nodes\":")
        try encoder.encode(nodes.map(ProbeReportView.Node.init)).withUnsafeBytes { writer.append($0.assumingMemoryBound(to: UInt8.self)) }
        writer.raw(",\"results\":[")
        for (index, outcome) in outcomes.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.probeResult(outcome, drift: drifts[index])
        }
        writer.raw("],\"run\":")
        try encoder.encode(ProbeRunView(run)).withUnsafeBytes { writer.append($0.assumingMemoryBound(to: UInt8.self)) }
        writer.raw("}")
        return writer.bytes
    }
}

extension JSONWriter {
    /// One `ProbeReportView.Item`, keys in sorted order.
    func probeResult(_ outcome: ProbeOutcome, drift: Bool) {
        raw("{")
        var first = true
        if let value = outcome.backendError {
            key("backendError", first: &first)
            string(value)
        }
        if let value = outcome.backendStatus {
            key("backendStatus", first: &first)
            int(value)
        }
        key("drift", first: &first)
        bool(drift)
        key("expectedOwner", first: &first)
        string(outcome.target.expectedOwner.rawValue)
        key("observation", first: &first)
        observation(outcome.observation)
        key("path", first: &first)
        string(outcome.target.path)
        key("readyToFlip", first: &first)
        bool(outcome.readyToFlip)
        raw("}")
    }

    /// A `ProbeObservation`, keys in sorted order.
    func observation(_ value: ProbeObservation) {
        raw("{")
        var first = true
        if let hash = value.bodyHash {
            key("bodyHash", first: &first)
            string(hash)
        }
        key("bodyTruncated", first: &first)
        bool(value.bodyTruncated)
        if let length = value.contentLength {
            key("contentLength", first: &first)
            int(length)
        }
        if let type = value.contentType {
            key("contentType", first: &first)
            string(type)
        }
        if let kind = value.errorKind {
            key("errorKind", first: &first)
            string(kind.rawValue)
        }
        if let message = value.errorMessage {
            key("errorMessage", first: &first)
            string(message)
        }
        if let id = value.exportID {
            key("exportID", first: &first)
            int(id)
        }
        key("latencyMilliseconds", first: &first)
        double(value.latencyMilliseconds)
        if let location = value.location {
            key("location", first: &first)
            string(location)
        }
        if let owner = value.observedOwner {
            key("observedOwner", first: &first)
            string(owner.rawValue)
        }
        if let source = value.ownerSource {
            key("ownerSource", first: &first)
            string(source.rawValue)
        }
        if let status = value.status {
            key("status", first: &first)
            int(status)
        }
        raw("}")
    }
}
