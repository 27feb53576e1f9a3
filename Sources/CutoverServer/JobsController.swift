import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Crawl and probe jobs: start (202), list, one job with its progress.
struct JobsController {
    let database: AppDatabase
    let jobs: JobRunner

    struct StartInput: Decodable {
        var kind: JobKind
    }

    func add(to api: RouterGroup<AppContext>) {
        api.post("sites/:site/jobs") { request, context -> EditedResponse<JobSnapshot> in
            let site = try await database.site(context)
            let input = try await request.decode(as: StartInput.self, context: context)
            let job = try await jobs.start(input.kind, site: site)
            var headers = HTTPFields()
            headers[.location] = "/api/jobs/\(job.id)"
            return EditedResponse(status: .accepted, headers: headers, response: job)
        }
        api.get("jobs") { _, _ in await jobs.list() }
        api.get("jobs/:id/events") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), await jobs.job(id) != nil else {
                throw APIError(.notFound, "not_found", "no such job")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    try await Self.stream(job: id, jobs: jobs, encoder: context.responseEncoder, to: &writer)
                }
            )
        }
        api.get("jobs/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), let job = await jobs.job(id) else {
                throw APIError(.notFound, "not_found", "no such job")
            }
            return job
        }
    }
}

extension JobsController {
    /// Server-Sent Events: a `progress` event whenever the job changes (polled every 200 ms),
    /// then one `done` event with the final state, then the stream ends.
    static func stream(job id: Int, jobs: JobRunner, encoder: JSONEncoder, to writer: inout any ResponseBodyWriter) async throws {
        var last: JobSnapshot?
        while let job = await jobs.job(id) {
            let finished = job.state != .running
            if job != last || finished {
                let data = String(decoding: try encoder.encode(job), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: \(finished ? "done" : "progress")\ndata: \(data)\n\n"))
                last = job
            }
            if finished { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await writer.finish(nil)
    }
}

extension JobSnapshot: ResponseEncodable {}
