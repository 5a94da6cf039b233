// swift-tools-version:5.9
// The view models of the iOS demo app (async/await, ObservableObject), on
// the Satchel Swift package. `swift test` runs their tests against a server
// named by SATCHEL_SERVER and SATCHEL_ADMIN (skipped without them).
import PackageDescription

let package = Package(
    name: "SatchelDemoModel",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "SatchelDemoModel", targets: ["SatchelDemoModel"]),
    ],
    dependencies: [
        .package(path: "../../bindings/swift"),
    ],
    targets: [
        .target(name: "SatchelDemoModel", dependencies: [.product(name: "Satchel", package: "swift")]),
        .testTarget(name: "SatchelDemoModelTests", dependencies: ["SatchelDemoModel"]),
    ]
)
