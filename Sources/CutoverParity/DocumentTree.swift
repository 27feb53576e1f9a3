import CLibXML2

/// A parsed HTML or XML body, normalised for comparison: elements with their attributes sorted
/// by name, their own text with whitespace collapsed, comments and processing instructions
/// dropped, entities and charsets decoded by the parser (libxml2 gives UTF-8 whatever the page's
/// encoding), and a hash of each subtree so that equal subtrees are recognised at once.
final class Element {
    let tag: String
    let attributes: [(name: String, value: String)]
    /// The element's own text (not its children's), whitespace collapsed.
    let text: String
    let children: [Element]
    let hash: Int
    /// What aligns an element with its counterpart when their contents differ.
    let key: Key

    struct Key: Hashable {
        var tag: String
        var id: String?
        var name: String?
        var className: String?
    }

    init(tag: String, attributes: consuming [(name: String, value: String)], text: String, children: [Element]) {
        // Moved in and sorted in place: most elements have a few attributes, and a copy per
        // element was a measurable share of a page's parse (perf, scripts/bench-apache.py parity).
        var sorted = attributes
        if sorted.count > 1 { sorted.sort { $0.name < $1.name } }
        func value(_ name: String) -> String? { sorted.first { $0.name == name }?.value }
        key = Key(tag: tag, id: value("id"), name: value("name"), className: value("class"))
        self.tag = tag
        self.attributes = sorted
        self.text = text
        self.children = children
        var hasher = Hasher()
        hasher.combine(tag)
        for attribute in sorted {
            hasher.combine(attribute.name)
            hasher.combine(attribute.value)
        }
        hasher.combine(text)
        for child in children { hasher.combine(child.hash) }
        hash = hasher.finalize()
    }

    func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }

    /// Elements in this subtree, itself included.
    var size: Int { 1 + children.reduce(0) { $0 + $1.size } }

    /// A short description of the element for a field whose other side has none.
    var summary: String {
        var out = "<" + tag
        for name in ["id", "name", "class", "type", "href", "src", "rel"] {
            if let value = attribute(name) { out += " \(name)=\"\(value)\"" }
        }
        out += ">"
        let inner = allText
        if !inner.isEmpty { out += inner }
        return out
    }

    /// The text of the whole subtree, whitespace collapsed.
    var allText: String {
        var parts: [String] = text.isEmpty ? [] : [text]
        for child in children {
            let inner = child.allText
            if !inner.isEmpty { parts.append(inner) }
        }
        return parts.joined(separator: " ")
    }
}

enum DocumentParser {
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    /// The body as an HTML tree. libxml2's HTML parser recovers from anything a browser would
    /// (unclosed tags, stray end tags); `encoding` is the charset the answer declared, else the
    /// parser reads `<meta charset>` or assumes what HTML does.
    static func html(_ body: [UInt8], encoding: String?) -> Element? {
        _ = initialised
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
        )
        let document: htmlDocPtr? = body.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                // An encoding libxml2 does not know (a typo in a header) must not lose the page.
                if let encoding, let parsed = htmlReadMemory(chars.baseAddress, Int32(clamping: chars.count), nil, encoding, options) {
                    return parsed
                }
                return htmlReadMemory(chars.baseAddress, Int32(clamping: chars.count), nil, nil, options)
            }
        }
        guard let document else { return nil }
        defer { xmlFreeDoc(document) }
        return xmlDocGetRootElement(document).flatMap(element)
    }

    /// The body as an XML tree (feeds, sitemaps). Entities are not substituted and no DTD or
    /// network resource is loaded: a hostile document cannot read a local file into a field.
    static func xml(_ body: [UInt8]) -> Element? {
        _ = initialised
        let options = Int32(
            XML_PARSE_RECOVER.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NONET.rawValue
        )
        let document: xmlDocPtr? = body.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlReadMemory(chars.baseAddress, Int32(clamping: chars.count), nil, nil, options)
            }
        }
        guard let document else { return nil }
        defer { xmlFreeDoc(document) }
        return xmlDocGetRootElement(document).flatMap(element)
    }

    private static func element(_ node: xmlNodePtr) -> Element? {
        var scratch = Collapsing()
        scratch.reserve(256)
        return element(node, scratch: &scratch)
    }

    /// One element and its subtree; `scratch` is the one buffer every text of the parse is
    /// collapsed in (a buffer per text was an allocation per element and attribute).
    private static func element(_ node: xmlNodePtr, scratch: inout Collapsing) -> Element? {
        guard node.pointee.type == XML_ELEMENT_NODE, let name = node.pointee.name else { return nil }
        var attributes: [(name: String, value: String)] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            if let attributeName = current.pointee.name {
                scratch.reset()
                var text = current.pointee.children
                while let part = text {
                    if let content = part.pointee.content { scratch.append(content) }
                    text = part.pointee.next
                }
                attributes.append((String(cString: attributeName), scratch.text))
            }
            attribute = current.pointee.next
        }
        // The element's own text first (its text nodes, in order), then its child elements.
        scratch.reset()
        var child = node.pointee.children
        var elementCount = 0
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE: elementCount += 1
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { scratch.append(content) }
            default:
                break  // comments, processing instructions, entity references
            }
            child = current.pointee.next
        }
        let ownText = scratch.text
        var children: [Element] = []
        if elementCount > 0 {
            children.reserveCapacity(elementCount)
            child = node.pointee.children
            while let current = child {
                if current.pointee.type == XML_ELEMENT_NODE, let element = element(current, scratch: &scratch) { children.append(element) }
                child = current.pointee.next
            }
        }
        return Element(tag: String(cString: name), attributes: attributes, text: ownText, children: children)
    }

    /// Collapses whitespace over the parser's UTF-8 bytes as they come, text node by text node.
    struct Collapsing {
        private var bytes: [UInt8] = []
        private var pendingSpace = false

        mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

        /// Empty again, keeping the buffer.
        mutating func reset() {
            bytes.removeAll(keepingCapacity: true)
            pendingSpace = false
        }

        mutating func append(_ content: UnsafePointer<xmlChar>) {
            var pointer = content
            while pointer.pointee != 0 {
                let byte = pointer.pointee
                // ASCII whitespace, and U+00A0 (C2 A0) as a space.
                if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C {
                    pendingSpace = !bytes.isEmpty
                } else if byte == 0xC2, pointer[1] == 0xA0 {
                    pendingSpace = !bytes.isEmpty
                    pointer += 1
                } else {
                    if pendingSpace { bytes.append(0x20) }
                    pendingSpace = false
                    bytes.append(byte)
                }
                pointer += 1
            }
        }

        var text: String { bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self) }
    }
}
