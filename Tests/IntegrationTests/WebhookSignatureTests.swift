import CutoverNotify
import Foundation
import Testing

/// The webhook signature is GitHub's: `sha256=` and the hex HMAC-SHA256 of the body as sent.
@Suite struct WebhookSignatureTests {
    @Test func knownVectorAndRetrySchedule() {
        // RFC 4231-style check with the widely published vector (key "key").
        #expect(
            WebhookSender.signature(body: Array("The quick brown fox jumps over the lazy dog".utf8), secret: "key")
                == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        )
        #expect((0..<8).map { WebhookSender.retryAfter(attempts: $0) } == [5, 10, 20, 40, 80, 160, 320, 600].map { .seconds($0) })
    }
}
