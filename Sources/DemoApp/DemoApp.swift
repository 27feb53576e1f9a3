import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The sample Swift app of the demo: a few routes of the Acme Widgets site rewritten in Swift.
/// Apache sends it every URL without a file (the fallback) and the pages Cutover flips.
///
///     cutover-demo-app [--hostname 127.0.0.1] [--port 8081]
@main
struct DemoApp {
    static func main() async throws {
        var hostname = "127.0.0.1"
        var port = 8081
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--hostname": hostname = arguments.next() ?? hostname
            case "--port": port = arguments.next().flatMap(Int.init) ?? port
            default:
                FileHandle.standardError.write(Data("usage: cutover-demo-app [--hostname HOST] [--port PORT]\n".utf8))
                exit(2)
            }
        }
        var logger = Logger(label: "cutover-demo-app")
        logger.logLevel = .info
        let app = Application(router: demoRouter(), configuration: .init(address: .hostname(hostname, port: port)), logger: logger)
        try await app.runService()
    }
}

/// The routes; the Swift pages answer at the same paths as the PHP pages they replace.
func demoRouter() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: OwnerMarker())
    router.get("health") { _, _ in "ok" }
    router.get("/") { _, _ in page("Acme Widgets", "Welcome to Acme Widgets, now served by Swift.") }
    router.get("contact.php") { _, _ in page("Contact", "Write to hello@acme.example; we answer within a day.") }
    router.get("about/team.php") { _, _ in page("Our team", "Twelve people who like widgets, now on a Swift server.") }
    router.get("news") { _, _ in page("News", "This page never existed in PHP: the fallback brings it to Swift.") }
    return router
}

/// Marks every response, errors included, as answered by Swift. Cutover's probe reads it.
struct OwnerMarker<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[HTTPField.Name("X-Cutover-Owner")!] = "swift"
        return response
    }
}

/// A small HTML page; titles and bodies are constants of this file, never request data.
func page(_ title: String, _ body: String) -> HTML {
    HTML(
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(title)</title></head>
        <body><h1>\(title)</h1><p>\(body)</p><p><small>Served by the Swift app.</small></p></body></html>
        """
    )
}

struct HTML: ResponseGenerator {
    let text: String

    init(_ text: String) {
        self.text = text
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
