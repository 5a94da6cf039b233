// swift-tools-version:5.9
// Satchel for iOS and macOS. Build the binary first on a Mac:
//   cargo xtask xcframework
// which writes SatchelFFI.xcframework beside this file and the generated
// Sources/Satchel/Satchel.swift.
import PackageDescription

let package = Package(
    name: "Satchel",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Satchel", targets: ["Satchel"]),
    ],
    targets: [
        .binaryTarget(name: "SatchelFFI", path: "SatchelFFI.xcframework"),
        .target(name: "Satchel", dependencies: ["SatchelFFI"], path: "Sources/Satchel"),
        .testTarget(name: "SatchelTests", dependencies: ["Satchel"], path: "Tests/SatchelTests"),
    ]
)
