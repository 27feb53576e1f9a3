import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The canaries' API (#29): start (201), list, weight, end; each refusal with its status; writes
/// need the token.
@Suite struct CanaryRouteTests {
    @Test func startWeightEndAndRefusals() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.crawl()
        try await fixture.test { client in
            func call(
                _ method: HTTPRequest.Method,
                _ uri: String,
                _ body: String? = nil,
                headers: HTTPFields = authorized
            ) async throws
                -> (HTTPResponse.Status, [String: Any])
            {
                try await client.execute(uri: uri, method: method, headers: headers, body: body.map(json)) { response in
                    (response.status, (try? decode(response)) ?? [:])
                }
            }
            var (status, body) = try await call(.post, "/api/sites/demo/canaries", #"{"name":"checkout","paths":["/page-1.php"]}"#)
            #expect(status == .created && body["weight"] as? Int == 0 && body["state"] as? String == "running", "\(body)")
            #expect(body["pages"] as? [String] == ["/page-1.php"] && body["steps"] as? [Int] == [1, 5, 25, 50, 100])
            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"weight":25}"#)
            #expect(status == .ok && body["weight"] as? Int == 25, "\(body)")
            (status, _) = try await call(.get, "/api/sites/demo/canaries", headers: [:])
            #expect(status == .ok)
            let list = try await client.execute(uri: "/api/sites/demo/canaries", method: .get) { response in
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]] ?? []
            }
            #expect(list.map { $0["name"] as? String } == ["checkout"])
            try await client.execute(uri: "/metrics", method: .get) { response throws in
                let text = String(buffer: response.body)
                #expect(text.contains(#"cutover_canary_weight_percent{site="demo",canary="checkout"} 25"#), "\(text)")
            }

            // Refusals: the status says which.
            for (method, uri, payload, expected) in [
                (HTTPRequest.Method.post, "/api/sites/demo/canaries", #"{"name":"checkout","paths":["/page-2.php"]}"#, HTTPResponse.Status.conflict),
                (.post, "/api/sites/demo/canaries", #"{"name":"other","paths":["/page-1.php"]}"#, .conflict),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/css/site.css"]}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","prefix":"/","glob":"/*"}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"bad name!","paths":["/page-2.php"]}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"steps":[50,5]}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/nope.php"]}"#, .notFound),
                (.post, "/api/sites/demo/canaries", #"{"name":"#, .badRequest),
                (.put, "/api/sites/demo/canaries/checkout", #"{"weight":101}"#, .unprocessableContent),
                (.put, "/api/sites/demo/canaries/checkout", #"{"weight":5,"end":"abort"}"#, .unprocessableContent),
                (.put, "/api/sites/demo/canaries/nope", #"{"weight":5}"#, .notFound),
                (.put, "/api/sites/nosite/canaries/checkout", #"{"weight":5}"#, .notFound),
            ] {
                let (status, body) = try await call(method, uri, payload)
                #expect(status == expected && (body["error"] as? [String: Any])?["message"] != nil, "\(uri) \(payload): \(status) \(body)")
            }
            (status, _) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"weight":50}"#, headers: anonymous)
            #expect(status == .unauthorized, "writes need the token")

            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"end":"promote"}"#)
            #expect(status == .ok && body["state"] as? String == "promoted" && body["weight"] as? Int == 100, "\(body)")
            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"weight":5}"#)
            #expect(status == .conflict, "a promoted canary has no weight to set: \(body)")
        }
    }
}
