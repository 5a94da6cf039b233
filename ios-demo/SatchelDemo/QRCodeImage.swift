import CoreImage
import CoreImage.CIFilterBuiltins
import SwiftUI
import UIKit

/// A string drawn as a QR code (Core Image's generator), sharp at any size,
/// on white so any camera reads it, with what VoiceOver says about it.
struct QRCodeImage: View {
    let text: String
    let accessibilityText: String
    private let image: UIImage?

    init(_ text: String, accessibilityText: String) {
        self.text = text
        self.accessibilityText = accessibilityText
        image = Self.render(text)
    }

    var body: some View {
        if let image {
            Image(uiImage: image)
                .interpolation(.none)
                .resizable()
                .scaledToFit()
                .frame(maxWidth: 340)
                .padding(16)
                .background(Color.white)
                .clipShape(RoundedRectangle(cornerRadius: 12))
                .accessibilityLabel(accessibilityText)
                .accessibilityAddTraits(.isImage)
        } else {
            // Too long for a QR code: show the text itself, to copy.
            Text(text)
                .font(.footnote.monospaced())
                .textSelection(.enabled)
                .accessibilityLabel(accessibilityText)
        }
    }

    /// Renders `text`; long payloads (a licence with its delegation) use
    /// the lowest error correction, which holds the most.
    static func render(_ text: String) -> UIImage? {
        let filter = CIFilter.qrCodeGenerator()
        filter.message = Data(text.utf8)
        filter.correctionLevel = text.utf8.count > 1_000 ? "L" : "M"
        guard let output = filter.outputImage else { return nil }
        let scaled = output.transformed(by: CGAffineTransform(scaleX: 10, y: 10))
        guard let cgImage = CIContext().createCGImage(scaled, from: scaled.extent) else { return nil }
        return UIImage(cgImage: cgImage)
    }
}
