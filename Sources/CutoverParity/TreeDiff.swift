/// Differences between two element trees, one field per DOM path: `html/head/title/text()`,
/// `html/body/form[@id=login]/input[@name=csrf]@value`, `html/body/nav/a[3]@href`. An element is
/// named by its `id`, else its `name`, else its position among the siblings of its tag (in the
/// PHP answer), and only when it has such siblings.
enum TreeDiff {
    static func compare(_ a: Element, _ b: Element, path: String, into out: inout [ParityDifference]) {
        guard a.hash != b.hash else { return }
        var i = 0
        var j = 0
        // Attributes, sorted by name on both sides.
        while i < a.attributes.count || j < b.attributes.count {
            let left = i < a.attributes.count ? a.attributes[i] : nil
            let right = j < b.attributes.count ? b.attributes[j] : nil
            if let left, let right, left.name == right.name {
                if left.value != right.value { out.append(ParityDifference("\(path)@\(left.name)", left.value, right.value)) }
                i += 1
                j += 1
            } else if let left, right == nil || left.name < right!.name {
                out.append(ParityDifference("\(path)@\(left.name)", left.value, nil))
                i += 1
            } else if let right {
                out.append(ParityDifference("\(path)@\(right.name)", nil, right.value))
                j += 1
            }
        }
        if a.text != b.text { out.append(ParityDifference("\(path)/text()", a.text.isEmpty ? nil : a.text, b.text.isEmpty ? nil : b.text)) }
        let pairs = Alignment.align(a.children, b.children, equal: { $0.hash == $1.hash }, similar: { $0.key == $1.key })
        let namesA = names(a.children)
        let namesB = names(b.children)
        for pair in pairs {
            switch pair {
            case .both(let x, let y):
                compare(a.children[x], b.children[y], path: "\(path)/\(namesA[x])", into: &out)
            case .onlyFirst(let x):
                out.append(ParityDifference("\(path)/\(namesA[x])", a.children[x].summary, nil))
            case .onlySecond(let y):
                out.append(ParityDifference("\(path)/\(namesB[y])", nil, b.children[y].summary))
            }
        }
    }

    /// Every attribute and text of a tree as fields, named as `compare` names them.
    static func fields(_ element: Element, path: String, into out: inout [ParityField]) {
        for attribute in element.attributes { out.append(ParityField(field: "\(path)@\(attribute.name)", value: attribute.value)) }
        if !element.text.isEmpty { out.append(ParityField(field: "\(path)/text()", value: element.text)) }
        let names = names(element.children)
        for (index, child) in element.children.enumerated() { fields(child, path: "\(path)/\(names[index])", into: &out) }
    }

    /// Each child's path segment among its siblings.
    static func names(_ children: [Element]) -> [String] {
        var tagCounts: [String: Int] = [:]
        for child in children where child.key.id == nil && child.key.name == nil { tagCounts[child.tag, default: 0] += 1 }
        var seen: [String: Int] = [:]
        return children.map { child in
            if let id = child.key.id { return "\(child.tag)[@id=\(id)]" }
            if let name = child.key.name { return "\(child.tag)[@name=\(name)]" }
            let position = seen[child.tag, default: 0] + 1
            seen[child.tag] = position
            return tagCounts[child.tag, default: 0] > 1 ? "\(child.tag)[\(position)]" : child.tag
        }
    }
}
