import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The webhooks' API (#29.4): add (201, the secret once), list without secrets, the delivery
/// log, remove; refusals with their status; writes need the token.
@Suite struct WebhookRouteTests {
    @Test func addListLogRemoveAndRefusals() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            func call(
                _ method: HTTPRequest.Method,
                _ uri: String,
                _ body: String? = nil,
                headers: HTTPFields = authorized
            ) async throws
                -> (HTTPResponse.Status, Any?)
            {
                try await client.execute(uri: uri, method: method, headers: headers, body: body.map(json)) { response in
                    (response.status, try? JSONSerialization.jsonObject(with: Data(buffer: response.body)))
                }
            }
            var (status, body) = try await call(
                .post,
                "/api/sites/demo/webhooks",
                #"{"url":"https://hooks.example.com/cutover","events":["canary.rolled_back","drift"]}"#
            )
            let made = body as? [String: Any] ?? [:]
            let secret = made["secret"] as? String ?? ""
            #expect(status == .created && secret.count == 64 && secret.allSatisfy(\.isHexDigit), "\(made)")
            #expect(made["events"] as? [String] == ["canary.rolled_back", "drift"])
            (status, body) = try await call(.get, "/api/sites/demo/webhooks", headers: [:])
            let listed = body as? [[String: Any]] ?? []
            #expect(
                status == .ok && listed.count == 1 && listed[0]["secret"] == nil && listed[0]["url"] as? String == "https://hooks.example.com/cutover"
            )
            (status, body) = try await call(.get, "/api/sites/demo/webhooks/deliveries", headers: [:])
            #expect(status == .ok && (body as? [Any])?.isEmpty == true)

            for (method, uri, payload, expected) in [
                (HTTPRequest.Method.post, "/api/sites/demo/webhooks", #"{"url":"ftp://x.example/"}"#, HTTPResponse.Status.unprocessableContent),
                (.post, "/api/sites/demo/webhooks", #"{"url":"https://user:pw@x.example/"}"#, .unprocessableContent),
                (.post, "/api/sites/demo/webhooks", #"{"url":"https://a%0ab/"}"#, .unprocessableContent),
                (.post, "/api/sites/demo/webhooks", #"{"url":"https://x.example/","events":["everything"]}"#, .badRequest),
                (.post, "/api/sites/demo/webhooks", #"{"url":"#, .badRequest),
                (.post, "/api/sites/nosite/webhooks", #"{"url":"https://x.example/"}"#, .notFound),
                (.delete, "/api/sites/demo/webhooks/999", "", .notFound),
                (.delete, "/api/sites/demo/webhooks/abc", "", .notFound),
            ] {
                let (status, body) = try await call(method, uri, payload.isEmpty ? nil : payload)
                let message = ((body as? [String: Any])?["error"] as? [String: Any])?["message"]
                #expect(status == expected && message != nil, "\(uri) \(payload): \(status) \(String(describing: body))")
            }
            (status, _) = try await call(.post, "/api/sites/demo/webhooks", #"{"url":"https://x.example/"}"#, headers: anonymous)
            #expect(status == .unauthorized, "writes need the token")
            let id = made["id"] as? Int ?? 0
            (status, _) = try await call(.delete, "/api/sites/demo/webhooks/\(id)", headers: anonymous)
            #expect(status == .unauthorized)
            (status, _) = try await call(.delete, "/api/sites/demo/webhooks/\(id)")
            #expect(status == .noContent)
            (status, body) = try await call(.get, "/api/sites/demo/webhooks", headers: [:])
            #expect((body as? [Any])?.isEmpty == true)
        }
    }
}
