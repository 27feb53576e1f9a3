import CutoverCore
import CutoverCrawl
import CutoverProbe
import CutoverStore
import Foundation
import HTTPTypes
import Testing

@testable import CutoverServer

/// Library errors reach the API by the kind they report, not by a list of modules: one row per
/// kind from each module that has errors, with the status, code and what the client reads.
@Suite struct APIErrorTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var error: any Error & Sendable
        var status: HTTPResponse.Status
        var code: String
        /// nil: the error's own description.
        var message: String?
        var testDescription: String { "\(error) → \(status.code)" }
    }

    static let rows: [Row] = [
        Row(error: StoreError.unknownSite("shop"), status: .notFound, code: "not_found"),
        Row(error: StoreError.siteExists("shop"), status: .conflict, code: "conflict"),
        Row(error: StoreError.invalidSite(["docroot is empty"]), status: .unprocessableContent, code: "invalid"),
        // The tool's own failure: the path and reason stay in the server's log.
        Row(
            error: StoreError.cannotOpen(path: "/secret/db.sqlite", reason: "disk I/O"),
            status: .internalServerError,
            code: "internal",
            message: "storage failed"
        ),
        Row(error: PlanError.unknownURL("/nope.php"), status: .notFound, code: "not_found"),
        Row(error: PlanError.staticFile("/a.css"), status: .unprocessableContent, code: "invalid"),
        Row(error: ExportError.unsafeName(path: "/a\nb.php", reason: "a line break"), status: .unprocessableContent, code: "invalid"),
        Row(error: ProbeError.invalidConfiguration(["publicURL is not http(s)"]), status: .unprocessableContent, code: "invalid"),
        Row(error: CrawlError.docrootMissing("/no/such"), status: .unprocessableContent, code: "invalid"),
        Row(error: JobError.alreadyRunning(site: "shop", jobID: 3), status: .conflict, code: "conflict"),
        Row(error: JobError.shuttingDown, status: .conflict, code: "conflict"),
        Row(
            error: DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "x")),
            status: .badRequest,
            code: "bad_request",
            message: "the request body is not the JSON this endpoint expects"
        ),
        Row(error: CocoaError(.fileReadNoPermission), status: .internalServerError, code: "internal", message: "internal error"),
    ]

    @Test(arguments: rows) func statusComesFromTheKind(row: Row) {
        let mapped = APIError.from(row.error)
        #expect(mapped.status == row.status)
        #expect(mapped.code == row.code)
        #expect(mapped.message == row.message ?? String(describing: row.error))
    }

    /// Every kind a library error can report has a status, and only `failed` hides the message.
    @Test func everyKindHasAStatus() {
        struct Sample: ReportedError {
            var kind: ErrorKind
            var description: String { "sample \(kind)" }
        }
        let statuses = [ErrorKind.notFound, .conflict, .invalid, .failed].map { APIError.from(Sample(kind: $0)) }
        #expect(statuses.map(\.status) == [.notFound, .conflict, .unprocessableContent, .internalServerError])
        #expect(statuses.map(\.message) == ["sample notFound", "sample conflict", "sample invalid", "storage failed"])
    }
}
