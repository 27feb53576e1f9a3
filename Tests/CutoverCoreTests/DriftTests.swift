import Testing

@testable import CutoverCore

@Suite struct DriftTests {
    @Test(arguments: [
        (Owner.php, Owner?.some(.php), false), (.php, .swift, true), (.swift, .php, true), (.swift, nil, false),
    ])
    func ownerDrift(expected: Owner, observed: Owner?, drifted: Bool) {
        #expect(Drift.isDrifted(expected: expected, observed: observed) == drifted)
    }

    @Test(arguments: [
        (Int?.some(301), String?.some("http://127.0.0.1:8080/pages/one"), false),
        (301, "/pages/one", false),
        (302, "https://example.com/pages/one", false),
        (301, "http://127.0.0.1:8080/pages/two", true),
        (301, "http://127.0.0.1:8080/pages/one/", true),
        (200, nil, true),
        (301, nil, true),
        (nil, nil, false),
    ])
    func redirectDrift(status: Int?, location: String?, drifted: Bool) {
        #expect(Drift.isDrifted(redirectTo: "/pages/one", status: status, location: location) == drifted)
    }

    @Test func pathAndQueryOfLocations() {
        #expect(Drift.pathAndQuery(of: "http://h:1/a%20b?x=1") == "/a%20b?x=1")
        #expect(Drift.pathAndQuery(of: "http://h:1") == "/")
        #expect(Drift.pathAndQuery(of: "http://h?x") == "/?x")
        #expect(Drift.pathAndQuery(of: "/rel") == "/rel")
    }
}
