import Satchel
import SatchelDemoModel
import SwiftUI

/// The wallet: a card per credential (type, issuer, status in words and
/// icon, expiry), kept fresh as credentials arrive or sync; "Scan to
/// receive a credential" opens the camera, and a card opens its details.
struct WalletScreen: View {
    let session: SatchelSession
    let settings: DisplaySettings
    @StateObject private var model: WalletViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState

    init(session: SatchelSession, spaceId: String, settings: DisplaySettings) {
        self.session = session
        self.settings = settings
        _model = StateObject(wrappedValue: WalletViewModel(session: session, spaceId: spaceId, settings: settings))
    }

    var body: some View {
        NavigationStack {
            List {
                SpacePicker()
                if model.cards.isEmpty && !activity.busy {
                    Text(state.t(.walletEmpty)).font(.body).foregroundStyle(.secondary)
                }
                ForEach(model.cards) { card in
                    NavigationLink {
                        CardDetailView(session: session, card: card, model: model)
                    } label: {
                        CardRow(card: card)
                    }
                    .accessibilityLabel(card.accessibilityLabel(settings.language))
                }
                Section {
                    Button {
                        state.sheet = .scan(.scanOffer)
                    } label: {
                        SwiftUI.Label(state.t(.scanOffer), systemImage: "qrcode.viewfinder")
                            .frame(maxWidth: .infinity)
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.scanOffer))
                    if let error = model.error { FailureNote(reason: error) }
                    ActivityNotes(activity: activity)
                }
            }
            .navigationTitle(state.t(.tabWallet))
            .refreshable { try? await model.refresh() }
            .task {
                activity.run(settings.language) { try await model.refresh() }
                await model.follow()
            }
        }
    }
}

/// One card: the person's name for it (if any), the type, the issuer, the
/// status in words with an icon, and the expiry.
struct CardRow: View {
    let card: CardView
    @EnvironmentObject private var state: AppState

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            Text(card.label ?? card.title).font(.headline)
            if card.label != nil {
                Text(card.title).font(.subheadline).foregroundStyle(.secondary)
            }
            if !card.issuer.isEmpty {
                Text(state.t(.issuedBy, card.issuer)).font(.subheadline)
            }
            StatusBadge(card.status, text: card.statusText)
            Text(card.expiryText).font(.footnote).foregroundStyle(.secondary)
        }
        .padding(.vertical, 6)
        .accessibilityElement(children: .combine)
        .accessibilityLabel(card.accessibilityLabel(state.settings.language))
    }
}

/// A card's details: "Where did my data go" (the primary action) and
/// renaming it (a secondary one, hidden in elder mode).
struct CardDetailView: View {
    let session: SatchelSession
    let card: CardView
    @ObservedObject var model: WalletViewModel
    @StateObject private var activity = Activity()
    @EnvironmentObject private var state: AppState
    @State private var name: String

    init(session: SatchelSession, card: CardView, model: WalletViewModel) {
        self.session = session
        self.card = card
        self.model = model
        _name = State(initialValue: card.label ?? "")
    }

    var body: some View {
        Form {
            Section {
                CardRow(card: card)
            }
            Section {
                NavigationLink {
                    TraceScreen(session: session, settings: state.settings, credentialId: card.id, title: card.label ?? card.title)
                } label: {
                    SwiftUI.Label(state.t(.trace), systemImage: "point.topleft.down.to.point.bottomright.curvepath").font(.body)
                }
                .accessibilityLabel(state.t(.trace))
            }
            Section(state.t(.rename)) {
                TextField(state.t(.labelHint), text: $name)
                    .font(.body)
                    .accessibilityLabel(state.t(.labelHint))
                Button(state.t(.save)) {
                    activity.run(state.settings.language) { try await model.label(id: card.id, label: name) }
                }
                .accessibilityLabel(state.t(.save) + " " + state.t(.labelHint))
                ActivityNotes(activity: activity)
            }
            .secondaryAction(state.settings)
        }
        .navigationTitle(card.label ?? card.title)
    }
}
