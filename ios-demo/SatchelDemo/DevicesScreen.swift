import Satchel
import SatchelDemoModel
import SwiftUI

/// The space's devices: "Sync now" with progress (primary), the devices
/// the server knows with "Remove" for a lost one, adding a new device
/// (scan its QR, show the code), joining another space from this device,
/// and exporting the space.
struct DevicesScreen: View {
    let session: SatchelSession
    let space: Space
    let settings: DisplaySettings
    @StateObject private var model: DevicesViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var removing: DeviceInfo?
    @State private var removed = false

    init(session: SatchelSession, space: Space, settings: DisplaySettings) {
        self.session = session
        self.space = space
        self.settings = settings
        _model = StateObject(wrappedValue: DevicesViewModel(session: session, settings: settings))
    }

    var body: some View {
        NavigationStack {
            List {
                SpacePicker()
                Section {
                    Button {
                        activity.run(settings.language) {
                            try await model.sync(spaceId: space.id)
                            try await model.list(spaceId: space.id)
                        }
                    } label: {
                        SwiftUI.Label(state.t(.syncNow), systemImage: "arrow.triangle.2.circlepath").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .disabled(activity.busy)
                    .accessibilityLabel(state.t(.syncNow))
                    SyncStatus(model: model)
                    if removed { DoneNote(text: state.t(.deviceRemoved)) }
                    ActivityNotes(activity: activity)
                }
                Section(state.t(.devicesTitle)) {
                    ForEach(model.devices, id: \.deviceId) { device in
                        DeviceRow(device: device) { removing = device }
                            .disabled(activity.busy)
                    }
                }
                Section {
                    NavigationLink {
                        AddDeviceView(session: session, spaceId: space.id, settings: settings)
                    } label: {
                        SwiftUI.Label(state.t(.deviceAdd), systemImage: "plus.viewfinder").font(.body)
                    }
                    .accessibilityLabel(state.t(.deviceAdd))
                    NavigationLink {
                        JoinSpaceView(session: session, settings: settings)
                    } label: {
                        SwiftUI.Label(state.t(.joinFromDevice), systemImage: "qrcode").font(.body)
                    }
                    .accessibilityLabel(state.t(.joinFromDevice))
                    NavigationLink {
                        ExportView(session: session, space: space)
                    } label: {
                        SwiftUI.Label(state.t(.exportTitle), systemImage: "square.and.arrow.up").font(.body)
                    }
                    .accessibilityLabel(state.t(.exportTitle))
                }
            }
            .navigationTitle(state.t(.devicesTitle))
            .refreshable { _ = try? await model.list(spaceId: space.id) }
            .task { activity.run(settings.language) { _ = try await model.list(spaceId: space.id) } }
            .confirmationDialog(state.t(.deviceRemoveDescription, removing?.deviceId ?? ""),
                                isPresented: Binding(get: { removing != nil }, set: { if !$0 { removing = nil } }),
                                titleVisibility: .visible) {
                if let device = removing {
                    Button(state.t(.deviceRemove), role: .destructive) {
                        activity.run(settings.language) {
                            try await model.remove(spaceId: space.id, deviceId: device.deviceId)
                            removed = true
                        }
                    }
                    .accessibilityLabel(state.t(.deviceRemoveDescription, device.deviceId))
                }
                Button(state.t(.cancel), role: .cancel) { removing = nil }
                    .accessibilityLabel(state.t(.cancel))
            }
        }
    }
}

/// A sync running (with its progress) or the last one's result.
struct SyncStatus: View {
    @ObservedObject var model: DevicesViewModel
    @EnvironmentObject private var state: AppState

    var body: some View {
        if model.syncing {
            if let progress = model.progress, progress.toPush > 0 {
                let text = state.t(.syncProgress, progress.pushed, progress.toPush)
                ProgressView(value: Double(progress.pushed), total: Double(progress.toPush)) {
                    Text(text).font(.body)
                }
                .accessibilityLabel(text)
            } else {
                WorkingNote()
            }
        } else if let report = model.lastSync {
            DoneNote(text: state.t(.synced, report.pushed, report.pulled))
        }
    }
}

/// One device: its id, "This device", removed or not; "Remove" for the others.
struct DeviceRow: View {
    let device: DeviceInfo
    let remove: () -> Void
    @EnvironmentObject private var state: AppState

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            Text(device.deviceId).font(.body.monospaced()).lineLimit(1).truncationMode(.middle)
            if device.thisDevice {
                StatusBadge(text: state.t(.deviceThis), systemImage: "iphone", tint: .accentColor)
            }
            if device.removedAt != nil {
                StatusBadge(text: state.t(.deviceRemoved), systemImage: "minus.circle.fill", tint: .secondary)
            } else if !device.thisDevice {
                Button(role: .destructive) {
                    remove()
                } label: {
                    SwiftUI.Label(state.t(.deviceRemove), systemImage: "trash")
                }
                .buttonStyle(.bordered)
                .accessibilityLabel(state.t(.deviceRemoveDescription, device.deviceId))
            }
        }
        .padding(.vertical, 4)
    }
}

