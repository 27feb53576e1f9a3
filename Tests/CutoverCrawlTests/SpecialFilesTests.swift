import CutoverCore
import CutoverCrawl
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The walker reads regular files only and never enters a kernel file system, so no crawl can
/// block on `/proc/kmsg` or read a device.
@Suite struct SpecialFilesTests {
    /// A stored docroot from an older version that points into /proc or /sys: the crawl refuses
    /// it as a whole, before reading anything.
    @Test(arguments: ["/proc/sys/kernel", "/sys/kernel", "/proc/self"])
    func kernelFileSystemDocrootIsRefused(docroot: String) async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        var site = fixture.site
        site.docroot = docroot
        #expect(throws: CrawlError.self) { try storeCall { try Crawler(database: fixture.database, logger: .init(label: "t")).crawl(site: site) } }
        do {
            _ = try storeCall { try Crawler(database: fixture.database, logger: .init(label: "t")).crawl(site: site) }
        } catch {
            #expect("\(error)".contains("kernel file system"), "\(error)")
        }
    }

    /// A proc mounted inside the docroot is reported and not entered (its kmsg would block forever).
    @Test(.enabled(if: Integration.isRoot, "mounting proc needs root")) func mountedProcIsNotEntered() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("index.php")
        let mountPoint = fixture.docroot + "/proc-inside"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = Glibc.mount("proc", mountPoint, "proc", 0, nil) == 0
        #expect(mounted, "mount -t proc failed: \(String(cString: strerror(errno)))")
        guard mounted else { return }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let result = try fixture.crawl()
        #expect(result.issues.contains { $0.kind == "pseudo-filesystem" && $0.filePath == "proc-inside" }, "\(result.issues)")
        #expect(try fixture.urls().keys.allSatisfy { !$0.hasPrefix("/proc-inside") })
        #expect(try fixture.urls()["/index.php"] != nil)
    }

    /// FIFOs, sockets and devices are skipped with an issue; the crawl does not block on them.
    @Test func specialFilesAreSkipped() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("index.php")
        #expect(mkfifo(fixture.docroot + "/pipe.php", 0o644) == 0)
        let result = try fixture.crawl()
        #expect(result.issues.contains { $0.kind == "not-a-file" && $0.filePath == "pipe.php" })
        #expect(try fixture.urls()["/pipe.php"] == nil)
    }
}
