import Foundation

/// Hands a wallet's changes to an `AsyncStream`.
private final class StreamListener: WalletListener, @unchecked Sendable {
    private let continuation: AsyncStream<WalletChange>.Continuation

    init(_ continuation: AsyncStream<WalletChange>.Continuation) {
        self.continuation = continuation
    }

    func onChange(change: WalletChange) throws {
        continuation.yield(change)
    }
}

public extension Wallet {
    /// Every change committed to this wallet from now on, as an
    /// `AsyncStream`. Iterating registers a listener; ending the iteration
    /// (or cancelling its task) stops it. Changes carry ids and states
    /// only: re-read what a view shows.
    ///
    /// ```swift
    /// for await change in wallet.changes() {
    ///     if case .credentialAdded(let spaceId, _) = change { await reload(spaceId) }
    /// }
    /// ```
    func changes() -> AsyncStream<WalletChange> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let subscription = self.observe(listener: StreamListener(continuation))
            continuation.onTermination = { _ in subscription.stop() }
        }
    }
}
