import CutoverInstall
import Testing

@Suite struct VirtualHostTests {
    /// What `apache2ctl -S` printed for a Debian site with name-based vhosts and a single-address one.
    static let summary = """
        VirtualHost configuration:
        *:80                   is a NameVirtualHost
                 default server blog.example (/etc/apache2/sites-enabled/000-blog.conf:1)
                 port 80 namevhost blog.example (/etc/apache2/sites-enabled/000-blog.conf:1)
                 port 80 namevhost shop.example (/etc/apache2/sites-enabled/shop.conf:1)
                         alias www.shop.example
                         wild alias *.shop.example
                 port 80 namevhost shop.example (/etc/apache2/sites-enabled/shop-redirect.conf:3)
        *:443                  shop.example (/etc/apache2/sites-enabled/shop-ssl.conf:2)
        ServerRoot: "/etc/apache2"
        Main DocumentRoot: "/var/www/html"
        """

    static let dump = """
        # In file: /etc/apache2/sites-enabled/shop.conf
        #   1:
        <VirtualHost *:80>
          #   2:
          ServerName shop.example
          #   4:
          DocumentRoot /srv/shop
          #   5:
          Alias /wp-content "/var/lib/shop/wp-content"
        </VirtualHost>
        # In file: /etc/apache2/sites-enabled/shop-redirect.conf
        #   3:
        <VirtualHost *:80>
          #   4:
          RewriteEngine on
          #   6:
          RewriteRule ^ https://%{SERVER_NAME}%{REQUEST_URI} [END,NE,R=permanent]
        </VirtualHost>
        """

    @Test func theSummaryListsEachVhostOnceWithItsNames() {
        let hosts = VirtualHostListing.parse(summary: Self.summary)
        #expect(
            hosts.map(\.location) == [
                "/etc/apache2/sites-enabled/000-blog.conf:1", "/etc/apache2/sites-enabled/shop.conf:1",
                "/etc/apache2/sites-enabled/shop-redirect.conf:3", "/etc/apache2/sites-enabled/shop-ssl.conf:2",
            ]
        )
        #expect(hosts[1].aliases == ["www.shop.example", "*.shop.example"])
        #expect(hosts[3].port == 443 && hosts[3].serverName == "shop.example")
        #expect(hosts[1].answers(host: "WWW.shop.example") && hosts[1].answers(host: "img.shop.example"))
        #expect(!hosts[0].answers(host: "shop.example"))
    }

    @Test func theDumpGivesDocumentRootAliasesAndRedirects() {
        var hosts = VirtualHostListing.parse(summary: Self.summary)
        VirtualHostListing.addDirectives(from: Self.dump, to: &hosts)
        #expect(hosts[1].documentRoot == "/srv/shop")
        #expect(hosts[1].pathAliases.map { "\($0.urlPath) \($0.directory)" } == ["/wp-content /var/lib/shop/wp-content"])
        #expect(!hosts[1].onlyRedirects)
        #expect(hosts[2].onlyRedirects)
    }

    @Test func theSiteURLChoosesOrTheRefusalListsCandidates() throws {
        var hosts = VirtualHostListing.parse(summary: Self.summary)
        VirtualHostListing.addDirectives(from: Self.dump, to: &hosts)
        // http://shop.example: two vhosts have the name, one only redirects: the other serves it.
        #expect(try VirtualHostChoice.choose(siteURL: "http://shop.example", docroot: "/srv/shop", among: hosts).location.hasSuffix("shop.conf:1"))
        #expect(try VirtualHostChoice.choose(siteURL: "https://shop.example", docroot: "/srv/shop", among: hosts).port == 443)
        #expect(throws: VirtualHostRefusal.self) { try VirtualHostChoice.choose(siteURL: "http://other.example", docroot: "/srv/shop", among: hosts) }
        #expect(throws: VirtualHostRefusal.self) {
            try VirtualHostChoice.choose(siteURL: "http://shop.example:8080", docroot: "/srv/shop", among: hosts)
        }
        do {
            _ = try VirtualHostChoice.choose(siteURL: "http://shop.example", docroot: "/srv/elsewhere", among: hosts)
            Issue.record("a vhost with another DocumentRoot was chosen")
        } catch {
            #expect(error.description.contains("serves DocumentRoot /srv/shop, not the site's docroot /srv/elsewhere"))
            #expect(error.description.contains("shop.conf:1"))
        }
        // Only the redirecting vhost answers: refused, it serves no page.
        let onlyRedirect = hosts.filter { !$0.location.hasSuffix("shop.conf:1") }
        do {
            _ = try VirtualHostChoice.choose(siteURL: "http://shop.example", docroot: "/srv/shop", among: onlyRedirect)
            Issue.record("a redirect-only vhost was chosen")
        } catch {
            #expect(error.description.contains("only redirects"))
        }
        let picked = try VirtualHostChoice.choose(
            siteURL: "http://other.example",
            docroot: "/srv/shop",
            among: hosts,
            pick: "/etc/apache2/sites-enabled/000-blog.conf:1"
        )
        #expect(picked.serverName == "blog.example")
    }
}
