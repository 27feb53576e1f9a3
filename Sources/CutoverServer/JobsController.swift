import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// Crawl and probe jobs: start (202), list, one job with its progress.
struct JobsController {
    let database: AppDatabase
    let jobs: JobRunner

    struct StartInput: Decodable {
        var kind: JobKind
    }

    func add(to api: RouterGroup<AppContext>) {
        api.post("sites/:site/jobs") { request, context -> EditedResponse<JobSnapshot> in
            let site = try database.site(context)
            let input = try await request.decode(as: StartInput.self, context: context)
            let job = try await jobs.start(input.kind, site: site)
            var headers = HTTPFields()
            headers[.location] = "/api/jobs/\(job.id)"
            return EditedResponse(status: .accepted, headers: headers, response: job)
        }
        api.get("jobs") { _, _ in await jobs.list() }
        api.get("jobs/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), let job = await jobs.job(id) else {
                throw APIError(.notFound, "not_found", "no such job")
            }
            return job
        }
    }
}

extension JobSnapshot: ResponseEncodable {}
