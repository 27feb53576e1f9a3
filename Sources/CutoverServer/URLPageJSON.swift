import CutoverCore
import CutoverStore
import Foundation
import Hummingbird

/// The URL page written as JSON straight from SQLite's rows (`URLRow`): no records, views or
/// Foundation's JSONEncoder in between, which together cost most of the request
/// (scripts/bench-api.sh, perf). The document is the one the generated `URLPage` type
/// (`URLPageView`, CutoverAPI) encodes to with the API's JSONEncoder (sorted keys, ISO-8601
/// dates, absent optionals left out); URLPageJSONTests checks the two agree byte for byte on
/// awkward values stored in a real database.
struct URLPageWriter {
    private let writer: JSONWriter
    private let limit: Int
    private let wantsCursor: Bool
    private(set) var count = 0
    /// The path of the page's last row when the page is full and in path order (the next
    /// page's cursor).
    private(set) var lastPath: String?

    init(limit: Int, wantsCursor: Bool = true) {
        self.limit = limit
        self.wantsCursor = wantsCursor
        writer = JSONWriter(capacity: 420 * limit + 160)
        writer.raw("{\"items\":[")
    }

    mutating func append(_ row: URLRow) throws {
        if count > 0 { writer.raw(",") }
        try writer.url(row)
        count += 1
        if wantsCursor, count == limit, let path = row.text(.path) { lastPath = String(decoding: path, as: UTF8.self) }
    }

    /// The finished document (keys after `items` in sorted order).
    func finish(offset: Int, total: Int) -> URLPageResponse {
        writer.raw("],\"limit\":")
        writer.int(limit)
        if let lastPath {
            writer.raw(",\"nextCursor\":")
            writer.string(lastPath)
        }
        writer.raw(",\"offset\":")
        writer.int(offset)
        writer.raw(",\"total\":")
        writer.int(total)
        writer.raw("}")
        return URLPageResponse(
            body: writer.withBytes { bytes in
                var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                return buffer
            }
        )
    }
}

struct URLPageResponse: ResponseGenerator {
    let body: ByteBuffer

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

extension JSONWriter {
    /// One URL with the keys of the generated `URL` type in sorted order, as JSONEncoder with
    /// `.sortedKeys` writes them; values as `URLView(URLRecord(row:))` holds them.
    func url(_ row: URLRow) throws {
        let owner = try row.requiredOwner()
        let planned = try row.owner(.plannedOwner)
        let observed = try row.owner(.observedOwner)
        let source = try row.ownerSource(.observedSource)
        let parity = try row.parity()
        raw("{")
        var first = true
        if let value = row.text(.contentHash) {
            key("contentHash", first: &first)
            string(value)
        }
        key("drift", first: &first)
        bool(row.bool(.drift))
        key("expectedOwner", first: &first)
        self.owner(planned ?? owner)
        if let value = row.text(.filePath) {
            key("filePath", first: &first)
            string(value)
        }
        key("flags", first: &first)
        raw("[")
        var firstFlag = true
        for name in URLFlags(rawValue: Int(row.int64(.flags))).names {
            if !firstFlag { byte(UInt8(ascii: ",")) }
            firstFlag = false
            string(name)
        }
        raw("]")
        key("gone", first: &first)
        bool(row.bool(.gone))
        if !row.isNull(.hits) {
            key("hits", first: &first)
            int(row.int64(.hits))
        }
        key("id", first: &first)
        int(row.int64(.id))
        if let value = row.text(.lastError) {
            key("lastError", first: &first)
            string(value)
        }
        if !row.isNull(.lastLatencyMs) {
            key("lastLatencyMs", first: &first)
            double(row.double(.lastLatencyMs))
        }
        if !row.isNull(.lastSeen) {
            key("lastSeen", first: &first)
            date(secondsSince1970: Double(row.int64(.lastSeen)))
        }
        if !row.isNull(.lastStatus) {
            key("lastStatus", first: &first)
            int(row.int64(.lastStatus))
        }
        if !row.isNull(.mtime) {
            key("mtime", first: &first)
            date(secondsSince1970: row.double(.mtime))
        }
        if let observed {
            key("observedOwner", first: &first)
            self.owner(observed)
        }
        if let source {
            key("observedSource", first: &first)
            raw(source == .marker ? "\"marker\"" : "\"guessed\"")
        }
        key("owner", first: &first)
        self.owner(owner)
        if let parity {
            key("parity", first: &first)
            string(parity.rawValue)
        }
        key("path", first: &first)
        if let value = row.text(.path) { string(value) } else { raw("null") }
        if let planned {
            key("plannedOwner", first: &first)
            self.owner(planned)
        }
        key("readyToFlip", first: &first)
        bool(URLEntry.isReadyToFlip(swiftAnswers: row.bool(.readyToFlip), parity: parity))
        if let value = row.text(.redirectTo) {
            key("redirectTo", first: &first)
            string(value)
        }
        if !row.isNull(.size) {
            key("size", first: &first)
            int(row.int64(.size))
        }
        key("swiftAnswers", first: &first)
        bool(row.bool(.readyToFlip))
        raw("}")
    }

    /// An owner as the JSON string of its raw value, from a constant.
    private func owner(_ owner: Owner) {
        switch owner {
        case .php: raw("\"php\"")
        case .swift: raw("\"swift\"")
        case .static: raw("\"static\"")
        }
    }
}
