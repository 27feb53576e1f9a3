import CutoverCrawl
import Testing

@Suite struct PHPIncludesTests {
    @Test func literalDirAndConstantFormsResolve() {
        let source = """
            <?php
            define('ROOT', dirname(__DIR__));
            const LIB = __DIR__ . '/lib';
            include __DIR__ . '/_header.php';
            require_once(dirname(__FILE__) . "/conf/settings.php");
            include_once ROOT . '/shared/util.php';
            require LIB . '/db.php';
            include 'relative.php';
            require '../up.php';
            // include __DIR__ . '/commented.php';
            /* require __DIR__ . '/also-commented.php'; */
            include $path;
            include get_path() . '/x.php';
            echo "include 'not-code.php';";
            ?>
            <?php include __DIR__ . '/_footer.php' ?>
            """
        let result = PHPIncludes.scan(source, file: "/srv/www/blog/post.php")
        #expect(
            result.targets == [
                "/srv/www/blog/_header.php", "/srv/www/blog/conf/settings.php", "/srv/www/shared/util.php", "/srv/www/blog/lib/db.php",
                "/srv/www/blog/relative.php", "/srv/www/up.php", "/srv/www/blog/_footer.php",
            ],
            "\(result.targets)"
        )
        #expect(result.unresolved == 2)
    }
}
