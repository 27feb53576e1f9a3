// swift-tools-version:6.1
// Builds swift-openapi-generator for scripts/openapi-generate.sh (not part of the app's build).
import PackageDescription

let package = Package(
    name: "cutover-openapi-tools",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3")
    ],
    targets: []
)
