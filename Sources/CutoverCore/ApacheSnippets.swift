/// Small Apache config fragments that several parts of Cutover (and the tests) share.
public enum ApacheSnippets {
    /// Makes every response say which handler produced it: `proxy-server` for the Swift backend,
    /// `application/x-httpd-php` for PHP, the file type for static files. Works on stock Debian
    /// with mod_headers and needs no change to the PHP or Swift code (see `OwnerFingerprint`).
    public static let ownerMarker = #"Header always set X-Cutover-Handler "expr=%{HANDLER}""#

    /// The fallback in `<Directory>` context: every URL without a file or directory goes to the
    /// backend. `NS` keeps mod_dir's internal index lookups from being proxied (APACHE-NOTES).
    public static func directoryFallback(backend: String) -> String {
        """
        RewriteEngine On
        RewriteCond %{REQUEST_FILENAME} !-f
        RewriteCond %{REQUEST_FILENAME} !-d
        RewriteRule ^(.*)$ \(HTTPBaseURL.normalized(backend))/$1 [P,QSA,L,NS]
        """
    }
}