/// On a device of the space: scan the new device's QR code, then show the
/// code to compare.
struct AddDeviceView: View {
    let session: SatchelSession
    let spaceId: String
    let settings: DisplaySettings
    @EnvironmentObject private var state: AppState
    @State private var scanning = false
    @State private var scanned: String?

    var body: some View {
        Group {
            if let scanned {
                ApproveDeviceView(session: session, spaceId: spaceId, settings: settings, scanned: scanned)
            } else {
                VStack(spacing: 20) {
                    Text(state.t(.deviceScanNew)).font(.body)
                    Button {
                        scanning = true
                    } label: {
                        SwiftUI.Label(state.t(.deviceScanNew), systemImage: "qrcode.viewfinder").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.deviceScanNew))
                    Spacer()
                }
                .padding()
            }
        }
        .navigationTitle(state.t(.deviceAdd))
        .sheet(isPresented: $scanning) {
            QRScanSheet(title: state.t(.deviceScanNew)) { text in
                scanning = false
                scanned = text
            }
        }
    }
}

/// Approves a scanned enrolment request (from the camera or a
/// `satchel-enrol:` link) and shows the code the new device must show too.
struct ApproveDeviceView: View {
    let spaceId: String
    let scanned: String
    @StateObject private var model: DevicesViewModel
    @EnvironmentObject private var state: AppState

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings, scanned: String) {
        self.spaceId = spaceId
        self.scanned = scanned
        _model = StateObject(wrappedValue: DevicesViewModel(session: session, settings: settings))
    }

    var body: some View {
        VStack(spacing: 20) {
            switch model.enrolment {
            case let .approved(code):
                Text(state.t(.deviceCompare)).font(.title3)
                CodeText(code: code)
            case let .failed(reason):
                FailureNote(reason: reason)
            default:
                WorkingNote()
            }
            Spacer()
        }
        .padding()
        .navigationTitle(state.t(.deviceAdd))
        .task { await model.approve(spaceId: spaceId, scanned: scanned) }
    }
}

/// A confirmation code, large and read out digit by digit.
struct CodeText: View {
    let code: String
    @EnvironmentObject private var state: AppState

    var body: some View {
        Text(state.t(.deviceCode, code))
            .font(.largeTitle.monospacedDigit().weight(.bold))
            .accessibilityLabel(state.t(.deviceCode, code.map(String.init).joined(separator: " ")))
    }
}

/// On the new device: show the enrolment QR, then compare the code the
/// approving device shows and confirm (this device joins and syncs).
struct JoinSpaceView: View {
    @StateObject private var model: DevicesViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @Environment(\.dismiss) private var dismiss
    private let settings: DisplaySettings

    init(session: SatchelSession, settings: DisplaySettings) {
        self.settings = settings
        _model = StateObject(wrappedValue: DevicesViewModel(session: session, settings: settings))
    }

    var body: some View {
        ScrollView {
            VStack(spacing: 20) {
                switch model.enrolment {
                case .idle:
                    WorkingNote()
                case let .showing(uri):
                    QRCodeImage(uri, accessibilityText: state.t(.deviceShowQr))
                    Text(state.t(.deviceShowQr)).font(.body)
                    Button(state.t(.deviceCheck)) { Task { await model.check() } }
                        .primaryAction()
                        .accessibilityLabel(state.t(.deviceCheck))
                case let .compare(spaceName, code):
                    Text(state.t(.deviceCompare)).font(.title3)
                    Text(spaceName).font(.headline)
                    CodeText(code: code)
                    Button(state.t(.deviceMatch)) { Task { await model.confirm(code: code) } }
                        .primaryAction()
                        .accessibilityLabel(state.t(.deviceMatch))
                    Button(state.t(.deviceNoMatch), role: .cancel) {
                        model.cancel()
                        dismiss()
                    }
                    .accessibilityLabel(state.t(.deviceNoMatch))
                    SyncStatus(model: model)
                case .approved:
                    EmptyView()
                case .joined:
                    DoneNote(text: state.t(.deviceJoined))
                case let .failed(reason):
                    FailureNote(reason: reason)
                    Button(state.t(.retry)) { Task { await model.request() } }
                        .primaryAction()
                        .accessibilityLabel(state.t(.retry))
                }
            }
            .padding()
        }
        .navigationTitle(state.t(.joinFromDevice))
        .task { await model.request() }
        .onChange(of: model.enrolment) { _, now in
            if case let .joined(spaceId) = now {
                Task { await state.reloadSpaces(select: spaceId) }
            }
        }
    }
}
