import Satchel
import SatchelDemoModel
import SwiftUI

/// Business: for a company's space, its members (add one by scanning the
/// key their wallet shows), delegating an agent to present a licence for a
/// purpose, to an audience, for some days (shown as a QR code for the
/// agent), and revoking it. Without a company space: creating one. For the
/// agent (in their personal space): showing their key, accepting a
/// company's delegation, and presenting the licence through the review.
struct EnterpriseScreen: View {
    let session: SatchelSession
    let settings: DisplaySettings
    @EnvironmentObject private var state: AppState

    var body: some View {
        NavigationStack {
            Form {
                if let company = state.space(.enterprise) {
                    CompanySections(session: session, spaceId: company.id, settings: settings)
                } else {
                    Section {
                        Text(state.t(.notEnterprise)).font(.body)
                    }
                    CreateSpaceForm(session: session, settings: settings, kinds: [.enterprise])
                }
                if let personal = state.space(.personal) {
                    Section {
                        NavigationLink {
                            AgentView(session: session, spaceId: personal.id, settings: settings)
                        } label: {
                            SwiftUI.Label(state.t(.holdLicence), systemImage: "person.badge.key").font(.body)
                        }
                        .accessibilityLabel(state.t(.holdLicence))
                    }
                }
            }
            .navigationTitle(state.t(.tabEnterprise))
        }
    }
}

/// The company's members and the delegations made here.
struct CompanySections: View {
    @StateObject private var model: EnterpriseViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    private let settings: DisplaySettings

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.settings = settings
        _model = StateObject(wrappedValue: EnterpriseViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        Section(state.t(.members)) {
            ForEach(model.members, id: \.id) { member in
                LabeledContent(member.name) {
                    Text(Words.role(member.role, settings.language)).font(.body)
                }
                .accessibilityElement(children: .combine)
            }
            NavigationLink {
                AddMemberView(model: model)
            } label: {
                SwiftUI.Label(state.t(.memberAdd), systemImage: "person.crop.circle.badge.plus").font(.body)
            }
            .accessibilityLabel(state.t(.memberAdd))
            ActivityNotes(activity: activity)
        }
        .task { activity.run(settings.language) { try await model.refresh() } }
        Section {
            NavigationLink {
                DelegateView(model: model)
            } label: {
                SwiftUI.Label(state.t(.delegate), systemImage: "signature").font(.body)
            }
            .accessibilityLabel(state.t(.delegate))
            ForEach(model.delegations) { delegation in
                NavigationLink {
                    Form { DelegationDetail(model: model, delegationId: delegation.id) }
                        .navigationTitle(state.t(.delegate))
                } label: {
                    DelegationRow(delegation: delegation)
                }
            }
        }
    }
}

/// Add a member: a name, a role, and their key scanned from their wallet.
struct AddMemberView: View {
    @ObservedObject var model: EnterpriseViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @Environment(\.dismiss) private var dismiss
    @State private var name = ""
    @State private var role: MemberRole = .agent
    @State private var jwk: String?
    @State private var scanning = false

    var body: some View {
        Form {
            Section {
                TextField(state.t(.onboardingName), text: $name)
                    .font(.body)
                    .accessibilityLabel(state.t(.onboardingName))
                Picker(state.t(.memberAdd), selection: $role) {
                    ForEach([MemberRole.agent, .administrator, .legalRepresentative], id: \.self) { role in
                        Text(Words.role(role, state.settings.language)).tag(role)
                    }
                }
                .accessibilityLabel(Words.role(role, state.settings.language))
            }
            Section(state.t(.memberKey)) {
                if let jwk {
                    Text(jwk).font(.footnote.monospaced()).lineLimit(2).truncationMode(.middle)
                        .accessibilityLabel(state.t(.memberKey))
                }
                Button {
                    scanning = true
                } label: {
                    SwiftUI.Label(state.t(.memberKey), systemImage: "qrcode.viewfinder")
                }
                .accessibilityLabel(state.t(.memberKey))
            }
            Section {
                Button(state.t(.save)) {
                    guard let jwk else { return }
                    activity.run(state.settings.language) {
                        try await model.addMember(name: name.trimmingCharacters(in: .whitespacesAndNewlines), role: role, jwk: jwk)
                        dismiss()
                    }
                }
                .primaryAction()
                .disabled(jwk == nil || name.trimmingCharacters(in: .whitespaces).isEmpty || activity.busy)
                .accessibilityLabel(state.t(.save) + " " + state.t(.memberAdd))
                ActivityNotes(activity: activity)
            }
        }
        .navigationTitle(state.t(.memberAdd))
        .sheet(isPresented: $scanning) {
            QRScanSheet(title: state.t(.memberKey)) { text in
                scanning = false
                jwk = text
            }
        }
    }
}

/// Delegate an agent: which member, which licence, for what, to whom, for
/// how many days; the result is a QR code for the agent.
struct DelegateView: View {
    @ObservedObject var model: EnterpriseViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var memberId = ""
    @State private var licenceId = ""
    @State private var purpose = Words.delegablePurposes[0]
    @State private var audience = ""
    @State private var days: Int64 = 7
    @State private var made: String?

