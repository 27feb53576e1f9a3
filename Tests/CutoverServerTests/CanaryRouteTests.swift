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

            // One canary in full: its steps, decisions and the current window judged now.
            (status, body) = try await call(.get, "/api/sites/demo/canaries/checkout", headers: [:])
            let steps = (body["steps"] as? [[String: Any]])?.compactMap { $0["weight"] as? Int }
            let decisions = body["decisions"] as? [[String: Any]] ?? []
            let window = body["window"] as? [String: Any] ?? [:]
            #expect(status == .ok && steps == [0, 25] && decisions.count == 2, "\(body)")
            #expect(decisions.first?["reason"] as? String == "weight 0 → 25 %" && decisions.first?["actor"] as? String == "api")
            #expect(
                window["verdict"] as? String == "waiting"
                    && (window["reasons"] as? [String])?.first == "waiting for traffic: 0 of 50 requests on Swift"
            )
            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"paused":true}"#)
            #expect(status == .ok && body["paused"] as? Bool == true, "\(body)")
            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"paused":false}"#)
            #expect(status == .ok && body["paused"] as? Bool == false && body["automatic"] as? Bool == false, "\(body)")
            let policy = #""policy":{"intervalSeconds":30,"minRequests":100,"onLowTraffic":"promote","trafficWaitSeconds":3600}"#
            (status, body) = try await call(
                .post,
                "/api/sites/demo/canaries",
                #"{"name":"auto","paths":["/page-2.php"],"automatic":true,"mapForm":"tree","mapFile":"/srv/cutover/flips",\#(policy)}"#
            )
            let stored = body["policy"] as? [String: Any] ?? [:]
            #expect(status == .created && body["automatic"] as? Bool == true && body["mapFile"] as? String == "/srv/cutover/flips", "\(body)")
            #expect(
                stored["minRequests"] as? Int == 100 && stored["onLowTraffic"] as? String == "promote" && stored["latencyRatio"] as? Double == 1.5
            )
            // A change to a canary with a map writes it in the same call; a map that cannot be
            // written is said, and the change stands.
            (status, body) = try await call(.put, "/api/sites/demo/canaries/auto", #"{"weight":5}"#)
            #expect(status == .ok && body["weight"] as? Int == 5 && body["published"] == nil, "\(body)")
            #expect((body["publishError"] as? String)?.contains("/srv/cutover/flips") == true, "\(body)")

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
                (.put, "/api/sites/demo/canaries/checkout", #"{"paused":true,"weight":5}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"spaced","paths":["/old page.php"]}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"automatic":true}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"mapForm":"tree"}"#, .unprocessableContent),
                (
                    .post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"mapForm":"tree","mapFile":"rel/x"}"#,
                    .unprocessableContent
                ),
                (
                    .post, "/api/sites/demo/canaries",
                    #"{"name":"x","paths":["/page-2.php"],"mapForm":"tree","mapFile":"/srv/x\"\nLoadModule evil_module /tmp/evil.so"}"#,
                    .unprocessableContent
                ),
                (
                    .post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"mapForm":"dbm","mapFile":"/srv/${EVIL}"}"#,
                    .unprocessableContent
                ),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"mapForm":"vhost","mapFile":"/x"}"#, .badRequest),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"policy":{"intervalSeconds":1}}"#, .unprocessableContent),
                (.post, "/api/sites/demo/canaries", #"{"name":"x","paths":["/page-2.php"],"policy":{"latencyRatio":0.5}}"#, .unprocessableContent),
            ] {
                let (status, body) = try await call(method, uri, payload)
                #expect(status == expected && (body["error"] as? [String: Any])?["message"] != nil, "\(uri) \(payload): \(status) \(body)")
            }
            (status, body) = try await call(.get, "/api/sites/demo/canaries/nope")
            #expect(
                status == .notFound
                    && (body["error"] as? [String: Any])?["message"] as? String == "no canary named 'nope' (see 'cutover canary list')"
            )
            (status, _) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"weight":50}"#, headers: anonymous)
            #expect(status == .unauthorized, "writes need the token")

            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"end":"promote"}"#)
            #expect(status == .ok && body["state"] as? String == "promoted" && body["weight"] as? Int == 100, "\(body)")
            (status, body) = try await call(.put, "/api/sites/demo/canaries/checkout", #"{"weight":5}"#)
            #expect(status == .conflict, "a promoted canary has no weight to set: \(body)")
        }
    }
}
