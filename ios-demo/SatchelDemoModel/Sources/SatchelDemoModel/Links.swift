import Foundation

/// What a scanned QR code or an opened link asks the app to do. The app
/// routes every scan and every `onOpenURL` through this one reading.
public enum IncomingLink: Equatable, Sendable {
    /// `openid-credential-offer://…`: receive a credential.
    case credentialOffer(String)
    /// `openid4vp://…`, or a request object itself: review a request.
    case presentationRequest(String)
    /// `satchel-enrol:…`: a new device asks to join a space of this one.
    case enrolment(String)

    /// Reads `text`; throws ``IncomingLinkError/unknown`` for anything else.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = trimmed.lowercased()
        if lower.hasPrefix("openid-credential-offer:") {
            self = .credentialOffer(trimmed)
        } else if lower.hasPrefix("openid4vp:") {
            self = .presentationRequest(trimmed)
        } else if lower.hasPrefix("satchel-enrol:") {
            self = .enrolment(trimmed)
        } else if IncomingLink.isCompactJws(trimmed) {
            self = .presentationRequest(trimmed)
        } else {
            throw IncomingLinkError.unknown
        }
    }

    /// Three base64url parts: a signed request object scanned by value.
    private static func isCompactJws(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let alphabet = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return parts.allSatisfy { $0.unicodeScalars.allSatisfy(alphabet.contains) }
    }
}

/// A scan or link the app does not handle.
public enum IncomingLinkError: Error, Equatable {
    /// Not an offer, a request or an enrolment.
    case unknown
}
