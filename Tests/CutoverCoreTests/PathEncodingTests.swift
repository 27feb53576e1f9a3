import CutoverCore
import Testing

@Suite struct PathEncodingTests {
    @Test(arguments: [
        (["page.php"], false, "/page.php"),
        (["old page.php"], false, "/old%20page.php"),
        (["img", "a.png"], false, "/img/a.png"),
        (["about"], true, "/about/"),
        ([], true, "/"),
        (["100%.html"], false, "/100%25.html"),
        (["a+b(1).php"], false, "/a+b(1).php"),
        (["q?.php"], false, "/q%3F.php"),
        (["hash#.php"], false, "/hash%23.php"),
        (["café.php"], false, "/caf%C3%A9.php"),
        (["<img src=x>.php"], false, "/%3Cimg%20src=x%3E.php"),
        (["quote\".php"], false, "/quote%22.php"),
        (["new\nline.php"], false, "/new%0Aline.php"),
    ])
    func encodesSegments(segments: [String], directory: Bool, expected: String) {
        #expect(PathEncoding.urlPath(segments: segments.map { Array($0.utf8) }, trailingSlash: directory) == expected)
    }

    @Test func encodesBytesThatAreNotUTF8() {
        let name: [UInt8] = [0x66, 0xFF, 0xFE, 0x2E, 0x70, 0x68, 0x70]  // "f\xFF\xFE.php"
        #expect(PathEncoding.urlPath(segments: [name]) == "/f%FF%FE.php")
        #expect(PathEncoding.decode("/f%FF%FE.php") == [0x2F] + name)
    }

    @Test(arguments: [
        ("/old page.php", "/old%20page.php"),
        ("/old%20page.php", "/old%20page.php"),
        ("/%61bout/", "/about/"),
        ("/", "/"),
    ])
    func canonicalizesUserPaths(input: String, expected: String) {
        #expect(PathEncoding.canonical(input) == expected)
    }

    @Test(arguments: ["relative.php", "/bad%zz", "/trunc%2", ""])
    func rejectsMalformedPaths(input: String) {
        #expect(PathEncoding.canonical(input) == nil)
    }
}
