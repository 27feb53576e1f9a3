import AsyncHTTPClient
import CutoverCore
import Foundation
import NIOCore

/// What one URL should answer once an export is live.
package struct LiveTarget: Sendable, Hashable, Codable {
    package enum Expectation: Sendable, Hashable, Codable {
        /// Answered by this owner (Swift: without a 5xx, which is the proxy failing).
        case owner(Owner)
        /// A redirect to this path.
        case redirect(to: String)
    }

    package var path: String
    package var expectation: Expectation

    package init(path: String, expectation: Expectation) {
        self.path = path
        self.expectation = expectation
    }
}

/// One URL's live answer, judged.
package struct LiveCheck: Sendable, Hashable, Codable {
    package var path: String
    package var passed: Bool
    package var status: Int?
    /// The export id the answer carried (`X-Cutover-Export`).
    package var exportID: Int64?
    package var observedOwner: Owner?
    package var detail: String
}

/// Asks the live site, on a fresh connection each time, until answers carry the new export's
/// stamp: `apache2ctl graceful` returns before new workers serve, and a kept-alive connection
/// still reaches an old one. Only stamped answers are judged.
package struct LiveVerifier: Sendable {
    package var baseURL: String
    package var fingerprint: OwnerFingerprint
    package var timeout: Duration

    package init(baseURL: String, fingerprint: OwnerFingerprint, timeout: Duration = .seconds(10)) {
        self.baseURL = baseURL
        self.fingerprint = fingerprint
        self.timeout = timeout
    }

    package func verify(exportID: Int64, targets: [LiveTarget]) async -> [LiveCheck] {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2), read: .seconds(5)))
        configuration.httpVersion = .http1Only
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let deadline = ContinuousClock.now + timeout
        var checks: [LiveCheck] = []
        for target in targets {
            checks.append(await check(target, exportID: exportID, client: client, deadline: deadline))
        }
        try? await client.shutdown()
        return checks
    }

    func check(_ target: LiveTarget, exportID: Int64, client: HTTPClient, deadline: ContinuousClock.Instant) async -> LiveCheck {
        var last = "no answer"
        repeat {
            var request = HTTPClientRequest(url: baseURL + target.path)
            request.headers.add(name: "User-Agent", value: "cutover-install/1")
            // A new connection each time: only those can reach the reloaded workers.
            request.headers.add(name: "Connection", value: "close")
            do {
                let response = try await client.execute(request, timeout: .seconds(5))
                _ = try? await response.body.collect(upTo: 1 << 20)
                let status = Int(response.status.code)
                let stamp = response.headers.first(name: ExportStamp.header).flatMap { Int64($0) }
                let owner = fingerprint.observe(status: status) { response.headers.first(name: $0) }?.owner
                let handler = response.headers.first(name: OwnerFingerprint.handlerHeader)
                last = "answered \(status)" + (handler.map { " by \($0)" } ?? "") + ", " + (stamp.map { "export #\($0)" } ?? "no export stamp")
                if stamp == exportID {
                    return judge(target, status: status, owner: owner, location: response.headers.first(name: "Location"), stamp: stamp)
                }
            } catch {
                last = "no answer (\(error))"
            }
            try? await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        return LiveCheck(
            path: target.path,
            passed: false,
            detail: "no answer carried export #\(exportID) within \(timeout.components.seconds) s (last: \(last)): "
                + "the include is not in the <VirtualHost> that serves \(baseURL), or Apache did not reload"
        )
    }

    func judge(_ target: LiveTarget, status: Int, owner: Owner?, location: String?, stamp: Int64?) -> LiveCheck {
        var check = LiveCheck(path: target.path, passed: false, status: status, exportID: stamp, observedOwner: owner, detail: "")
        switch target.expectation {
        case .owner(let expected):
            if expected == .swift, status >= 500 {
                check.detail = "answered \(status) through the proxy: the Swift backend is down or failing (expected Swift)"
            } else if owner == expected {
                check.passed = true
                check.detail = "answered \(status) by \(expected.rawValue), as expected"
            } else {
                check.detail = "answered \(status) by \(owner?.rawValue ?? "nobody identifiable"), expected \(expected.rawValue)"
            }
        case .redirect(let to):
            if Drift.isDrifted(redirectTo: to, status: status, location: location) {
                check.detail = "answered \(status)\(location.map { " to \($0)" } ?? ""), expected a redirect to \(to)"
            } else {
                check.passed = true
                check.detail = "redirects to \(to), as expected"
            }
        }
        return check
    }
}