    var body: some View {
        Form {
            if let made {
                DelegationDetail(model: model, delegationId: made)
            } else if model.licences.isEmpty && !activity.busy {
                Section {
                    Text(state.t(.noLicence)).font(.body)
                    ActivityNotes(activity: activity)
                }
            } else {
                Section {
                    Picker(state.t(.members), selection: $memberId) {
                        ForEach(model.members, id: \.id) { member in
                            Text(verbatim: "\(member.name) · \(Words.role(member.role, state.settings.language))").tag(member.id)
                        }
                    }
                    .accessibilityLabel(state.t(.members))
                    Picker(state.t(.tabWallet), selection: $licenceId) {
                        ForEach(model.licences) { licence in
                            Text(licence.label ?? licence.title).tag(licence.id)
                        }
                    }
                    .accessibilityLabel(state.t(.tabWallet))
                    Picker(state.t(.delegatePurpose), selection: $purpose) {
                        ForEach(Words.delegablePurposes, id: \.self) { dpv in
                            Text(Words.purpose(dpv, state.settings.language)).tag(dpv)
                        }
                    }
                    .accessibilityLabel(state.t(.delegatePurpose))
                    TextField(state.t(.delegateAudience), text: $audience)
                        .font(.body)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                        .accessibilityLabel(state.t(.delegateAudience))
                    Stepper(value: $days, in: 1 ... 365) {
                        Text(state.t(.pair, state.t(.delegateDays), "\(days)")).font(.body)
                    }
                    .accessibilityLabel(state.t(.delegateDays))
                    .accessibilityValue("\(days)")
                }
                Section {
                    Button(state.t(.delegate)) {
                        activity.run(state.settings.language) {
                            let view = try await model.delegate(licenceId: licenceId, memberId: memberId, purpose: purpose,
                                                                audience: audience.trimmingCharacters(in: .whitespaces), days: days)
                            made = view.id
                        }
                    }
                    .primaryAction()
                    .disabled(memberId.isEmpty || licenceId.isEmpty || audience.trimmingCharacters(in: .whitespaces).isEmpty || activity.busy)
                    .accessibilityLabel(state.t(.delegate))
                    ActivityNotes(activity: activity)
                }
            }
        }
        .navigationTitle(state.t(.delegate))
        .task {
            activity.run(state.settings.language) {
                try await model.refresh()
                if memberId.isEmpty { memberId = model.members.first(where: { $0.role == .agent })?.id ?? model.members.first?.id ?? "" }
                if licenceId.isEmpty { licenceId = model.licences.first?.id ?? "" }
            }
        }
    }
}

/// One delegation in the list.
struct DelegationRow: View {
    let delegation: DelegationView
    @EnvironmentObject private var state: AppState

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(delegation.memberName).font(.headline)
            Text(verbatim: "\(delegation.purpose) · \(delegation.audience)").font(.subheadline)
            Text(delegation.windowText).font(.footnote).foregroundStyle(.secondary)
            if delegation.revoked {
                StatusBadge(text: state.t(.revoke), systemImage: "xmark.octagon.fill", tint: .secondary)
            }
        }
        .accessibilityElement(children: .combine)
    }
}

/// A delegation: the QR code for the agent (also shareable), and "Revoke".
struct DelegationDetail: View {
    @ObservedObject var model: EnterpriseViewModel
    let delegationId: String
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState

    var body: some View {
        if let delegation = model.delegations.first(where: { $0.id == delegationId }) {
            Section {
                DelegationRow(delegation: delegation)
                if !delegation.revoked {
                    Text(state.t(.delegated)).font(.body)
                    QRCodeImage(delegation.handOver, accessibilityText: state.t(.delegated))
                        .frame(maxWidth: .infinity)
                    ShareLink(item: delegation.handOver) {
                        SwiftUI.Label(state.t(.share), systemImage: "square.and.arrow.up")
                    }
                    .accessibilityLabel(state.t(.share))
                    .secondaryAction(state.settings)
                    Button(role: .destructive) {
                        activity.run(state.settings.language) { try await model.revoke(delegationId: delegation.id) }
                    } label: {
                        SwiftUI.Label(state.t(.revoke), systemImage: "xmark.octagon").frame(maxWidth: .infinity)
                    }
                    .buttonStyle(.bordered)
                    .controlSize(.large)
                    .disabled(activity.busy)
                    .accessibilityLabel(state.t(.revoke))
                }
                ActivityNotes(activity: activity)
            }
        }
    }
}

/// The agent's side: their key as a QR code for the company, accepting the
/// company's delegation by scanning its QR code, then presenting the
/// licence by scanning a request (reviewed like any other).
struct AgentView: View {
    let spaceId: String
    @StateObject private var model: AgentViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var key: String?
    @State private var scanning = false

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.spaceId = spaceId
        _model = StateObject(wrappedValue: AgentViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        Form {
            Section(state.t(.memberKey)) {
                if let key {
                    QRCodeImage(key, accessibilityText: state.t(.memberKey))
                        .frame(maxWidth: .infinity)
                }
            }
            Section {
                if let held = model.held {
                    CardRow(card: held)
                    Button {
                        state.selectedSpaceId = spaceId
                        state.sheet = .scan(.presentAsAgent)
                    } label: {
                        SwiftUI.Label(state.t(.presentAsAgent), systemImage: "qrcode.viewfinder").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.presentAsAgent))
                } else {
                    Button {
                        scanning = true
                    } label: {
                        SwiftUI.Label(state.t(.holdLicence), systemImage: "qrcode.viewfinder").frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .disabled(activity.busy)
                    .accessibilityLabel(state.t(.holdLicence))
                }
                ActivityNotes(activity: activity)
            }
        }
        .navigationTitle(state.t(.holdLicence))
        .task {
            activity.run(state.settings.language) {
                key = try await model.memberKey()
                try await model.refresh()
            }
        }
        .sheet(isPresented: $scanning) {
            QRScanSheet(title: state.t(.holdLicence)) { text in
                scanning = false
                activity.run(state.settings.language) { _ = try await model.hold(handOver: text) }
            }
        }
    }
}
