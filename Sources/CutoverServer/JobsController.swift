import CutoverAPI
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Crawl and probe jobs: start (202), list, one job with its progress.
struct JobsController {
    let database: AppDatabase
    let jobs: JobRunner
    let streams: EventStreamSlots
    /// How often a silent event stream sends a comment line (`serve --sse-keep-alive`).
    let keepAlive: Duration

    func add(to api: RouterGroup<AppContext>) {
        api.post("sites/:site/jobs") { request, context -> EditedResponse<JobView> in
            let site = try await database.site(context)
            let input = try await request.decode(as: JobInput.self, context: context)
            let kind = JobKind(input.kind)
            let selection = try Self.selection(input, kind: kind)
            if let selection {
                // Unknown or malformed pages are the caller's 404 or 422 now, not a failed job later.
                _ = try await blockingRead { try database.plan.parityPages(siteID: site.id, selection) }
            }
            let job = try await jobs.start(kind, site: site, selection: selection)
            var headers = HTTPFields()
            headers[.location] = "/api/jobs/\(job.id)"
            return EditedResponse(status: .accepted, headers: headers, response: JobView(job))
        }
        api.get("jobs") { _, _ in await jobs.list().map(JobView.init) }
        api.get("jobs/:id/events") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), let updates = await jobs.updates(of: id) else {
                throw APIError(.notFound, "not_found", "no such job")
            }
            guard let slot = streams.reserve() else {
                throw APIError(.tooManyRequests, "too_many_streams", "at most \(streams.limit) event streams at once; poll /api/jobs/\(id) instead")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    // The slot is held as long as this body can run.
                    defer { withExtendedLifetime(slot) {} }
                    try await Self.stream(job: id, updates: updates, jobs: jobs, keepAlive: keepAlive, encoder: context.responseEncoder, to: &writer)
                }
            )
        }
        api.get("jobs/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), let job = await jobs.job(id) else {
                throw APIError(.notFound, "not_found", "no such job")
            }
            return JobView(job)
        }
    }
}

extension JobsController {
    /// The pages a parity job compares: `prefix` or `paths`, at most one; other kinds take neither.
    static func selection(_ input: JobInput, kind: JobKind) throws -> URLSelection? {
        let given = [input.prefix.map { URLSelection.prefix($0) }, input.paths.map { .paths($0) }].compactMap { $0 }
        guard !given.isEmpty else { return nil }
        guard kind == .parity else { throw APIError(.unprocessableContent, "invalid", "'prefix' and 'paths' are for parity jobs only") }
        guard given.count == 1, input.paths?.isEmpty != true else {
            throw APIError(.unprocessableContent, "invalid", "give at most one of prefix or paths (non-empty)")
        }
        return given[0]
    }

    /// Server-Sent Events: a `progress` event whenever the job changes (pushed by the job
    /// runner, no polling), then one `done` event with the final state, then the stream ends.
    /// A comment line every `keepAlive` while the job is silent finds a client that went away
    /// (the write fails), so an abandoned stream ends within one interval and frees its slot.
    static func stream(
        job id: Int,
        updates: AsyncStream<JobSnapshot>,
        jobs: JobRunner,
        keepAlive: Duration,
        encoder: JSONEncoder,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        let (events, sink) = AsyncStream.makeStream(of: JobSnapshot?.self, bufferingPolicy: .bufferingNewest(8))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await job in updates { sink.yield(job) }
                sink.finish()
            }
            group.addTask {
                // nil is a keep-alive tick; the group cancels this when the stream ends.
                while (try? await Task.sleep(for: keepAlive)) != nil { sink.yield(nil) }
            }
            var last: JobSnapshot?
            for await event in events {
                guard let job = event else {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    continue
                }
                if job.state == .running, job != last {
                    try await writer.write(ByteBuffer(string: "event: progress\ndata: \(try Self.json(job, encoder))\n\n"))
                    last = job
                }
            }
            group.cancelAll()
        }
        if let job = await jobs.job(id) {
            try await writer.write(ByteBuffer(string: "event: done\ndata: \(try Self.json(job, encoder))\n\n"))
        }
        try await writer.finish(nil)
    }

    static func json(_ job: JobSnapshot, _ encoder: JSONEncoder) throws -> String {
        String(decoding: try encoder.encode(JobView(job)), as: UTF8.self)
    }
}

/// How many event streams may be open at once: each holds a connection and a descriptor.
final class EventStreamSlots: Sendable {
    let limit: Int
    private let open = Mutex(0)

    init(limit: Int) { self.limit = limit }

    var count: Int { open.withLock { $0 } }

    /// A slot, or nil when all are taken. The slot is given back when the last reference to it
    /// goes, whether or not the response body ever ran (a HEAD request never runs it).
    func reserve() -> Slot? {
        let taken = open.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        return taken ? Slot(self) : nil
    }

    fileprivate func release() { open.withLock { $0 -= 1 } }

    final class Slot: Sendable {
        private let owner: EventStreamSlots
        fileprivate init(_ owner: EventStreamSlots) { self.owner = owner }
        deinit { owner.release() }
    }
}

extension JobView: ResponseEncodable {
    /// A job as the API shows it.
    init(_ job: JobSnapshot) {
        self.init(
            done: job.done,
            error: job.error,
            finishedAt: job.finishedAt,
            id: job.id,
            kind: .init(job.kind),
            runID: job.runID.map(Int.init),
            site: job.site,
            startedAt: job.startedAt,
            state: .init(job.state),
            total: job.total,
            trigger: job.trigger
        )
    }
}

extension Components.Schemas.JobKind {
    init(_ kind: JobKind) {
        switch kind {
        case .crawl: self = .crawl
        case .probe: self = .probe
        case .logs: self = .logs
        case .parity: self = .parity
        }
    }
}

extension JobKind {
    init(_ kind: Components.Schemas.JobKind) {
        switch kind {
        case .crawl: self = .crawl
        case .probe: self = .probe
        case .logs: self = .logs
        case .parity: self = .parity
        }
    }
}

extension Components.Schemas.JobState {
    init(_ state: JobState) {
        switch state {
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        }
    }
}
