import Foundation
import Satchel

/// Devices: enrol a new device (QR + code), list and remove devices, and
/// sync with progress (`BGTaskScheduler` runs ``syncEverySpace()``).
@MainActor
public final class DevicesViewModel: ObservableObject {
    /// Where an enrolment stands on this device.
    public enum Enrolment: Equatable {
        case idle
        /// New device: show this as a QR code to a device of the space.
        case showing(uri: String)
        /// New device: the approving device showed a code; compare it with this one.
        case compare(spaceName: String, code: String)
        /// Approving device: the code to compare with the new device's screen.
        case approved(code: String)
        case joined(spaceId: String)
        case failed(String)
    }

    @Published public private(set) var enrolment: Enrolment = .idle
    @Published public private(set) var devices: [DeviceInfo] = []
    /// The running sync's progress (nil when none has reported).
    @Published public private(set) var progress: SyncProgress?
    @Published public private(set) var syncing = false
    /// What the last finished sync did.
    @Published public private(set) var lastSync: SyncReport?
    private let session: SatchelSession
    private let settings: DisplaySettings

    public init(session: SatchelSession, settings: DisplaySettings = DisplaySettings()) {
        self.session = session
        self.settings = settings
    }

    private func step(_ f: () async throws -> Enrolment) async {
        do { enrolment = try await f() } catch { enrolment = .failed(Words.reason(error, settings.language)) }
    }

    /// On the new device: the enrolment QR.
    public func request() async { await step { .showing(uri: try await session.wallet.requestEnrolment(server: session.server)) } }

    /// On a device of the space, after scanning the QR: approve and show the code.
    public func approve(spaceId: String, scanned: String) async {
        await step { .approved(code: try await session.wallet.approveEnrolment(spaceId: spaceId, requestUri: scanned, server: session.server)) }
    }

    /// On the new device, once approved: the code to compare.
    public func check() async {
        await step {
            let offer = try await session.wallet.enrolmentOffer(server: session.server)
            return .compare(spaceName: offer.spaceName, code: offer.code)
        }
    }

    /// On the new device, after the person confirmed both codes match: join and sync.
    public func confirm(code: String) async {
        await step {
            let space = try await session.wallet.completeEnrolment(server: session.server, confirmedCode: code)
            _ = try await sync(spaceId: space.id)
            return .joined(spaceId: space.id)
        }
    }

    /// The codes differ (or the person stopped): nothing joins.
    public func cancel() { enrolment = .idle }

    /// The space's devices, as the server knows them.
    @discardableResult
    public func list(spaceId: String) async throws -> [DeviceInfo] {
        devices = try await session.wallet.devices(spaceId: spaceId, server: session.server)
        return devices
    }

    /// Removes a lost device: it can no longer read the space.
    public func remove(spaceId: String, deviceId: String) async throws {
        try await session.wallet.removeDevice(spaceId: spaceId, deviceId: deviceId, server: session.server)
        try await list(spaceId: spaceId)
    }

    /// One sync run of a space, with progress.
    @discardableResult
    public func sync(spaceId: String) async throws -> SyncReport {
        final class Listener: SyncListener, @unchecked Sendable {
            let report: (SyncProgress) -> Void
            init(_ report: @escaping (SyncProgress) -> Void) { self.report = report }
            func onProgress(progress: SyncProgress) { report(progress) }
        }
        syncing = true
        progress = nil
        defer { syncing = false }
        let report = try await session.wallet.sync(spaceId: spaceId, server: session.server, listener: Listener { p in
            Task { @MainActor in self.progress = p }
        })
        lastSync = report
        return report
    }

    /// One sync of every space this wallet holds, for `BGTaskScheduler`.
    /// Stops at the first failure or when the calling task is cancelled
    /// (the system's expiration handler cancels it); true when all synced.
    public func syncEverySpace() async -> Bool {
        do {
            for space in try await session.spaces() {
                try Task.checkCancellation()
                try await sync(spaceId: space.id)
            }
            return true
        } catch {
            return false
        }
    }
}

/// Export the space (portability), and import one. Satchel refuses a
/// passphrase shorter than it accepts, with a readable reason.
@MainActor
public final class ExportViewModel: ObservableObject {
    private let session: SatchelSession

    public init(session: SatchelSession) { self.session = session }

    /// The sealed, signed file (write it where the person chooses).
    public func export(spaceId: String, passphrase: String) async throws -> Data {
        try await session.wallet.exportSpace(spaceId: spaceId, passphrase: passphrase)
    }

    /// Opens an exported file into this wallet. Credentials bound to the
    /// old device's key are listed in `toReissue`; to sign for the space
    /// here, enrol this device from a device of the space.
    public func importSpace(file: Data, passphrase: String) async throws -> ImportReport {
        try await session.wallet.importSpace(file: file, passphrase: passphrase)
    }

    /// Imports a picked file, reading no more than any export can be: a
    /// larger file is refused before it fills memory.
    public func importSpace(from url: URL, passphrase: String) async throws -> ImportReport {
        try await importSpace(file: try Self.read(url, limit: maxExportBytes()), passphrase: passphrase)
    }

    /// Reads `url` in chunks, refusing it past `limit` bytes.
    nonisolated static func read(_ url: URL, limit: UInt64) throws -> Data {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var data = Data()
        while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
            data.append(chunk)
            if UInt64(data.count) > limit {
                throw SatchelError.InvalidInput(message: "the file is larger than any exported space")
            }
        }
        return data
    }
}
