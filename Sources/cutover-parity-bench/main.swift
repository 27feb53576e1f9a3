import CLibXML2
import CutoverParity
import Foundation

// Parity's comparison against the parser it is built on (#27, "within 2 × of the parser's own
// time to parse both pages"): pages shaped like real ones (a head of metadata, navigation, an
// article of paragraphs with inline links, a long list, a form with a CSRF token, a footer),
// 30 to 100 KB, in pairs that differ in a few places; each pair parsed by libxml2 alone, then
// normalised and compared by `Parity.compare`. Prints both times per pair size and their ratio.
// Usage: cutover-parity-bench [rounds]   (release build: `make bench-parity`)

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200

func page(kilobytes: Int, seed: Int, token: String) -> String {
    var html = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Article \(seed)</title>
        <meta name="description" content="A page of the shop"><link rel="canonical" href="/article/\(seed)">
        <link rel="stylesheet" href="/static/site.css?v=12"><script src="/static/app.js" defer></script></head>
        <body class="article"><header id="top"><nav class="main"><ul>
        """
    for item in 0..<30 { html += "<li class=\"nav-item\"><a href=\"/section/\(item)\">Section \(item)</a></li>" }
    html += "</ul></nav></header><main id=\"content\"><article><h1>Article \(seed)</h1>"
    var paragraph = 0
    while html.utf8.count < kilobytes * 1024 - 2_000 {
        html += "<p class=\"text\">Paragraph \(paragraph) of the article, with <a href=\"/link/\(paragraph)\">a link</a>, "
        html += "<em>emphasis</em> and &amp; entities &#233; as pages have; some more words to fill a line of text.</p>\n"
        if paragraph % 10 == 0 { html += "<ul class=\"list\">" + (0..<8).map { "<li>point \($0) of \(paragraph)</li>" }.joined() + "</ul>" }
        paragraph += 1
    }
    html += """
        </article><form id="comment" method="post" action="/comment"><input type="hidden" name="csrf" value="\(token)">
        <input name="name"><textarea name="text"></textarea><button>Send</button></form></main>
        <footer><p>Generated at 10:00:00.\(seed)</p></footer></body></html>
        """
    return html
}

func parseOnly(_ body: [UInt8]) {
    let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue)
    body.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            if let document = htmlReadMemory(chars.baseAddress, Int32(chars.count), nil, "utf-8", options) { xmlFreeDoc(document) }
        }
    }
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

print("parity: normalise + compare a pair of pages, against libxml2 parsing the same two pages (\(rounds) rounds each, medians)")
let clock = ContinuousClock()
for kilobytes in [30, 60, 100] {
    let php = page(kilobytes: kilobytes, seed: 1, token: "a1b2c3")
    // The Swift twin: another token, a changed paragraph, one list item missing.
    let swift = page(kilobytes: kilobytes, seed: 1, token: "z9y8x7")
        .replacingOccurrences(of: "Paragraph 7 of", with: "Paragraph seven of")
        .replacingOccurrences(of: "<li>point 3 of 20</li>", with: "")
    let a = ParityResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: php)
    let b = ParityResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: swift)
    var parse: [Double] = []
    var compare: [Double] = []
    var differences = 0
    for _ in 0..<rounds {
        let start = clock.now
        parseOnly(a.body)
        parseOnly(b.body)
        let parsed = clock.now
        differences = Parity.compare(php: a, swift: b).differences.count
        let compared = clock.now
        parse.append(seconds(parsed - start))
        compare.append(seconds(compared - parsed))
    }
    let parseMedian = parse.sorted()[rounds / 2]
    let compareMedian = compare.sorted()[rounds / 2]
    print(
        String(
            format: "  %3d KB pages: parse both %.2f ms, parity compare %.2f ms (%d differences) -> ratio %.2f (target <= 2)",
            kilobytes,
            parseMedian * 1000,
            compareMedian * 1000,
            differences,
            compareMedian / parseMedian
        )
    )
}
