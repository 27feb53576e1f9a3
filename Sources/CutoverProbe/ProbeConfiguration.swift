/// Settings of one probe run.
package struct ProbeConfiguration: Sendable, Hashable {
    /// Requests in flight at once.
    package var concurrency: Int
    /// Deadline for one request, from connect to the end of the (capped) body.
    package var timeout: Duration
    /// Bytes of each body read and hashed; the rest is not downloaded.
    package var bodyCap: Int
    /// Also ask the Swift backend directly whether it already serves each PHP page.
    package var checkBackend: Bool

    package init(concurrency: Int = 16, timeout: Duration = .seconds(5), bodyCap: Int = 256 * 1024, checkBackend: Bool = true) {
        self.concurrency = concurrency
        self.timeout = timeout
        self.bodyCap = bodyCap
        self.checkBackend = checkBackend
    }

    package func problems() -> [String] {
        var found: [String] = []
        if !(1...1024).contains(concurrency) { found.append("concurrency must be between 1 and 1024") }
        if timeout <= .zero || timeout > .seconds(300) { found.append("timeout must be between 0 and 300 seconds") }
        if bodyCap < 0 { found.append("body cap must not be negative") }
        return found
    }
}
