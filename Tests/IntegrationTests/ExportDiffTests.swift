import CutoverExport
import Testing

@Suite struct ExportDiffTests {
    /// Lines come in the texts' order: a removal before the addition that replaces it, top down.
    @Test func theDiffListsChangesTopDown() {
        let old = "a\nb\nc\nd\ne"
        let new = "a\nB\nc\ne\nf"
        #expect(Exporter.diff(from: old, to: new) == "-2: b\n+2: B\n-4: d\n+5: f")
        #expect(Exporter.diff(from: "x\ny\nz", to: "") == "-1: x\n-2: y\n-3: z\n+1: ")
    }
}
