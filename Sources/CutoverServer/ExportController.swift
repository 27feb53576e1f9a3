import CutoverAPI
import CutoverCore
import CutoverExport
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// Rendered directives (text/plain), the preview of owner changes, and the export history.
struct ExportController {
    let database: AppDatabase
    let cache: ReadCache

    func add(to api: RouterGroup<AppContext>) {
        // Reading renders the current plan; only POST .../exports stores an export. The exporter is
        // synchronous library code: it runs on NIO's blocking pool, never on an event loop.
        let exporter = Exporter(database: database)
        api.get("sites/:site/export") { request, context in
            let site = try await cache.site(context, in: database)
            let (form, map) = try Self.formAndMap(request)
            let (record, _) = try await blockingRead { try exporter.render(site: site, form: form, mapFilePath: map) }
            return Self.text(record.content, sha256: record.sha256, exportID: nil)
        }
        api.get("sites/:site/export/diff") { request, context in
            let site = try await cache.site(context, in: database)
            let (form, map) = try Self.formAndMap(request)
            return ExportDiffView(try await blockingRead { try exporter.diffAgainstLatest(site: site, form: form, mapFilePath: map) })
        }
        api.get("sites/:site/export/preview") { _, context in
            let site = try await cache.site(context, in: database)
            return try await blockingRead { try exporter.preview(site: site) }.map(OwnerChangeView.init)
        }
        api.get("sites/:site/exports") { _, context in
            let site = try await cache.site(context, in: database)
            return try await blockingRead { try database.exports.list(siteID: site.id) }.map(ExportItemView.init)
        }
        api.post("sites/:site/exports") { request, context in
            let site = try await database.site(context)
            let input = try await request.decode(as: ExportInput.self, context: context)
            let (form, map) = try Self.formAndMap(form: input.form, map: input.map)
            let (record, _) = try await blockingRead { try exporter.export(site: site, form: form, mapFilePath: map) }
            var response = Self.text(record.content, sha256: record.sha256, exportID: record.id)
            response.status = .created
            return response
        }
        api.get("sites/:site/exports/:id") { _, context in
            let site = try await cache.site(context, in: database)
            let id = context.parameters.get("id", as: Int64.self)
            guard let id, let record = try await blockingRead({ try database.exports.find(id: id, siteID: site.id) }) else {
                throw APIError(.notFound, "not_found", "no such export for site '\(site.name)'")
            }
            return Self.text(record.content, sha256: record.sha256, exportID: record.id)
        }
    }

    static func formAndMap(_ request: Request) throws -> (ExportForm, String?) {
        let parameters = QueryValues(request)
        return try formAndMap(form: parameters.text("form"), map: parameters.text("map"))
    }

    static func formAndMap(form formText: String?, map: String?) throws -> (ExportForm, String?) {
        guard let form = ExportForm(rawValue: formText ?? "vhost") else {
            throw APIError(.unprocessableContent, "invalid", "'form' must be vhost, htaccess, rewritemap, dbm or tree")
        }
        if form.usesMapFile, (map ?? "").isEmpty {
            throw APIError(.unprocessableContent, "invalid", "the \(form.rawValue) form needs 'map' (the map file path)")
        }
        if form.usesMapFile, let map {
            guard map.hasPrefix("/") else { throw APIError(.unprocessableContent, "invalid", "'map' must be an absolute path") }
            if let problem = ConfigText.pathProblem(map) {
                throw APIError(.unprocessableContent, "invalid", "'map' \(problem)")
            }
        }
        return (form, form.usesMapFile ? map : nil)
    }

    static func text(_ content: String, sha256: String, exportID: Int64?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[HTTPField.Name("X-Cutover-Export-SHA256")!] = sha256
        if let exportID { headers[HTTPField.Name("X-Cutover-Export")!] = String(exportID) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: content)))
    }
}

extension OwnerChangeView: ResponseEncodable {}
extension ExportDiffView: ResponseEncodable {}
extension ExportItemView: ResponseEncodable {}
