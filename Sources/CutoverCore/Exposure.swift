/// A symbolic link in the docroot that makes a private place public (`/etc`, a home folder, an
/// ancestor of the docroot): Apache follows it under FollowSymLinks, the crawl never does. The
/// finding is the link and its URL prefix, never the entries beneath it.
public struct Exposure: Sendable, Hashable {
    /// The link, relative to the docroot, as the crawl shows file names.
    public var filePath: String
    /// The link's URL: it and everything below it are served from the private place.
    public var url: String
    /// What the crawl found there.
    public var detail: String

    /// From a crawl issue of kind `exposure`: the URL is the link's path, segment by segment.
    public init(filePath: String, detail: String) {
        self.filePath = filePath
        self.detail = detail
        url = PathEncoding.urlPath(segments: filePath.split(separator: "/").map { Array($0.utf8) })
    }

    /// One Apache line, for the vhost or a `.htaccess`, that answers 404 at the link and below
    /// it (mod_alias); nil when the name cannot be written safely into a config (a control
    /// character). File names are untrusted: the pattern uses only `[A-Za-z0-9_/.-]` and `\xHH`.
    public var denyLine: String? {
        guard let bytes = PathEncoding.decode(url), let literal = try? ApacheEscaping.regexLiteral(bytes, path: url) else { return nil }
        return "RedirectMatch 404 \"^\(literal)(/|$)\""
    }
}
