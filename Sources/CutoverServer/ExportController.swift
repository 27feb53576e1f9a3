import CutoverCore
import CutoverExport
import CutoverStore
import Foundation
import HTTPTypes
import Hummingbird

/// Rendered directives (text/plain), the preview of owner changes, and the export history.
struct ExportController {
    let database: AppDatabase

    struct ExportItem: ResponseEncodable {
        var id: Int64?
        var form: ExportForm
        var createdAt: Date
        var sha256: String
    }

    func add(to api: RouterGroup<AppContext>) {
        api.get("sites/:site/export") { request, context in
            let site = try database.site(context)
            let formText = request.uri.queryParameters.get("form") ?? "vhost"
            guard let form = ExportForm(rawValue: "\(formText)") else {
                throw APIError(.unprocessableContent, "invalid", "'form' must be vhost, htaccess or rewritemap")
            }
            let map = request.uri.queryParameters.get("map").map { "\($0)" }
            if form == .rewritemap, map == nil { throw APIError(.unprocessableContent, "invalid", "the rewritemap form needs 'map' (the map file path)") }
            let (record, _) = try Exporter(database: database).export(site: site, form: form, mapFilePath: map)
            return Self.text(record.content, exportID: record.id)
        }
        api.get("sites/:site/export/preview") { _, context in
            try Exporter(database: database).preview(site: try database.site(context))
        }
        api.get("sites/:site/exports") { _, context in
            try database.exports(siteID: try database.site(context).id!).map {
                ExportItem(id: $0.id, form: $0.form, createdAt: $0.createdAt, sha256: $0.sha256)
            }
        }
        api.get("sites/:site/exports/:id") { _, context in
            let site = try database.site(context)
            guard let id = context.parameters.get("id", as: Int64.self), let record = try database.export(id: id, siteID: site.id!) else {
                throw APIError(.notFound, "not_found", "no such export for site '\(site.name)'")
            }
            return Self.text(record.content, exportID: record.id)
        }
    }

    static func text(_ content: String, exportID: Int64?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        if let exportID { headers[HTTPField.Name("X-Cutover-Export")!] = String(exportID) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: content)))
    }
}

extension OwnerChangePreview: ResponseEncodable {}
