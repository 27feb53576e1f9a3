import CutoverCore
import Testing

@Suite struct ExportStampTests {
    @Test func theStampFollowsTheOwnerMarkerAndComesOffAgain() {
        let text = "# header\n\(ApacheSnippets.ownerMarker)\nRewriteEngine On\n"
        let stamped = ExportStamp.stamp(text, id: 42)
        let lines = stamped.split(separator: "\n").map(String.init)
        #expect(lines[1] == ApacheSnippets.ownerMarker)
        #expect(lines[3] == #"Header always set X-Cutover-Export "42""#)
        #expect(ExportStamp.id(in: stamped) == 42)
        #expect(ExportStamp.strip(stamped) == text)
        // Stamping again replaces the stamp, never adds a second.
        #expect(ExportStamp.stamp(stamped, id: 43).components(separatedBy: "X-Cutover-Export").count == 2)
        #expect(ExportStamp.id(in: text) == nil)
    }
}
